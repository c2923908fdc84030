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

/** What a caller may set over the card's defaults. */
export type CardOverrides = Pick<SegmentOptions, 'threshold' | 'tta' | 'tile' | 'halo' | 'tileBatch' | 'signal'>;

/**
 * The segmentation options a card gives (threshold, TTA, tile, halo, size multiple), with the
 * caller's overrides where they are defined.
 */
export function segmentOptionsFromCard(card: ModelCard, overrides: CardOverrides = {}): Omit<SegmentOptions, 'onProgress'> {
  return {
    threshold: card.threshold,
    tta: card.tta ?? false,
    tile: card.tile,
    halo: card.halo,
    sizeMultiple: card.contract.input.sizeMultiple,
    ...definedFields(overrides),
  };
}
