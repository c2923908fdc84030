/**
 * The tiler's best test, after MONAI's: stitch a pointwise predictor (x + 1, and others) over
 * many image shapes and get exactly its pointwise result back, with both blendings, several tile
 * batches, and with test-time augmentation; and check what the predictor is given.
 */
import { describe, expect, it } from 'vitest';
import type { GreyImage } from '../core/image.ts';
import { slidingWindowInference } from '../core/stitch.ts';
import { planTiles, type Blending, type TilePredictor } from '../core/tiling.ts';
import { withTta } from '../core/tta.ts';

function randomImage(width: number, height: number, seed: number): GreyImage<Float32Array> {
  let state = seed >>> 0 || 1;
  const data = new Float32Array(width * height);
  for (let i = 0; i < data.length; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    data[i] = (state / 2 ** 32) * 6 - 3;
  }
  return { width, height, data };
}

interface Call {
  n: number;
  height: number;
  width: number;
}

/** A pointwise predictor that records the shapes it was called with. */
function pointwise(f: (x: number) => number, calls: Call[] = []): TilePredictor {
  return async (tiles, n, height, width) => {
    calls.push({ n, height, width });
    expect(tiles.length).toBe(n * height * width);
    const out = new Float32Array(tiles.length);
    for (let i = 0; i < tiles.length; i++) out[i] = f(tiles[i]!);
    return out;
  };
}

function expectPointwise(result: GreyImage<Float32Array>, image: GreyImage<Float32Array>, f: (x: number) => number): void {
  expect([result.width, result.height]).toEqual([image.width, image.height]);
  let mismatches = 0;
  for (let i = 0; i < image.data.length; i++) if (result.data[i] !== Math.fround(f(image.data[i]!))) mismatches++;
  expect(mismatches).toBe(0);
}

const SMALL_TILING = { tile: 64, halo: 8, sizeMultiple: 16 };
const SHAPES: [number, number][] = [
  [1, 1], [2, 3], [7, 5], [16, 16], [17, 31], [33, 1], [1, 70], [64, 64], [65, 64], [100, 37], [130, 129], [200, 48], [255, 97],
];
const plusOne = (x: number) => x + 1;

describe('slidingWindowInference with a pointwise predictor', () => {
  for (const blending of ['gaussian', 'constant'] as Blending[]) {
    it(`gives exactly x + 1 back for ${SHAPES.length} shapes, tile 64, ${blending} blending`, async () => {
      for (const [width, height] of SHAPES) {
        const image = randomImage(width, height, width * 1000 + height);
        const result = await slidingWindowInference(image, pointwise(plusOne), { ...SMALL_TILING, blending });
        expectPointwise(result, image, plusOne);
      }
    });
  }

  it('gives exactly f(x) back for other pointwise functions and tile batches', async () => {
    const functions = [(x: number) => 2 * x - 3, (x: number) => 1 / (1 + Math.exp(-x)), (x: number) => x * x];
    for (const f of functions) {
      for (const tileBatch of [1, 3, 100]) {
        const image = randomImage(150, 90, tileBatch);
        expectPointwise(await slidingWindowInference(image, pointwise(f), { ...SMALL_TILING, tileBatch }), image, f);
      }
    }
  });

  it('gives exactly x + 1 back for 1000x700 and 2100x1700 with the contract defaults (tile 512, halo 32)', async () => {
    for (const [width, height] of [[1000, 700], [2100, 1700]] as [number, number][]) {
      const image = randomImage(width, height, 42);
      const calls: Call[] = [];
      const result = await slidingWindowInference(image, pointwise(plusOne, calls));
      expectPointwise(result, image, plusOne);
      const tiles = calls.reduce((sum, call) => sum + call.n, 0);
      const plan = planTiles(width, height);
      expect(tiles).toBe(plan.xs.length * plan.ys.length);
      expect(plan.ys.length).toBeGreaterThan(1);
      for (const call of calls) {
        expect([call.width, call.height]).toEqual([512, 512]);
        expect(call.n).toBeLessThanOrEqual(4);
      }
    }
  });

  it('gives exactly x + 1 back with 8-fold TTA, square and non-square tiles', async () => {
    for (const [width, height] of [[700, 530], [40, 17], [130, 50]] as [number, number][]) {
      const image = randomImage(width, height, width + height);
      const calls: Call[] = [];
      const options = width >= 512 ? {} : SMALL_TILING;
      const result = await slidingWindowInference(image, withTta(pointwise(plusOne, calls), { maxTilesPerCall: 4 }), options);
      expectPointwise(result, image, plusOne);
      for (const call of calls) expect(call.n).toBeLessThanOrEqual(4);
    }
  });

  it('gives the predictor only sizes that are multiples of sizeMultiple and at most the tile', async () => {
    for (const [width, height] of SHAPES) {
      const calls: Call[] = [];
      await slidingWindowInference(randomImage(width, height, 1), pointwise(plusOne, calls), SMALL_TILING);
      for (const call of calls) {
        expect(call.width % 16).toBe(0);
        expect(call.height % 16).toBe(0);
        expect(call.width).toBeLessThanOrEqual(64);
        expect(call.height).toBeLessThanOrEqual(64);
      }
    }
  });

  it('reports progress after each call and stops when aborted', async () => {
    const progress: [number, number][] = [];
    await slidingWindowInference(randomImage(200, 200, 3), pointwise(plusOne), { ...SMALL_TILING, tileBatch: 2, onProgress: (d, t) => progress.push([d, t]) });
    const total = progress[0]![1];
    expect(total).toBeGreaterThan(2);
    expect(progress.at(-1)).toEqual([total, total]);
    expect(progress.map(([d]) => d)).toEqual(progress.map(([d]) => d).sort((a, b) => a - b));
    const controller = new AbortController();
    const stopping: TilePredictor = async (tiles) => {
      controller.abort(new Error('stopped by the test'));
      return tiles.slice();
    };
    await expect(slidingWindowInference(randomImage(200, 200, 3), stopping, { ...SMALL_TILING, tileBatch: 1, signal: controller.signal })).rejects.toThrow('stopped by the test');
  });
});

describe('planTiles', () => {
  it('covers the image with tiles that overlap by at least 2 * halo', () => {
    for (const [width, height] of [[1000, 700], [513, 2000], [4096, 520]] as [number, number][]) {
      for (const halo of [0, 32, 100]) {
        const plan = planTiles(width, height, { tile: 512, halo });
        for (const [starts, size, tile] of [[plan.xs, plan.paddedWidth, plan.tileWidth], [plan.ys, plan.paddedHeight, plan.tileHeight]] as [number[], number, number][]) {
          expect(starts[0]).toBe(0);
          expect(starts.at(-1)! + tile).toBe(size);
          for (let i = 1; i < starts.length; i++) expect(starts[i - 1]! + tile - starts[i]!).toBeGreaterThanOrEqual(2 * halo);
          for (const start of starts) expect(start % 16).toBe(0);
        }
      }
    }
  });

  it('pads every axis after its end to the size multiple', () => {
    const plan = planTiles(1000, 37, { tile: 512, halo: 32 });
    expect(plan.padding).toEqual({ top: 0, bottom: 11, left: 0, right: 8 });
    expect([plan.paddedWidth, plan.paddedHeight, plan.tileWidth, plan.tileHeight]).toEqual([1008, 48, 512, 48]);
  });

  it('refuses bad options, naming them', () => {
    expect(() => planTiles(10, 10, { tile: 500 })).toThrow(/tile: expected a positive multiple of 16, found 500/);
    expect(() => planTiles(10, 10, { tile: 64, halo: 32 })).toThrow(/halo/);
    expect(() => planTiles(10, 10, { tileBatch: 0 })).toThrow(/tileBatch/);
    expect(() => planTiles(10, 10, { blending: 'linear' as Blending })).toThrow(/blending/);
  });
});
