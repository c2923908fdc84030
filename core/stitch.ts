/**
 * The one tile stitcher: both inference paths put predicted tiles back together here.
 *
 * - slidingWindowInference (below): an image in memory, the region written is the whole image
 *   (core/inference.ts segmentImage: serve, predict on images that fit in memory, the web demo,
 *   evaluation, training's validation);
 * - core/stream-inference.ts segmentVolume: a volume read by regions and written by chunks.
 *
 * `stitchTiles` is given the slice size, the output regions in the order they are to be written,
 * a function that reads a tile of (normalized) input and one that takes a finished region. It
 * plans the tiles (core/tiling.ts planTiles: the same grid for every region of a slice), predicts
 * each tile once, `tileBatch` per predictor call, in the order the regions first need them,
 * checks every predictor output, and assembles each region from the tiles that overlap it:
 * float64 sums of prediction x blending window (core/tiling.ts blendingProfile), added in the
 * plan's tile order (rows of tiles, then columns), divided by the summed window weights. So a
 * pixel's value does not depend on the regions it is written in: the in-memory and the streaming
 * path, any chunk size, a resumed or a sharded run all give the same float32 values. Where one
 * tile covers the slice, its prediction is copied as is (no weights at all).
 *
 * Memory: a prediction is kept from its predictor call until the last region that needs it is
 * written (for regions in rows, about two rows of tiles across the regions' width with the
 * default tile and halo), or in the job's spill while no region needs it for a long while, plus
 * one region's float64 sums and float32 result. The next call's tiles are read while the
 * predictor runs, and finished regions are written while it runs the call after.
 *
 * The stitcher knows nothing about the model (a TilePredictor) nor about where tiles come from
 * or go. Platform-neutral.
 */
import { EmsegError } from './errors.ts';
import type { GreyImage } from './image.ts';
import type { Box } from './padding.ts';
import {
  blendingProfile,
  extractTile,
  planTiles,
  resolveTilingOptions,
  wholeSlice,
  type TilePlan,
  type TilePredictor,
  type TilingOptions,
} from './tiling.ts';

/** Part of the output: the pixels `box` of slice `z`. */
export interface StitchRegion {
  z: number;
  box: Box;
}

/** What to stitch: where the input tiles come from and where the blended regions go. */
export interface StitchJob<R extends StitchRegion = StitchRegion> {
  /** Size of every slice. */
  width: number;
  height: number;
  /** The output regions, each inside its slice, in the order they are written. */
  regions: readonly R[];
  /**
   * Copies the input pixels of `tile` (in slice z's coordinates; it may reach past the right and
   * bottom edges, which mirror: core/tiling.ts extractTile) into `out` from `offset`, row-major.
   */
  readTile(z: number, tile: Box, out: Float32Array, offset: number): void | Promise<void>;
  /**
   * Takes one region's blended prediction (box.width x box.height, row-major). The array is reused
   * for the next region once the returned promise settles.
   */
  writeRegion(region: R, prediction: Float32Array): void | Promise<void>;
  /** Called once, before the first predictor call, with the number of tiles this job predicts. */
  onPlanned?: (tiles: number) => void;
  /** Where tiles wait that no region needs for a long while; without it they stay in memory. */
  spill?: TileSpill;
}

/**
 * Where a predicted tile waits, out of memory, when its next region is more than `distance`
 * regions after the one just written: e.g. the column of tiles on a stripe's right border
 * (core/chunk-plan.ts), which the next stripe's first regions need only after every other region
 * of this stripe, a column as tall as the slice (node/tile-spill.ts keeps them in files).
 */
export interface TileSpill {
  distance: number;
  /** Keeps the prediction of the tile `key`. */
  put(key: number, prediction: Float32Array): Promise<void>;
  /** Gives back (and forgets) what put kept for `key`. */
  take(key: number): Promise<Float32Array>;
}

/** A tile of the plan: its slice, its box, and `key`, unique to the tile in the job. */
interface TileRef {
  key: number;
  z: number;
  box: Box;
}

/** Per position along one axis, the summed window weights of the tiles covering it. */
function coverage(profile: Float64Array, starts: readonly number[], size: number): Float64Array {
  const total = new Float64Array(size);
  for (const start of starts) {
    for (let i = 0; i < profile.length && start + i < size; i++) total[start + i]! += profile[i]!;
  }
  return total;
}

/**
 * Adds one tile's prediction, weighted by the blending window (across[col] * down[row]), to the
 * float64 sums of the region `clip` (row-major, clip.width per row).
 */
function addWeightedTile(sum: Float64Array, clip: Box, prediction: Float32Array, tile: Box, across: Float64Array, down: Float64Array): void {
  const firstRow = Math.max(0, clip.y - tile.y);
  const endRow = Math.min(tile.height, clip.y + clip.height - tile.y);
  const firstCol = Math.max(0, clip.x - tile.x);
  const endCol = Math.min(tile.width, clip.x + clip.width - tile.x);
  for (let row = firstRow; row < endRow; row++) {
    const target = (tile.y + row - clip.y) * clip.width + tile.x - clip.x;
    const b = down[row]!;
    const from = row * tile.width;
    for (let col = firstCol; col < endCol; col++) sum[target + col]! += across[col]! * b * prediction[from + col]!;
  }
}

/** The predictor's output for `n` tiles, checked: E_MODEL unless it is float32 with one value per input value. */
function checkedPrediction(output: unknown, expected: number, n: number, plan: TilePlan): Float32Array {
  if (output instanceof Float32Array && output.length === expected) return output;
  throw new EmsegError(
    'E_MODEL',
    `predictor: expected ${expected} float32 values for ${n} tile(s) of ${plan.tileWidth}x${plan.tileHeight}, found ${output instanceof Float32Array ? `${output.length} values` : typeof output}`,
  );
}

export interface StitchOptions extends TilingOptions {
  /**
   * Predictor calls submitted while an earlier one has not returned, beside it: 0 (the default)
   * runs one call at a time. For a predictor that queues its calls (node/worker-model.ts's worker
   * thread), 2 keeps up to two batches waiting there while this thread assembles, writes and (the
   * labels path) labels the regions, so the model waits for it less.
   */
  callsAhead?: number;
}

/**
 * Predicts the tiles the regions of `job` need and writes every region, blended. Returns the
 * number of tiles predicted. Options (core/tiling.ts TilingOptions, defaults DEFAULT_TILING): tile,
 * halo, sizeMultiple (the padding), tileBatch, blending, sigmaScale; onProgress after each
 * predictor call; signal checked before each; callsAhead (StitchOptions).
 */
export async function stitchTiles<R extends StitchRegion>(job: StitchJob<R>, predictor: TilePredictor, options: StitchOptions = {}): Promise<number> {
  const { tileBatch, blending, sigmaScale } = resolveTilingOptions(options);
  const callsAhead = options.callsAhead ?? 0;
  if (!Number.isInteger(callsAhead) || callsAhead < 0) throw new RangeError(`callsAhead: expected an integer >= 0, found ${callsAhead}`);
  const { width, height, regions } = job;
  const plan = planTiles(width, height, options);
  const { tileWidth, tileHeight, xs, ys } = plan;
  const tilePixels = tileWidth * tileHeight;
  const tilesPerSlice = xs.length * ys.length;
  const single = tilesPerSlice === 1;
  const across = blendingProfile(tileWidth, blending, sigmaScale);
  const down = blendingProfile(tileHeight, blending, sigmaScale);
  const columnWeights = coverage(across, xs, width);
  const rowWeights = coverage(down, ys, height);

  // The tiles of each region in the plan's order (tile rows, then columns); the order the tiles
  // are first needed in; the regions that need each tile, in order.
  const overlapping = (starts: readonly number[], length: number, from: number, to: number) =>
    starts.flatMap((start, i) => (start < to && start + length > from ? [i] : []));
  const regionTiles: TileRef[][] = [];
  const schedule: TileRef[] = [];
  const uses = new Map<number, number[]>();
  let largestRegion = 0;
  regions.forEach(({ z, box }, position) => {
    if (!(Number.isInteger(z) && z >= 0 && box.x >= 0 && box.y >= 0 && box.width >= 1 && box.height >= 1 && box.x + box.width <= width && box.y + box.height <= height)) {
      throw new RangeError(`regions[${position}]: expected a box inside the ${width}x${height} slice, found ${box.width}x${box.height} at (${box.x}, ${box.y}) of slice ${z}`);
    }
    largestRegion = Math.max(largestRegion, box.width * box.height);
    const refs: TileRef[] = [];
    for (const i of overlapping(ys, tileHeight, box.y, box.y + box.height)) {
      for (const j of overlapping(xs, tileWidth, box.x, box.x + box.width)) {
        const key = z * tilesPerSlice + i * xs.length + j;
        const ref = { key, z, box: { x: xs[j]!, y: ys[i]!, width: tileWidth, height: tileHeight } };
        const tileUses = uses.get(key);
        if (tileUses) tileUses.push(position);
        else {
          schedule.push(ref);
          uses.set(key, [position]);
        }
        refs.push(ref);
      }
    }
    regionTiles.push(refs);
  });
  job.onPlanned?.(schedule.length);
  if (schedule.length === 0) return 0;

  const readTiles = async (batch: readonly TileRef[]): Promise<Float32Array> => {
    const tiles = new Float32Array(batch.length * tilePixels);
    await Promise.all(batch.map((ref, k) => job.readTile(ref.z, ref.box, tiles, k * tilePixels)));
    return tiles;
  };

  let tilesDone = 0;
  const predictions = new Map<number, Float32Array>();
  const predict = async (batch: readonly TileRef[], tiles: Float32Array) => {
    const output = checkedPrediction(await predictor(tiles, batch.length, tileHeight, tileWidth), tiles.length, batch.length, plan);
    // Each tile keeps its own copy: a shared batch buffer would stay alive as long as its last tile.
    batch.forEach((ref, k) => predictions.set(ref.key, batch.length === 1 ? output : output.slice(k * tilePixels, (k + 1) * tilePixels)));
    tilesDone += batch.length;
  };

  // One region's blended sums and prediction, reused region after region (a region is written
  // before the next one is assembled).
  const sums = single ? new Float64Array(0) : new Float64Array(largestRegion);
  const assembled = new Float32Array(largestRegion);
  const assemble = (position: number): Float32Array => {
    const { box } = regions[position]!;
    const prediction = assembled.subarray(0, box.width * box.height);
    const refs = regionTiles[position]!;
    if (single) {
      const data = predictions.get(refs[0]!.key)!;
      for (let row = 0; row < box.height; row++) {
        const from = (box.y + row) * tileWidth + box.x;
        prediction.set(data.subarray(from, from + box.width), row * box.width);
      }
      return prediction;
    }
    const sum = sums.subarray(0, box.width * box.height).fill(0);
    for (const ref of refs) addWeightedTile(sum, box, predictions.get(ref.key)!, ref.box, across, down);
    for (let row = 0; row < box.height; row++) {
      const rowWeight = rowWeights[box.y + row]!;
      const base = row * box.width;
      for (let col = 0; col < box.width; col++) prediction[base + col] = sum[base + col]! / (columnWeights[box.x + col]! * rowWeight);
    }
    return prediction;
  };

  // Tiles in the job's spill: predicted, and needed again only some way ahead.
  const spill = job.spill;
  const spilled = new Set<number>();
  const nextUse = (key: number, after: number) => uses.get(key)!.find((position) => position > after);
  let nextRegion = 0;
  const writeReadyRegions = async () => {
    while (nextRegion < regions.length && regionTiles[nextRegion]!.every((ref) => predictions.has(ref.key) || spilled.has(ref.key))) {
      const refs = regionTiles[nextRegion]!;
      for (const ref of refs) if (spilled.delete(ref.key)) predictions.set(ref.key, await spill!.take(ref.key));
      const prediction = assemble(nextRegion);
      for (const ref of refs) {
        const later = nextUse(ref.key, nextRegion);
        if (later === undefined) predictions.delete(ref.key);
        else if (spill && later - nextRegion > spill.distance) {
          const data = predictions.get(ref.key)!;
          predictions.delete(ref.key);
          spilled.add(ref.key);
          await spill.put(ref.key, data);
        }
      }
      await job.writeRegion(regions[nextRegion]!, prediction);
      nextRegion++;
    }
  };

  // Pipeline: the next batch is read while the predictor runs (and up to callsAhead more are
  // submitted to it); regions are assembled and written while it runs the batches after.
  const batches: TileRef[][] = [];
  for (let first = 0; first < schedule.length; first += tileBatch) batches.push(schedule.slice(first, first + tileBatch));
  options.signal?.throwIfAborted();
  // Calls submitted and not yet awaited, oldest first; a failure is reported when its turn comes,
  // never left unhandled.
  const submitted: Promise<void>[] = [];
  const submit = (tiles: Float32Array, b: number) => {
    options.signal?.throwIfAborted();
    const call = predict(batches[b]!, tiles);
    call.catch(() => {});
    submitted.push(call);
  };
  submit(await readTiles(batches[0]!), 0);
  let next = 1;
  while (submitted.length > 0) {
    options.signal?.throwIfAborted();
    // batches beyond the running one: submitted up to callsAhead of them, the one after read meanwhile
    while (next < batches.length && submitted.length < 1 + callsAhead) {
      submit(await readTiles(batches[next]!), next);
      next++;
    }
    const reading = next < batches.length ? readTiles(batches[next]!) : undefined;
    reading?.catch(() => {});
    await submitted.shift();
    options.onProgress?.(tilesDone, schedule.length);
    if (reading) {
      submit(await reading, next);
      next++;
    }
    await writeReadyRegions();
  }
  await writeReadyRegions();
  if (nextRegion !== regions.length) throw new Error(`internal: ${regions.length - nextRegion} region(s) left unwritten`);
  return tilesDone;
}

/** Full-width bands of a slice that end where a row of tiles starts: each is final once the tile rows reaching it are predicted. */
function tileRowBands(plan: TilePlan): StitchRegion[] {
  const bands: StitchRegion[] = [];
  plan.ys.forEach((y, i) => {
    const end = Math.min(plan.ys[i + 1] ?? plan.height, plan.height);
    if (end > y) bands.push({ z: 0, box: { x: 0, y, width: plan.width, height: end - y } });
  });
  return bands;
}

/**
 * Runs `predictor` over an image of any size (already normalized), tile by tile, and returns the
 * blended prediction at the image's own size: stitchTiles over the image in memory, written in
 * bands between rows of tiles. After MONAI's `sliding_window_inference`; the options
 * (core/tiling.ts TilingOptions) and their defaults:
 *
 * | option | default | what |
 * | --- | --- | --- |
 * | `tile` | 512 (contract) | longest tile side, a multiple of `sizeMultiple`; an axis that fits is one tile |
 * | `halo` | 32 (contract) | neighbouring tiles overlap by at least 2 x halo (MONAI's overlap, in pixels) |
 * | `tileBatch` | 4 | tiles per predictor call (MONAI's sw_batch_size) |
 * | `blending` | 'gaussian' | 'gaussian' or 'constant' (plain average) (MONAI's mode) |
 * | `sigmaScale` | 0.125 | gaussian sigma / tile length (MONAI's sigma_scale) |
 * | `sizeMultiple` | 16 | padding: each axis is mirror-padded (reflect) after its end to a multiple of this |
 * | `onProgress` | none | (tilesDone, tiles) after each predictor call |
 * | `signal` | none | AbortSignal, checked before each predictor call |
 *
 * Memory: besides the image and the result, the predictions of the tiles that reach the band
 * being assembled (two rows of tiles with the default tile and halo), one band's float64 sums,
 * and the tiles of two predictor calls. The padded image is never built: tiles read the mirror
 * padding from the image directly.
 */
export async function slidingWindowInference(
  image: GreyImage<Float32Array>,
  predictor: TilePredictor,
  options: TilingOptions = {},
): Promise<GreyImage<Float32Array>> {
  const { width, height } = image;
  const plan = planTiles(width, height, options);
  const source = wholeSlice(image);
  const result = new Float32Array(width * height);
  await stitchTiles(
    {
      width,
      height,
      regions: tileRowBands(plan),
      readTile: (_z, tile, out, offset) => extractTile(source, tile, out, offset),
      writeRegion: ({ box }, prediction) => result.set(prediction, box.y * width),
    },
    predictor,
    options,
  );
  return { width, height, data: result };
}
