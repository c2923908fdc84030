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
    onnx: { irVersion: ONNX_IR_VERSION, opset: ONNX_OPSET },
  };
}
