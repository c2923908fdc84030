/**
 * The one tile stitcher (core/stitch.ts stitchTiles), which the in-memory path
 * (slidingWindowInference) and the streaming path (segmentVolume) both run. MONAI's test: stitch
 * `predict = x + 1` over many shapes (non-multiples of 16, smaller than a tile, several tiles),
 * slices, region layouts and tile batches, and get exactly x + 1 back. Then: a pixel's value does
 * not depend on the regions it is written in (a position-dependent predictor, stitched in bands,
 * chunks or single pixels, equals slidingWindowInference to the bit); every tile is predicted
 * once; bad predictor outputs and regions are refused, naming what was expected.
 */
import { describe, expect, it } from 'vitest';
import type { GreyImage } from '../core/image.ts';
import type { Box } from '../core/padding.ts';
import { slidingWindowInference, stitchTiles, type StitchOptions, type StitchRegion } from '../core/stitch.ts';
import { extractTile, planTiles, wholeSlice, type TilePredictor } from '../core/tiling.ts';

function randomImage(width: number, height: number, seed: number): GreyImage<Float32Array> {
  let state = seed >>> 0 || 1;
  const data = new Float32Array(width * height);
  for (let i = 0; i < data.length; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    data[i] = (state / 2 ** 32) * 6 - 3;
  }
  return { width, height, data };
}

/** Regions of `width` x `height` cells covering each slice, slice by slice, row by row. */
function grid(slices: number, width: number, height: number, cellWidth: number, cellHeight: number): StitchRegion[] {
  const regions: StitchRegion[] = [];
  for (let z = 0; z < slices; z++) {
    for (let y = 0; y < height; y += cellHeight) {
      for (let x = 0; x < width; x += cellWidth) regions.push({ z, box: { x, y, width: Math.min(cellWidth, width - x), height: Math.min(cellHeight, height - y) } });
    }
  }
  return regions;
}

/** Stitches `slices` into whole slices through the given regions; counts predictor calls and tiles. */
async function stitch(slices: GreyImage<Float32Array>[], regions: StitchRegion[], predictor: TilePredictor, options: StitchOptions) {
  const { width, height } = slices[0]!;
  const out = slices.map(() => new Float32Array(width * height).fill(Number.NaN));
  const sources = slices.map(wholeSlice);
  let tiles = 0;
  let planned = -1;
  const counting: TilePredictor = async (input, n, h, w) => {
    tiles += n;
    return predictor(input, n, h, w);
  };
  const predicted = await stitchTiles(
    {
      width,
      height,
      regions,
      onPlanned: (count) => (planned = count),
      readTile: (z, tile, target, offset) => extractTile(sources[z]!, tile, target, offset),
      writeRegion: ({ z, box }, prediction) => {
        expect(prediction.length).toBe(box.width * box.height);
        for (let row = 0; row < box.height; row++) out[z]!.set(prediction.subarray(row * box.width, (row + 1) * box.width), (box.y + row) * width + box.x);
      },
    },
    counting,
    options,
  );
  return { out, predicted, tiles, planned };
}

const plusOne: TilePredictor = async (tiles) => {
  const out = new Float32Array(tiles.length);
  for (let i = 0; i < tiles.length; i++) out[i] = tiles[i]! + 1;
  return out;
};

/** Depends on where a pixel lies in its tile and on its neighbours: a wrong position or weight shows. */
const positional: TilePredictor = async (tiles, n, height, width) => {
  const out = new Float32Array(tiles.length);
  for (let k = 0; k < n; k++) {
    const base = k * height * width;
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const right = tiles[base + y * width + Math.min(width - 1, x + 1)]!;
        out[base + y * width + x] = Math.tanh(tiles[base + y * width + x]! + 0.5 * right + (x - 2 * y) / (width + height));
      }
    }
  }
  return out;
};

const SMALL = { tile: 64, halo: 8, sizeMultiple: 16 };
const SHAPES: [number, number][] = [[1, 1], [3, 2], [15, 17], [16, 16], [33, 1], [1, 70], [64, 64], [65, 64], [100, 37], [130, 129], [211, 97]];

describe('stitchTiles with predict = x + 1', () => {
  it(`gives exactly x + 1 back for ${SHAPES.length} shapes, 2 slices, 4 region layouts and 3 tile batches`, async () => {
    for (const [width, height] of SHAPES) {
      const slices = [randomImage(width, height, width * 31 + height), randomImage(width, height, width + 7 * height)];
      const layouts: [string, StitchRegion[]][] = [
        ['whole slices', grid(2, width, height, width, height)],
        ['rows', grid(2, width, height, width, 1)],
        ['23x17 chunks', grid(2, width, height, 23, 17)],
        ['64x48 chunks', grid(2, width, height, 64, 48)],
      ];
      for (const [name, regions] of layouts) {
        for (const tileBatch of [1, 3, 100]) {
          const { out } = await stitch(slices, regions, plusOne, { ...SMALL, tileBatch });
          for (const [z, slice] of slices.entries()) {
            let mismatches = 0;
            for (let i = 0; i < slice.data.length; i++) if (out[z]![i] !== Math.fround(slice.data[i]! + 1)) mismatches++;
            expect(mismatches, `${width}x${height} slice ${z}, ${name}, tileBatch ${tileBatch}`).toBe(0);
          }
        }
      }
    }
  });

  it('gives exactly x + 1 back with the contract defaults (tile 512, halo 32) on 1100x530, in 256x256 chunks', async () => {
    const slice = randomImage(1100, 530, 5);
    const { out } = await stitch([slice], grid(1, 1100, 530, 256, 256), plusOne, {});
    let mismatches = 0;
    for (let i = 0; i < slice.data.length; i++) if (out[0]![i] !== Math.fround(slice.data[i]! + 1)) mismatches++;
    expect(mismatches).toBe(0);
  });
});

describe('stitchTiles: regions do not change the values', () => {
  it('a position-dependent predictor stitched in bands, chunks or pixels equals slidingWindowInference bit for bit', async () => {
    for (const [width, height] of [[130, 129], [40, 200], [50, 30]] as [number, number][]) {
      const slice = randomImage(width, height, width ^ height);
      for (const blending of ['gaussian', 'constant'] as const) {
        const options = { ...SMALL, blending };
        const expected = (await slidingWindowInference(slice, positional, options)).data;
        const layouts: [string, StitchRegion[]][] = [['rows', grid(1, width, height, width, 1)], ['23x17 chunks', grid(1, width, height, 23, 17)]];
        if (width * height <= 2000) layouts.push(['pixels', grid(1, width, height, 1, 1)]);
        for (const [name, regions] of layouts) {
          const { out } = await stitch([slice], regions, positional, { ...options, tileBatch: 3 });
          let differ = 0;
          for (let i = 0; i < expected.length; i++) if (out[0]![i] !== expected[i]) differ++;
          expect(differ, `${width}x${height} ${blending} ${name}`).toBe(0);
        }
      }
    }
  });

  it('predicts each tile a region needs once, and only those', async () => {
    const [width, height] = [300, 260];
    const plan = planTiles(width, height, SMALL);
    const all = await stitch([randomImage(width, height, 1), randomImage(width, height, 2)], grid(2, width, height, 32, 32), plusOne, { ...SMALL, tileBatch: 5 });
    expect([all.predicted, all.tiles, all.planned]).toEqual(Array(3).fill(2 * plan.xs.length * plan.ys.length));
    // One pixel in the middle of the first tile column of slice 1: only the tile rows reaching it.
    const corner: Box = { x: 5, y: 100, width: 1, height: 1 };
    const some = await stitch([randomImage(width, height, 1), randomImage(width, height, 2)], [{ z: 1, box: corner }], plusOne, SMALL);
    const rows = plan.ys.filter((y) => y <= 100 && y + plan.tileHeight > 100).length;
    expect([some.predicted, some.tiles, some.planned]).toEqual([rows, rows, rows]);
    const none = await stitch([randomImage(width, height, 1)], [], plusOne, SMALL);
    expect([none.predicted, none.tiles, none.planned]).toEqual([0, 0, 0]);
  });
});

describe('stitchTiles with calls ahead', () => {
  /** `positional` answered after a delay that varies by call, counting the calls in progress at once. */
  function overlapping() {
    let running = 0;
    let most = 0;
    let calls = 0;
    const predictor: TilePredictor = async (tiles, n, height, width) => {
      running++;
      most = Math.max(most, running);
      const delay = [5, 1, 3, 0][calls++ % 4]!;
      await new Promise((resolve) => setTimeout(resolve, delay));
      running--;
      return positional(tiles, n, height, width);
    };
    return { predictor, most: () => most };
  }

  it('submits up to callsAhead calls beside the running one, and the values are those of one call at a time', async () => {
    const [width, height] = [300, 260];
    const slices = [randomImage(width, height, 4), randomImage(width, height, 5)];
    const regions = grid(2, width, height, 64, 64);
    const one = overlapping();
    const expected = await stitch(slices, regions, one.predictor, { ...SMALL, tileBatch: 2 });
    expect(one.most()).toBe(1);
    for (const callsAhead of [1, 2, 5]) {
      const ahead = overlapping();
      const found = await stitch(slices, regions, ahead.predictor, { ...SMALL, tileBatch: 2, callsAhead });
      expect(ahead.most(), `callsAhead ${callsAhead}`).toBe(1 + callsAhead);
      expect(found.out).toEqual(expected.out);
      expect([found.predicted, found.tiles]).toEqual([expected.predicted, expected.tiles]);
    }
  });

  it('reports a failed call once the calls before it have returned, and leaves none unhandled', async () => {
    let calls = 0;
    const failing: TilePredictor = async (tiles, n, height, width) => {
      if (++calls === 3) throw new Error('model lost');
      return positional(tiles, n, height, width);
    };
    await expect(stitch([randomImage(300, 260, 6)], grid(1, 300, 260, 64, 64), failing, { ...SMALL, tileBatch: 2, callsAhead: 2 })).rejects.toThrow('model lost');
    await expect(stitch([randomImage(50, 50, 6)], grid(1, 50, 50, 50, 50), plusOne, { ...SMALL, callsAhead: -1 })).rejects.toThrow('callsAhead: expected an integer >= 0, found -1');
  });
});

describe('stitchTiles refuses', () => {
  const slice = randomImage(100, 90, 3);

  it('a predictor output of the wrong length or type, as E_MODEL naming what was expected', async () => {
    const short: TilePredictor = async (tiles) => tiles.subarray(1);
    await expect(stitch([slice], grid(1, 100, 90, 100, 90), short, { ...SMALL, tileBatch: 2 })).rejects.toMatchObject({
      code: 'E_MODEL',
      message: 'predictor: expected 8192 float32 values for 2 tile(s) of 64x64, found 8191 values',
    });
    const doubles = (async (tiles: Float32Array) => Float64Array.from(tiles)) as unknown as TilePredictor;
    await expect(stitch([slice], grid(1, 100, 90, 100, 90), doubles, SMALL)).rejects.toThrow(/predictor: expected 16384 float32 values for 4 tile\(s\) of 64x64, found object/);
  });

  it('a region outside its slice, naming it', async () => {
    await expect(stitch([slice], [{ z: 0, box: { x: 0, y: 0, width: 10, height: 10 } }, { z: 0, box: { x: 95, y: 0, width: 10, height: 10 } }], plusOne, SMALL)).rejects.toThrow(
      'regions[1]: expected a box inside the 100x90 slice, found 10x10 at (95, 0) of slice 0',
    );
  });
});
