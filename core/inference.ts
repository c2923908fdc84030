/**
 * Segmentation of one slice or a stack with any TilePredictor (onnxruntime-node in serve/,
 * onnxruntime-web in the browser, a tfjs model in evaluation): the one pipeline every part runs,
 * so that they all give the same mask.
 *
 *   1. normalizeSlice (core/normalize.ts): zero mean, unit variance over the whole slice, before
 *      any padding or tiling, so that every tile sees the same statistics (the contract);
 *   2. slidingWindowInference (core/stitch.ts): mirror padding to the size multiple, overlapping
 *      tiles with blending, cropped back to the slice's size; with `tta`, every tile goes through
 *      the 8 dihedral views (core/tta.ts) and the views are averaged;
 *   3. thresholdProbability (core/threshold.ts): probability >= threshold -> 255, else 0.
 *
 * Platform-neutral.
 */
import { DEFAULT_THRESHOLD } from './contract.ts';
import { EmsegError } from './errors.ts';
import type { GreyImage, ImageStack } from './image.ts';
import { normalizeSlice } from './normalize.ts';
import { scaledSize } from './pixel-size.ts';
import { resampleBilinear } from './resample.ts';
import { thresholdProbability, validateThreshold } from './threshold.ts';
import { slidingWindowInference } from './stitch.ts';
import { DEFAULT_TILING, resolveTilingOptions, type TilePredictor, type TilingOptions } from './tiling.ts';
import { withTta } from './tta.ts';

export interface SegmentOptions extends TilingOptions {
  /** Mask threshold on the probability, 0..1. Default 0.5 (DEFAULT_THRESHOLD; pass the model card's). */
  threshold?: number;
  /**
   * 8-fold flip/rotation test-time augmentation. Default false. Costs 8 model runs per tile; each
   * predictor call then carries up to `tileBatch` transformed tiles.
   */
  tta?: boolean;
  /**
   * Rescale factor to the model's pixel size (core/pixel-size.ts pixelScale): the slice is
   * resampled bilinearly by it before normalization and the probabilities back to the slice's
   * size before thresholding. Default 1 (none).
   */
  scale?: number;
  /**
   * Invert the contrast (bright membranes, e.g. block-face SEM, against the dark membranes of the
   * training data): the normalized slice is negated (core/normalize.ts invertedNormalization).
   * Default false.
   */
  invert?: boolean;
}

export interface Segmentation {
  /** Probability of cell interior per pixel, at the input's size. */
  probability: GreyImage<Float32Array>;
  /** 255 where probability >= threshold, else 0. */
  mask: GreyImage<Uint8Array>;
}

/**
 * The predictor the tiler calls, and how many tiles it sends per call: the model itself with
 * `tileBatch` tiles, or with `tta` the 8 views of each tile filling the calls (the tiler sends
 * tileBatch / 8 tiles, at least one; the wrapper sends at most tileBatch views per call).
 */
export function tilePredictorFor(predictor: TilePredictor, tileBatch: number, tta: boolean): { predictor: TilePredictor; tileBatch: number } {
  if (!tta) return { predictor, tileBatch };
  return { predictor: withTta(predictor, { maxTilesPerCall: tileBatch }), tileBatch: Math.max(1, Math.floor(tileBatch / 8)) };
}

/** Segments one greyscale slice (8-bit, 16-bit or float) of any size. */
export async function segmentImage(given: GreyImage, predictor: TilePredictor, options: SegmentOptions = {}): Promise<Segmentation> {
  const threshold = validateThreshold(options.threshold ?? DEFAULT_THRESHOLD);
  const scale = options.scale ?? 1;
  if (!(Number.isFinite(scale) && scale > 0)) throw new EmsegError('E_BAD_ARGUMENT', `scale: expected a number greater than 0, found ${scale}`);
  const image = scale === 1 ? given : resampleBilinear(given, scaledSize(given.width, scale), scaledSize(given.height, scale));
  const tiling = resolveTilingOptions(options);
  const normalized: GreyImage<Float32Array> = { width: image.width, height: image.height, data: normalizeSlice(image, { invert: options.invert === true }) };
  const { predictor: tilePredictor, tileBatch } = tilePredictorFor(predictor, tiling.tileBatch, options.tta === true);
  const modelProbability = await slidingWindowInference(normalized, tilePredictor, { ...options, ...tiling, tileBatch });
  const probability = scale === 1 ? modelProbability : resampleBilinear(modelProbability, given.width, given.height);
  return { probability, mask: thresholdProbability(probability, threshold) };
}

export interface StackProgress {
  /** Pages finished so far, and in all. */
  pagesDone: number;
  pages: number;
  /** Tiles finished in the current page, and in that page. */
  tilesDone: number;
  tiles: number;
}

export interface SegmentStackOptions extends Omit<SegmentOptions, 'onProgress'> {
  /** Called after each predictor call and after each page. */
  onProgress?: (progress: StackProgress) => void;
  /**
   * Pages segmented at the same time. Default 1. More only helps with a predictor that merges
   * concurrent calls into one model run (core/tile-batcher.ts), e.g. to fill a GPU with the single
   * tiles of several 512x512 slices.
   */
  pagesAtOnce?: number;
}

export interface StackSegmentation {
  probability: ImageStack<Float32Array>;
  mask: ImageStack<Uint8Array>;
}

/** Segments every page of a stack, reporting progress; pages keep their order in the result. */
export async function segmentStack(stack: ImageStack, predictor: TilePredictor, options: SegmentStackOptions = {}): Promise<StackSegmentation> {
  const { onProgress, pagesAtOnce = 1, ...rest } = options;
  if (!Number.isInteger(pagesAtOnce) || pagesAtOnce < 1) {
    throw new EmsegError('E_BAD_ARGUMENT', `pagesAtOnce: expected a positive integer, found ${pagesAtOnce}`);
  }
  const pages = stack.pages.length;
  const results: Segmentation[] = new Array(pages);
  let next = 0;
  let finished = 0;
  const worker = async () => {
    while (next < pages) {
      const index = next++;
      options.signal?.throwIfAborted();
      results[index] = await segmentImage(stack.pages[index]!, predictor, {
        ...rest,
        onProgress: (tilesDone, tiles) => onProgress?.({ pagesDone: finished, pages, tilesDone, tiles }),
      });
      finished++;
      onProgress?.({ pagesDone: finished, pages, tilesDone: 0, tiles: 0 });
    }
  };
  await Promise.all(Array.from({ length: Math.min(pagesAtOnce, pages) }, worker));
  return {
    probability: { width: stack.width, height: stack.height, pages: results.map((r) => r.probability) },
    mask: { width: stack.width, height: stack.height, pages: results.map((r) => r.mask) },
  };
}

export { DEFAULT_TILING };
