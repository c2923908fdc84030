/**
 * The demo's one entry into the inference core: the same segmentImage (normalization, mirror
 * padding, tiling with halo and blending, thresholding) the server and the predict CLI call,
 * with the tile, halo and size multiple of the model card (core/card-options.ts, as the server
 * and predict use them). Re-thresholding at another value uses core/threshold.ts too. The pixel
 * size (the field, else the file's) and the contrast check follow core/pixel-size.ts and
 * core/contrast-polarity.ts, as in predict and the server.
 */
import { segmentOptionsFromCard, trainingPixelSizeOf } from '../../core/card-options.ts';
import { checkPolarity } from '../../core/contrast-polarity.ts';
import type { ModelCard } from '../../core/contract.ts';
import type { GreyImage, PixelSize } from '../../core/image.ts';
import { choosePixelSize } from '../../core/pixel-size.ts';
import { segmentImage } from '../../core/inference.ts';
import { thresholdProbability } from '../../core/threshold.ts';
import type { TilePredictor } from '../../core/tiling.ts';

export interface SliceResult {
  probability: GreyImage<Float32Array>;
  /** Mask at `threshold` (255 cell interior, 0 membrane). */
  mask: GreyImage<Uint8Array>;
  threshold: number;
  /** The pixel size of the slice in nm (the field's, else the file's), undefined when unknown: the cell table's µm columns. */
  pixelSize: number | undefined;
  /** Which pixel size was used and from where (core/pixel-size.ts choosePixelSize), shown on the page. */
  pixelSizeLine: string;
  /** The contrast looks inverted relative to the training data (core/contrast-polarity.ts), shown on the page. */
  warning: string | undefined;
}

export interface SegmentationOptions {
  threshold: number;
  tta: boolean;
  /** Pixel size of the image in nm, rescaled to the card's trainingPixelSize (core/pixel-size.ts). Default: the file's. */
  pixelSize?: number;
  /** The pixel size the file states (ImageStack.pixelSize), used when `pixelSize` is not given. */
  statedPixelSize?: PixelSize;
  /** Invert the contrast before the model sees the slice. Default false. */
  invert?: boolean;
  /** The file's name, for the lines shown. Default 'the image'. */
  name?: string;
  /** Tiles done and tiles in all, after each model call. */
  onProgress?: (done: number, total: number) => void;
}

export async function runSegmentation(
  page: GreyImage,
  predictor: TilePredictor,
  card: ModelCard,
  options: SegmentationOptions,
): Promise<SliceResult> {
  const name = options.name ?? 'the image';
  // The same rules as emseg predict and the server: the field, else the file's size, else none.
  const pixelSize = choosePixelSize({ override: options.pixelSize, stated: options.statedPixelSize, trainingPixelSize: trainingPixelSizeOf(card), name, option: 'the pixel-size field' });
  const polarity = checkPolarity([page], name, { invert: options.invert === true, option: 'the "Invert contrast" box' });
  const result = await segmentImage(page, predictor, {
    ...segmentOptionsFromCard(card, { threshold: options.threshold, tta: options.tta, pixelSize: options.pixelSize, invert: options.invert === true }),
    scale: pixelSize.scale,
    onProgress: options.onProgress,
  });
  return { probability: result.probability, mask: result.mask, threshold: options.threshold, pixelSize: pixelSize.pixelSize, pixelSizeLine: pixelSize.line, warning: polarity.warning };
}

export function applyThreshold(probability: GreyImage<Float32Array>, threshold: number): GreyImage<Uint8Array> {
  return thresholdProbability(probability, threshold);
}
