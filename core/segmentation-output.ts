/**
 * What a segmentation is written as, for the predict CLI and the server alike: the kinds of output,
 * the file formats, the rule that picks a format when none is asked for, and the 8-bit form of a
 * probability map. Platform-neutral (the encoders are in node/encode-segmentation.ts).
 */
import type { GreyImage } from './image.ts';

/** mask: 0/255 8-bit; probability: float32 cell-interior probability; overlay: RGB picture of the mask over the image. */
export const OUTPUT_KINDS = ['mask', 'probability', 'overlay'] as const;
export type OutputKind = (typeof OUTPUT_KINDS)[number];
/**
 * What `emseg predict` writes: the kinds above and `labels`, instance labels (uint32 TIFF, 0 =
 * boundary, 1.. = cell; core/cells).
 */
export const PREDICT_OUTPUT_KINDS = [...OUTPUT_KINDS, 'labels'] as const;
export type PredictOutputKind = (typeof PREDICT_OUTPUT_KINDS)[number];
/**
 * What the server answers: the kinds of `emseg predict` (labels as a uint32 TIFF or, up to 65535
 * cells a page, a 16-bit PNG) and `cells`, the cell table of `emseg predict --cells` as JSON or CSV.
 */
export const SERVED_OUTPUT_KINDS = [...PREDICT_OUTPUT_KINDS, 'cells'] as const;
export type ServedOutputKind = (typeof SERVED_OUTPUT_KINDS)[number];
export const OUTPUT_FORMATS = ['png', 'tiff'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];
/** Formats of the cell table (`cells`): JSON (the default) or the CSV of `emseg predict --cells`. */
export const TABLE_FORMATS = ['json', 'csv'] as const;
export type TableFormat = (typeof TABLE_FORMATS)[number];
export const SERVED_FORMATS = [...OUTPUT_FORMATS, ...TABLE_FORMATS] as const;
export type ServedFormat = (typeof SERVED_FORMATS)[number];

/**
 * The format when none is asked for: an overlay is a PNG; a probability map a float32 TIFF, labels
 * a uint32 TIFF; a mask follows its input (TIFF for a TIFF or a stack of several pages, else PNG).
 */
export function defaultOutputFormat(output: PredictOutputKind, input: { tiff: boolean; pages: number }): OutputFormat {
  if (output === 'overlay') return 'png';
  if (output === 'probability' || output === 'labels') return 'tiff';
  return input.tiff || input.pages > 1 ? 'tiff' : 'png';
}

/** A probability map as 8-bit, round(p * 255) with p clamped to [0, 1], for a PNG. */
export function quantizeProbability(image: GreyImage<Float32Array>): GreyImage<Uint8Array> {
  const data = new Uint8Array(image.data.length);
  for (let i = 0; i < data.length; i++) data[i] = Math.round(Math.min(1, Math.max(0, image.data[i]!)) * 255);
  return { width: image.width, height: image.height, data };
}
