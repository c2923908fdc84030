/**
 * Segmentation of volumes too large for memory: read region by region from a VolumeSource,
 * written chunk by chunk to a VolumeSink (core/volume.ts). It gives the same output as the
 * in-memory pipeline (core/inference.ts segmentImage) on every slice, because it runs the same
 * steps with the same figures:
 *
 *   1. a streaming pass per slice (two for float slices) computes its mean and variance with
 *      SliceStatistics (core/normalize.ts), fed full-width bands of rows in the slice's row-major
 *      order: the same float64 figures as normalizeSlice on the whole slice;
 *   2. the one tile stitcher (core/stitch.ts stitchTiles), which the in-memory path runs too, with
 *      the output chunks as its regions: the tiles of planTiles for the whole slice (mirror padding
 *      past the right and bottom edges read by extractTile from the region the tile covers), each
 *      chunk blended from the tiles that overlap it, the same float32 values as in memory;
 *   3. the probability is thresholded (mask) or written as is (float32) or as round(p * 255).
 *
 * Memory is bounded: tiles are predicted in the order the chunks need them (core/chunk-plan.ts),
 * `tileBatch` per predictor call, and each predicted tile is dropped after the last chunk that
 * uses it; about two rows of tiles across one stripe (default 16384 pixels wide) are held,
 * whatever the size of the volume (with `tileSpill`: the tiles on a stripe's border, which the
 * next stripe needs, wait outside memory), and the decoded input blocks under them
 * (core/block-cache.ts, so that overlapping tiles decode each block once; at most
 * MAX_BLOCK_CACHE_BYTES). The next call's tiles are read while the model runs: a predictor that
 * runs off this thread (node/worker-model.ts) lets reading and writing overlap inference.
 *
 * Resuming and sharding: chunks the sink already holds (isChunkComplete) are skipped; only the
 * chunks of the given shard are computed. A chunk's pixels depend only on its own tiles, so a
 * resumed or sharded run writes exactly what an uninterrupted single run writes.
 * Platform-neutral.
 */
import { withBlockCache } from './block-cache.ts';
import { chunkOrder, shardOf, WHOLE_JOB, type Shard } from './chunk-plan.ts';
import { DEFAULT_THRESHOLD } from './contract.ts';
import { EmsegError } from './errors.ts';
import type { GreyImage } from './image.ts';
import { tilePredictorFor, type SegmentOptions } from './inference.ts';
import { applyNormalization, invertedNormalization, SliceStatistics, type SliceNormalization } from './normalize.ts';
import type { Box } from './padding.ts';
import { quantizeProbability } from './segmentation-output.ts';
import { thresholdProbability, validateThreshold } from './threshold.ts';
import { stitchTiles, type TileSpill } from './stitch.ts';
import { extractTile, planTiles, resolveTilingOptions, tileSourceBox, type TilePredictor } from './tiling.ts';
import { chunkBox, type ChunkIndex, type ChunkLayout, type VolumeSink, type VolumeSource } from './volume.ts';

export type VolumeOutput = 'mask' | 'probability';

export interface VolumeProgress {
  /** Tiles predicted so far in this run, and the tiles this run predicts in all. */
  tilesDone: number;
  tiles: number;
  /** Chunks written so far in this run, and the chunks this run writes in all. */
  chunksDone: number;
  chunks: number;
  /** Chunks of this shard that were already complete and are skipped. */
  chunksSkipped: number;
}

export interface SegmentVolumeOptions extends Omit<SegmentOptions, 'onProgress'> {
  /** mask (0/255, a uint8 sink) or probability (a float32 sink, or a uint8 sink: round(p * 255)). Default 'mask'. */
  output?: VolumeOutput;
  /** Which share of the chunks this run computes. Default the whole job. */
  shard?: Shard;
  /** Width of the stripes chunks are computed in, in pixels (rounded down to whole chunks, at least one). Default 16384. */
  stripeWidth?: number;
  /** Pixels read at once by the statistics pass (whole rows). Default 16 Mi. */
  statisticsBandPixels?: number;
  /** Called after every predictor call and when chunks are skipped. */
  onProgress?: (progress: VolumeProgress) => void;
  /**
   * Predictor calls submitted beside the running one (core/stitch.ts `callsAhead`). Default
   * DEFAULT_CALLS_AHEAD: the predictor gets up to three calls at once, which node/worker-model.ts's
   * worker queues, so it has work waiting while this thread writes chunks or labels them.
   */
  callsAhead?: number;
  /**
   * Where the tiles on a stripe's right border wait until the next stripe needs them (a column of
   * tiles as tall as the slice: about 90 MB for a 40000-pixel-high slice with the default tiles);
   * node/tile-spill.ts keeps them in files. Default: in memory.
   */
  tileSpill?: Pick<TileSpill, 'put' | 'take'>;
}

/**
 * A tile goes to the tile spill when its next chunk is more than this many chunk rows of the
 * stripe ahead: inside a stripe every tile's next chunk is at most one chunk row ahead, the tiles
 * on a stripe's border wait for the next stripe.
 */
const SPILL_AFTER_STRIPE_ROWS = 4;

/** See SegmentVolumeOptions.callsAhead. */
export const DEFAULT_CALLS_AHEAD = 2;

export interface VolumeSegmentation {
  /** Chunks of this shard, those written by this run and those found complete. */
  chunks: number;
  chunksWritten: number;
  chunksSkipped: number;
  /** Tiles this run predicted. */
  tilesPredicted: number;
}

/** A chunk's probabilities as its sink takes them: the mask (>= threshold -> 255), float32 as is, or uint8 round(p * 255). */
export function encodeVolumeChunk(probability: GreyImage<Float32Array>, output: VolumeOutput, threshold: number, sampleType: VolumeSink['sampleType']): Uint8Array | Float32Array {
  if (output === 'mask') return thresholdProbability(probability, threshold).data;
  return sampleType === 'float32' ? probability.data : quantizeProbability(probability).data;
}

export const DEFAULT_STRIPE_WIDTH = 16384;
const DEFAULT_STATISTICS_BAND_PIXELS = 1 << 24;
/** Most bytes of decoded input blocks the tile pass keeps (core/block-cache.ts). */
const MAX_BLOCK_CACHE_BYTES = 256 * 1024 * 1024;

/**
 * Blocks the tile pass keeps so that it decodes each input block once: those under one band of
 * tiles across a stripe (the chunk rows' tiles reach a tile height above and below them), with a
 * column of blocks to spare on either side; at most MAX_BLOCK_CACHE_BYTES.
 */
function blockCacheSize(source: VolumeSource, stripePixels: number, chunkHeight: number, tileHeight: number): number {
  const { blockWidth = 1, blockHeight = 1 } = source;
  const across = Math.ceil(Math.min(stripePixels + 2 * tileHeight, source.width) / blockWidth) + 2;
  const down = Math.ceil((chunkHeight + 2 * tileHeight) / blockHeight) + 1;
  const blockBytes = blockWidth * blockHeight * (source.bitDepth / 8);
  return Math.max(1, Math.min(across * down, Math.floor(MAX_BLOCK_CACHE_BYTES / blockBytes)));
}

function checkRegion(image: GreyImage, box: Box, name: string, z: number): GreyImage {
  if (image.width !== box.width || image.height !== box.height || image.data.length !== box.width * box.height) {
    throw new EmsegError(
      'E_CORRUPT',
      `${name}: slice ${z} region ${box.width}x${box.height} at (${box.x}, ${box.y}) came back as ${image.width}x${image.height} with ${image.data.length} values`,
    );
  }
  return image;
}

/**
 * The normalization of slice `z` of a source, read in bands of whole rows: the same mean and scale
 * as normalizeSlice on the slice in memory (one pass for 8/16-bit slices; a second for float
 * slices that are not constant).
 */
export async function streamSliceNormalization(source: VolumeSource, z: number, bandPixels = DEFAULT_STATISTICS_BAND_PIXELS): Promise<SliceNormalization> {
  const { width, height } = source;
  // Bands of whole block rows, so that no block is decoded twice in one pass.
  const blockRows = source.blockHeight ?? 1;
  const rows = Math.max(1, Math.floor(bandPixels / width / blockRows)) * blockRows;
  // Each band is read block by block (a whole tile or chunk decodes without a copy per sample).
  const blocks = withBlockCache(source, { maxBlocks: Math.ceil(width / (source.blockWidth ?? width)) * Math.ceil(rows / blockRows) });
  const statistics = new SliceStatistics();
  const pass = async (add: (data: ArrayLike<number>) => void) => {
    for (let y = 0; y < height; y += rows) {
      const box = { x: 0, y, width, height: Math.min(rows, height - y) };
      add(checkRegion(await blocks.readRegion(z, box), box, source.name, z).data);
    }
  };
  await pass((data) => statistics.addPixels(data));
  if (!statistics.constant && statistics.needsSecondPass) await pass((data) => statistics.addSquaredDeviations(data));
  return statistics.normalization();
}

/**
 * Segments every slice of `source` into `sink`, chunk by chunk (only the chunks of `options.shard`
 * that the sink does not hold yet). Does not finalize the sink: call sink.finalize() once every
 * shard is done.
 */
export async function segmentVolume(
  source: VolumeSource,
  sink: VolumeSink,
  predictor: TilePredictor,
  options: SegmentVolumeOptions = {},
): Promise<VolumeSegmentation> {
  const output = options.output ?? 'mask';
  const threshold = validateThreshold(options.threshold ?? DEFAULT_THRESHOLD);
  if (source.width !== sink.width || source.height !== sink.height || source.depth !== sink.depth) {
    throw new EmsegError(
      'E_SIZE_MISMATCH',
      `${source.name}: is ${source.width}x${source.height}x${source.depth}, the output is ${sink.width}x${sink.height}x${sink.depth}`,
    );
  }
  if (output === 'mask' && sink.sampleType !== 'uint8') {
    throw new EmsegError('E_BAD_ARGUMENT', `output mask: expected a uint8 output, found ${sink.sampleType}`);
  }
  const { onProgress, callsAhead, tileSpill, ...tilingOptions } = options;
  const tiling = resolveTilingOptions(tilingOptions);
  const { predictor: tilePredictor, tileBatch } = tilePredictorFor(predictor, tiling.tileBatch, options.tta === true);
  const { width, height } = source;
  const { tileHeight } = planTiles(width, height, tiling);

  const grid: ChunkLayout = { width, height, depth: source.depth, chunkWidth: sink.chunkWidth, chunkHeight: sink.chunkHeight };
  const stripeChunks = Math.max(1, Math.floor((options.stripeWidth ?? DEFAULT_STRIPE_WIDTH) / sink.chunkWidth));
  const mine = shardOf(chunkOrder(grid, stripeChunks), options.shard ?? WHOLE_JOB);
  const todo: ChunkIndex[] = [];
  for (const chunk of mine) if (!(await sink.isChunkComplete(chunk))) todo.push(chunk);
  const chunksSkipped = mine.length - todo.length;

  let tiles = 0;
  let tilesDone = 0;
  let chunksDone = 0;
  const report = () => onProgress?.({ tilesDone, tiles, chunksDone, chunks: todo.length, chunksSkipped });

  // Slice statistics, computed once per slice when its first tile is read.
  const normalizations = new Map<number, Promise<SliceNormalization>>();
  const normalizationOf = (z: number) => {
    let found = normalizations.get(z);
    if (!found) {
      found = streamSliceNormalization(source, z, options.statisticsBandPixels).then((n) => (options.invert ? invertedNormalization(n) : n));
      normalizations.set(z, found);
      for (const old of normalizations.keys()) if (old < z - 1) normalizations.delete(old);
    }
    return found;
  };
  const blocks = withBlockCache(source, { maxBlocks: blockCacheSize(source, stripeChunks * sink.chunkWidth, sink.chunkHeight, tileHeight) });

  const tilesPredicted = await stitchTiles(
    {
      width,
      height,
      regions: todo.map((chunk) => ({ z: chunk.z, box: chunkBox(grid, chunk), chunk })),
      ...(tileSpill
        ? { spill: { distance: SPILL_AFTER_STRIPE_ROWS * stripeChunks, put: (key: number, prediction: Float32Array) => tileSpill.put(key, prediction), take: (key: number) => tileSpill.take(key) } }
        : {}),
      onPlanned: (count) => {
        tiles = count;
        report();
      },
      readTile: async (z, tile, out, offset) => {
        const normalization = await normalizationOf(z);
        const box = tileSourceBox(tile, width, height);
        const raw = checkRegion(await blocks.readRegion(z, box), box, source.name, z);
        extractTile({ data: applyNormalization(raw.data, normalization), box, sliceWidth: width, sliceHeight: height }, tile, out, offset);
      },
      writeRegion: async ({ chunk, box }, prediction) => {
        await sink.writeChunk(chunk, encodeVolumeChunk({ width: box.width, height: box.height, data: prediction }, output, threshold, sink.sampleType));
        chunksDone++;
      },
    },
    tilePredictor,
    {
      ...tiling,
      tileBatch,
      callsAhead: callsAhead ?? DEFAULT_CALLS_AHEAD,
      onProgress: (done) => {
        tilesDone = done;
        report();
      },
      ...(options.signal ? { signal: options.signal } : {}),
    },
  );
  if (todo.length > 0) report();
  return { chunks: mine.length, chunksWritten: chunksDone, chunksSkipped, tilesPredicted };
}
