/**
 * The model contract shared by train, convert, serve and the web demo (see CONVENTIONS.md):
 * tensor names and layout, size multiple, default threshold, tiling defaults, and the model card
 * that travels beside the ONNX file and inside its metadata.
 */

export const INPUT_NAME = 'image';
export const OUTPUT_NAME = 'probability';
/** Key of the model card JSON in the ONNX `metadata_props`. */
export const MODEL_CARD_METADATA_KEY = 'emseg.model_card';
export const ONNX_IR_VERSION = 8;
export const ONNX_OPSET = 17;
export const DEFAULT_THRESHOLD = 0.5;
export const DEFAULT_DEPTH = 4;
/** Height and width given to the model must be multiples of 2^depth. */
export const sizeMultipleFor = (depth: number): number => 2 ** depth;
export const DEFAULT_TILE = 512;
export const DEFAULT_HALO = 32;
/** Mask polarity: cell interior (probability >= threshold) is 255, membrane 0, as in the labels. */
export const MASK_FOREGROUND = 255;
export const MASK_BACKGROUND = 0;

/** The model card's type and schema live in core/model-card.ts (its single owner). */
import type { ModelCard } from './model-card.ts';
export type { MetricFigures, ModelCard } from './model-card.ts';

export const CONTRACT_PREPROCESSING =
  '8-bit intensities as float32, then zero mean and unit variance over the whole 2D slice, computed before padding and tiling';

/**
 * The preprocessing step by step, exactly as core/normalize.ts, core/padding.ts and core/tiling.ts
 * do it, for partners who reimplement it (model card `contract.preprocessingSteps`).
 */
export function preprocessingSteps(sizeMultiple: number): string[] {
  return [
    'One 2D greyscale slice at a time; colour images are first converted to grey with the BT.601 weights (0.299 R + 0.587 G + 0.114 B).',
    'Intensities are taken at face value as float: 8-bit (0-255), 16-bit (0-65535) and float images are not rescaled first (the normalization cancels any global scale).',
    'Normalization over the whole slice: (x - mean) / std, with the population standard deviation (divided by N, not N - 1) and no epsilon; statistics accumulated in float64, output float32; a constant slice becomes all zeros.',
    'The statistics are those of the whole slice, computed before padding and tiling, so that every tile of a slice sees the same values.',
    `Sizes that are not multiples of ${sizeMultiple}: mirror padding (reflection about the edge pixel, numpy's 'reflect', edge not repeated) up to the next multiple, output cropped back.`,
    'Images larger than the tile: overlapping tiles (the card\'s tile, at least the card\'s halo of overlap) blended with Gaussian weights, so no seams appear.',
  ];
}

export function contractSection(depth: number): ModelCard['contract'] {
  return {
    input: { name: INPUT_NAME, dtype: 'float32', shape: ['N', 1, 'H', 'W'], sizeMultiple: sizeMultipleFor(depth) },
    output: {
      name: OUTPUT_NAME,
      dtype: 'float32',
      shape: ['N', 1, 'H', 'W'],
      meaning: 'probability that the pixel is cell interior (white, 255, in the ISBI labels); sigmoid inside the graph',
    },
    preprocessing: CONTRACT_PREPROCESSING,
    preprocessingSteps: preprocessingSteps(sizeMultipleFor(depth)),
    onnx: { irVersion: ONNX_IR_VERSION, opset: ONNX_OPSET },
  };
}
