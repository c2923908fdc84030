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

export interface MetricFigures {
  vRand?: number;
  vInfo?: number;
  /** Threshold at which vRand was best (vInfo is its own best over the thresholds, possibly at another). */
  bestThreshold?: number;
  pixelError?: number;
  dice?: number;
  iou?: number;
  [name: string]: number | undefined;
}

export interface ModelCard {
  name: string;
  version: string;
  description?: string;
  architecture: {
    kind: 'unet';
    depth: number;
    baseFilters: number;
    batchNorm: boolean;
    dropout: number;
    parameters: number;
  };
  contract: {
    input: { name: string; dtype: 'float32'; shape: ['N', 1, 'H', 'W']; sizeMultiple: number };
    output: { name: string; dtype: 'float32'; shape: ['N', 1, 'H', 'W']; meaning: string };
    preprocessing: string;
    onnx: { irVersion: number; opset: number };
  };
  threshold: number;
  tile: number;
  halo: number;
  /** Whether the served default applies 8-fold flip/rotation test-time augmentation. */
  tta?: boolean;
  training?: {
    data: string;
    split: { train: number[]; validation: number[] };
    command?: string;
    budget?: string;
    cropsSeen?: number;
    steps?: number;
    wallTimeSeconds?: number;
    machine?: string;
    backend?: string;
    [key: string]: unknown;
  };
  metrics?: {
    command: string;
    split: string;
    machine?: string;
    withoutTta?: MetricFigures;
    withTta?: MetricFigures;
    [key: string]: unknown;
  };
  conversion?: {
    command?: string;
    /** Largest absolute difference between tfjs and onnxruntime outputs in the parity check. */
    parityMaxAbsDiff: number;
    paritySizes: string[];
  };
  /** sha256 of the ONNX file (in the JSON beside the file; absent inside the ONNX metadata). */
  sha256?: string;
  /** Pixel size in nm of the images the model learned on (core/pixel-size.ts); 4 for ISBI 2012. */
  trainingPixelSize?: number;
}

/** The card's training pixel size: top-level, else recorded with the training facts; undefined when unknown. */
export function trainingPixelSizeOf(card: ModelCard): number | undefined {
  const value = card.trainingPixelSize ?? card.training?.['trainingPixelSize'];
  return typeof value === 'number' && value > 0 ? value : undefined;
}

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
