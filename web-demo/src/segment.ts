/**
 * The demo's one entry into the inference core: the same segmentImage (normalization, mirror
 * padding, tiling with halo and blending, thresholding) the server and the predict CLI call,
 * with the tile, halo and size multiple of the model card (core/card-options.ts, as the server
 * and predict use them). Re-thresholding at another value uses core/threshold.ts too.
 */
import { segmentOptionsFromCard } from '../../core/card-options.ts';
import type { ModelCard } from '../../core/contract.ts';
import type { GreyImage } from '../../core/image.ts';
import { segmentImage } from '../../core/inference.ts';
import { thresholdProbability } from '../../core/threshold.ts';
import type { TilePredictor } from '../../core/tiling.ts';

export interface SliceResult {
  probability: GreyImage<Float32Array>;
  /** Mask at `threshold` (255 cell interior, 0 membrane). */
  mask: GreyImage<Uint8Array>;
  threshold: number;
}

export interface SegmentationOptions {
  threshold: number;
  tta: boolean;
  /** Tiles done and tiles in all, after each model call. */
  onProgress?: (done: number, total: number) => void;
}

export async function runSegmentation(
  page: GreyImage,
  predictor: TilePredictor,
  card: ModelCard,
  options: SegmentationOptions,
): Promise<SliceResult> {
  const result = await segmentImage(page, predictor, {
    ...segmentOptionsFromCard(card, { threshold: options.threshold, tta: options.tta }),
    onProgress: options.onProgress,
  });
  return { probability: result.probability, mask: result.mask, threshold: options.threshold };
}

export function applyThreshold(probability: GreyImage<Float32Array>, threshold: number): GreyImage<Uint8Array> {
  return thresholdProbability(probability, threshold);
}
