/**
 * The streaming tiler (core/stream-inference.ts) against the in-memory pipeline
 * (core/inference.ts segmentImage): the same slice statistics, and exactly the same
 * probabilities and masks for many shapes, chunk sizes, stripes, tile batches, blendings and TTA,
 * with a pointwise predictor (x + 1, MONAI's test) and with one that mixes neighbouring pixels (so
 * a wrong tile position, padding or blending weight shows). Then resuming and sharding.
 */
import { describe, expect, it } from 'vitest';
import type { GreyImage } from '../core/image.ts';
import { segmentImage } from '../core/inference.ts';
import { normalizeSlice, SliceStatistics } from '../core/normalize.ts';
import { chunkOrder, parseShard, shardOf } from '../core/chunk-plan.ts';
import { segmentVolume, streamSliceNormalization } from '../core/stream-inference.ts';
import { planTiles, type Blending, type TilePredictor } from '../core/tiling.ts';
import { MemoryVolumeSink, MemoryVolumeSource } from './helpers/memory-volume.ts';

function random(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

function image8(width: number, height: number, seed: number): GreyImage<Uint8Array> {
  const next = random(seed);
  return { width, height, data: Uint8Array.from({ length: width * height }, () => Math.floor(next() * 256)) };
}

let tilesSeen = 0;
/** x + 1 on every pixel. */
const plusOne: TilePredictor = async (tiles) => {
  tilesSeen++;
  return Float32Array.from(tiles, (x) => x + 1);
};
/** Squashed mean of each pixel's 3x3 neighbourhood inside the tile: depends on where the tile lies. */
const neighbourMix: TilePredictor = async (tiles, n, height, width) => {
  const out = new Float32Array(tiles.length);
  for (let k = 0; k < n; k++) {
    const base = k * height * width;
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        let sum = 0;
        for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) {
          const yy = Math.min(height - 1, Math.max(0, y + dy));
          const xx = Math.min(width - 1, Math.max(0, x + dx));
          sum += tiles[base + yy * width + xx]! * (dx === 0 && dy === 0 ? 2 : 1);
        }
        out[base + y * width + x] = 1 / (1 + Math.exp(-sum / 10 - (x - y) / width));
      }
    }
  }
  return out;
};

const TILING = { tile: 64, halo: 8, sizeMultiple: 16 };

type Block = { width: number; height: number } | undefined;

async function streamed(slices: GreyImage[], predictor: TilePredictor, chunk: [number, number], options: Parameters<typeof segmentVolume>[3] = {}, block?: Block) {
  const source = new MemoryVolumeSource(slices, block);
  const sampleType = options.output === 'probability' ? 'float32' : 'uint8';
  const sink = new MemoryVolumeSink(source.width, source.height, source.depth, chunk[0], chunk[1], sampleType);
  const result = await segmentVolume(source, sink, predictor, options);
  return { sink, source, result };
}

async function expectSameAsInMemory(slices: GreyImage[], predictor: TilePredictor, chunk: [number, number], options: Record<string, unknown> = {}, block?: Block) {
  const probability = await streamed(slices, predictor, chunk, { ...TILING, ...options, output: 'probability' }, block);
  const mask = await streamed(slices, predictor, chunk, { ...TILING, ...options, output: 'mask' }, block);
  for (const [z, slice] of slices.entries()) {
    const expected = await segmentImage(slice, predictor, { ...TILING, ...options });
    const got = probability.sink.slice(z).data;
    let differ = 0;
    for (let i = 0; i < got.length; i++) if (got[i] !== expected.probability.data[i]) differ++;
    expect(differ, `${slice.width}x${slice.height} chunk ${chunk} slice ${z}`).toBe(0);
    expect(Buffer.from(mask.sink.slice(z).data).equals(Buffer.from(expected.mask.data))).toBe(true);
  }
}

describe('streamSliceNormalization', () => {
  it('gives exactly the figures of normalizeSlice, for 8-, 16-bit and float slices and any band height', async () => {
    const next = random(3);
    const slices: GreyImage[] = [
      image8(97, 61, 1),
      { width: 40, height: 33, data: Uint16Array.from({ length: 40 * 33 }, () => Math.floor(next() * 65536)) },
      { width: 29, height: 50, data: Float32Array.from({ length: 29 * 50 }, () => (next() - 0.3) * 1e3) },
      { width: 13, height: 7, data: new Uint8Array(13 * 7).fill(9) },
    ];
    for (const slice of slices) {
      const whole = new SliceStatistics();
      whole.addPixels(slice.data);
      whole.addSquaredDeviations(slice.data);
      const expected = normalizeSlice(slice);
      for (const bandPixels of [1, slice.width * 3 + 5, 1 << 24]) {
        const source = new MemoryVolumeSource([slice]);
        const normalization = await streamSliceNormalization(source, 0, bandPixels);
        if (!whole.constant) expect(normalization).toEqual(whole.normalization());
        // The slice itself normalized with the streamed figures: the same float32 values.
        const { applyNormalization } = await import('../core/normalize.ts');
        expect(Buffer.from(applyNormalization(slice.data, normalization).buffer).equals(Buffer.from(expected.buffer))).toBe(true);
        if (bandPixels === 1) expect(source.largestRead).toBe(slice.width);
      }
    }
  });
});

describe('segmentVolume equals segmentImage', () => {
  const SHAPES: [number, number][] = [[1, 1], [7, 5], [16, 16], [33, 1], [1, 70], [64, 64], [65, 64], [100, 37], [130, 129], [200, 48], [255, 97]];
  const CHUNKS: [number, number][] = [[32, 32], [23, 17], [64, 128], [300, 300]];

  it(`with x + 1, for ${SHAPES.length} shapes and ${CHUNKS.length} chunk sizes`, async () => {
    for (const [width, height] of SHAPES) {
      for (const chunk of CHUNKS) await expectSameAsInMemory([image8(width, height, width * 7 + height)], plusOne, chunk);
    }
  });

  for (const blending of ['gaussian', 'constant'] as Blending[]) {
    it(`with a neighbour-mixing predictor, ${blending} blending, several tile batches and stripes`, async () => {
      for (const [width, height] of [[130, 129], [255, 97], [70, 200]] as [number, number][]) {
        for (const [chunk, tileBatch, stripeWidth] of [[[32, 32], 1, 64], [[23, 17], 3, 46], [[64, 48], 4, 1 << 14]] as [[number, number], number, number][]) {
          await expectSameAsInMemory([image8(width, height, width + height)], neighbourMix, chunk, { blending, tileBatch, stripeWidth });
        }
      }
    });
  }

  it('with TTA, a 16-bit volume of three slices and a threshold', async () => {
    const next = random(11);
    const slices = [0, 1, 2].map(() => ({ width: 90, height: 75, data: Uint16Array.from({ length: 90 * 75 }, () => Math.floor(next() * 4000)) }));
    await expectSameAsInMemory(slices, neighbourMix, [40, 40], { tta: true, tileBatch: 8, threshold: 0.45 });
  });

  it('writes round(p * 255) into a uint8 sink for probabilities', async () => {
    const slice = image8(100, 80, 5);
    const source = new MemoryVolumeSource([slice]);
    const sink = new MemoryVolumeSink(100, 80, 1, 32, 32, 'uint8');
    await segmentVolume(source, sink, neighbourMix, { ...TILING, output: 'probability' });
    const expected = await segmentImage(slice, neighbourMix, TILING);
    const got = sink.slice(0).data;
    for (let i = 0; i < got.length; i++) expect(got[i]).toBe(Math.round(expected.probability.data[i]! * 255));
  });

  it('predicts every tile once and reads regions no larger than a tile or a statistics band', async () => {
    const [width, height] = [300, 260];
    tilesSeen = 0;
    const { source, result } = await streamed([image8(width, height, 2)], plusOne, [32, 32], { ...TILING, tileBatch: 1, statisticsBandPixels: 1000 });
    const plan = planTiles(width, height, TILING);
    expect(result.tilesPredicted).toBe(plan.xs.length * plan.ys.length);
    expect(tilesSeen).toBe(plan.xs.length * plan.ys.length);
    expect(source.largestRead).toBeLessThanOrEqual(Math.max(64 * 64, 3 * width));
  });
});

describe('a tile spill', () => {
  /** A spill in memory that records what went through it. */
  function recordingSpill() {
    const kept = new Map<number, Float32Array>();
    const log = { puts: [] as number[], takes: [] as number[], mostWaiting: 0 };
    return {
      kept,
      log,
      put: async (key: number, prediction: Float32Array) => {
        expect(kept.has(key)).toBe(false);
        kept.set(key, prediction.slice());
        log.puts.push(key);
        log.mostWaiting = Math.max(log.mostWaiting, kept.size);
      },
      take: async (key: number) => {
        const prediction = kept.get(key);
        if (!prediction) throw new Error(`tile ${key} was not put`);
        kept.delete(key);
        log.takes.push(key);
        return prediction;
      },
    };
  }

  it('holds exactly the tiles on the stripes\' borders until the next stripe, and changes no value', async () => {
    const [width, height] = [300, 260];
    const stripeWidth = 64;
    const spill = recordingSpill();
    await expectSameAsInMemory([image8(width, height, 9), image8(width, height, 10)], neighbourMix, [32, 32], { tileBatch: 3, stripeWidth, tileSpill: spill });
    expect(spill.kept.size).toBe(0);
    expect([...spill.log.takes].sort()).toEqual([...spill.log.puts].sort());
    // the tiles that straddle a stripe border (x = 64, 128, ...), in both slices, in both runs (probability and mask)
    const plan = planTiles(width, height, TILING);
    const perSlice = plan.xs.length * plan.ys.length;
    const crossesBorder = (x: number) => Math.floor(x / stripeWidth) !== Math.floor((Math.min(x + plan.tileWidth, width) - 1) / stripeWidth);
    const straddling = plan.xs.filter(crossesBorder).length;
    expect(straddling).toBeGreaterThan(0);
    for (const key of spill.log.puts) {
      const x = plan.xs[(key % perSlice) % plan.xs.length]!;
      expect(crossesBorder(x), `tile at x ${x}`).toBe(true);
    }
    expect(new Set(spill.log.puts).size).toBe(2 * straddling * plan.ys.length);
    // at most a column of tiles per border in the spill at once
    expect(spill.log.mostWaiting).toBeLessThanOrEqual(2 * plan.ys.length);
  });

  it('stays empty inside one stripe', async () => {
    const spill = recordingSpill();
    await expectSameAsInMemory([image8(200, 150, 4)], neighbourMix, [32, 32], { tileBatch: 2, tileSpill: spill });
    expect(spill.log.puts).toEqual([]);
  });
});

describe('a source read in blocks (tiled TIFF, Zarr chunks)', () => {
  const BLOCKS = [{ width: 24, height: 20 }, { width: 64, height: 64 }, { width: 300, height: 7 }];

  it('gives the same output as the in-memory path', async () => {
    for (const block of BLOCKS) {
      await expectSameAsInMemory([image8(130, 129, 3), image8(130, 129, 4)], neighbourMix, [32, 32], { tileBatch: 3, stripeWidth: 64 }, block);
    }
  });

  it('reads every block whole, once in the statistics pass (8-bit: one pass) and once in the tile pass', async () => {
    const [width, height] = [300, 260];
    for (const block of BLOCKS) {
      const { source } = await streamed([image8(width, height, 2)], plusOne, [32, 32], { ...TILING, tileBatch: 3, stripeWidth: 96, statisticsBandPixels: 3000 }, block);
      const reads = new Map<string, number>();
      for (const { box } of source.reads) {
        expect(box.x % block.width === 0 && box.y % block.height === 0, JSON.stringify(box)).toBe(true);
        expect(box.width === Math.min(block.width, width - box.x) && box.height === Math.min(block.height, height - box.y), JSON.stringify(box)).toBe(true);
        reads.set(`${box.x},${box.y}`, (reads.get(`${box.x},${box.y}`) ?? 0) + 1);
      }
      expect(reads.size).toBe(Math.ceil(width / block.width) * Math.ceil(height / block.height));
      expect([...reads.values()].every((count) => count === 2), `${block.width}x${block.height}`).toBe(true);
    }
  });
});

describe('resuming and sharding', () => {
  const slices = [image8(150, 110, 21), image8(150, 110, 22)];
  const options = { ...TILING, output: 'probability' as const };

  it('a run killed after some chunks, run again, writes only the rest and equals an uninterrupted run', async () => {
    const whole = await streamed(slices, neighbourMix, [32, 32], options);
    for (const killAfter of [0, 1, 7, 19]) {
      const source = new MemoryVolumeSource(slices);
      const sink = new MemoryVolumeSink(150, 110, 2, 32, 32, 'float32');
      sink.failAfterWrites = killAfter;
      await expect(segmentVolume(source, sink, neighbourMix, options)).rejects.toThrow('killed');
      expect(sink.chunks.size).toBe(killAfter);
      sink.failAfterWrites = Infinity;
      const resumed = await segmentVolume(source, sink, neighbourMix, options);
      expect(resumed.chunksSkipped).toBe(killAfter);
      expect(resumed.chunksWritten).toBe(whole.result.chunksWritten - killAfter);
      for (const z of [0, 1]) expect(sink.slice(z).data).toEqual(whole.sink.slice(z).data);
    }
    // Nothing left: no tile predicted, no chunk written.
    const again = await segmentVolume(new MemoryVolumeSource(slices), whole.sink, neighbourMix, options);
    expect(again).toMatchObject({ chunksWritten: 0, tilesPredicted: 0 });
  });

  it('N shards into one sink write disjoint chunks whose union equals a single run', async () => {
    const whole = await streamed(slices, neighbourMix, [32, 32], options);
    for (const count of [2, 3, 7]) {
      const sink = new MemoryVolumeSink(150, 110, 2, 32, 32, 'float32'); // throws on a chunk written twice
      let written = 0;
      for (let index = count - 1; index >= 0; index--) {
        written += (await segmentVolume(new MemoryVolumeSource(slices), sink, neighbourMix, { ...options, shard: { index, count } })).chunksWritten;
      }
      expect(written).toBe(whole.result.chunksWritten);
      for (const z of [0, 1]) expect(sink.slice(z).data).toEqual(whole.sink.slice(z).data);
    }
  });

  it('shards are contiguous runs of the chunk order, covering it once; --shard is parsed strictly', () => {
    const order = chunkOrder({ width: 1000, height: 700, depth: 3, chunkWidth: 256, chunkHeight: 256 }, 2);
    expect(order.length).toBe(4 * 3 * 3);
    const parts = [0, 1, 2, 3, 4].map((index) => shardOf(order, { index, count: 5 }));
    expect(parts.flat()).toEqual(order);
    expect(Math.max(...parts.map((p) => p.length)) - Math.min(...parts.map((p) => p.length))).toBeLessThanOrEqual(1);
    expect(parseShard('2/5')).toEqual({ index: 2, count: 5 });
    for (const bad of ['5/5', '-1/3', '1', 'a/b', '0/0']) expect(() => parseShard(bad)).toThrow(/--shard: expected i\/N/);
  });

  it('refuses a sink of another size and a float sink for masks', async () => {
    const source = new MemoryVolumeSource(slices);
    await expect(segmentVolume(source, new MemoryVolumeSink(150, 111, 2, 32, 32, 'uint8'), plusOne)).rejects.toThrow(/is 150x110x2, the output is 150x111x2/);
    await expect(segmentVolume(source, new MemoryVolumeSink(150, 110, 2, 32, 32, 'float32'), plusOne)).rejects.toThrow(/output mask: expected a uint8 output/);
  });
});
