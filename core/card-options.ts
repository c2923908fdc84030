/**
 * The segmentation options a model card gives: threshold, test-time augmentation, tile, halo and
 * size multiple, with the caller's overrides where they are defined. The one place that turns a
 * card into core/inference.ts options (server, predict, evaluate, web demo). Kept apart from the
 * card's schema (core/model-card.ts) so that the browser bundle does not carry the validator.
 *
 *   const { mask } = await segmentImage(slice, predictor, segmentOptionsFromCard(card, { threshold: 0.3 }));
 */
import { definedFields } from './defined.ts';
import type { SegmentOptions } from './inference.ts';
import type { ModelCard } from './model-card.ts';
import { segmentationPixelScale } from './pixel-size.ts';

/** What a caller may set over the card's defaults; `pixelSize` (nm) of the images becomes the `scale` to the card's trainingPixelSize. */
export type CardOverrides = Pick<SegmentOptions, 'threshold' | 'tta' | 'tile' | 'halo' | 'tileBatch' | 'signal' | 'invert'> & { pixelSize?: number | undefined };

/** The card's training pixel size in nm (core/pixel-size.ts); undefined when the card does not say. */
export function trainingPixelSizeOf(card: ModelCard): number | undefined {
  const value = card.trainingPixelSize ?? card.training?.['trainingPixelSize'];
  return typeof value === 'number' && value > 0 ? value : undefined;
}

/**
 * The segmentation options a card gives (threshold, TTA, tile, halo, size multiple), with the
 * caller's overrides where they are defined. A `pixelSize` override gives the rescale factor to
 * the card's trainingPixelSize (an EmsegError when the card has none, or the factor is over
 * MAX_PIXEL_SCALE either way).
 */
export function segmentOptionsFromCard(card: ModelCard, overrides: CardOverrides = {}): Omit<SegmentOptions, 'onProgress'> {
  const { pixelSize, ...rest } = overrides;
  return {
    threshold: card.threshold,
    tta: card.tta ?? false,
    tile: card.tile,
    halo: card.halo,
    sizeMultiple: card.contract.input.sizeMultiple,
    ...definedFields(rest),
    ...(pixelSize !== undefined ? { scale: segmentationPixelScale(pixelSize, trainingPixelSizeOf(card), `the card of ${card.name}`) } : {}),
  };
}
