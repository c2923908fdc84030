/**
 * The model card: its schema (the one definition of every field; the `ModelCard` type is derived
 * from it), its parsing and validation, its copy in the ONNX metadata, and the segmentation
 * options it gives. Every part reads a card through `parseModelCard` and builds tiling options
 * through `segmentOptionsFromCard`, so that a card is checked and used the same way everywhere.
 *
 *   const card = parseModelCardJson(text, 'models/isbi2012-unet.json');   // EmsegError E_MODEL naming each bad field
 *   const { mask } = await segmentImage(slice, predictor, segmentOptionsFromCard(card));
 *
 * Adding an optional field: one line in `modelCardSchema` (e.g. `licence: text.optional()`);
 * the type, the validation and the error message follow. Unknown fields are kept as they are.
 * Platform-neutral.
 */
import { z } from 'zod';
import { DEFAULT_DEPTH, DEFAULT_HALO, DEFAULT_THRESHOLD, DEFAULT_TILE, MODEL_CARD_METADATA_KEY, contractSection } from './contract.ts';
import { cellParamsSchema } from './cells/cell-params.ts';
import { EmsegError } from './errors.ts';
import { schemaProblems } from './schema-problems.ts';

const text = z.string({ error: 'expected a string' });
const integerFrom = (min: number) =>
  z.number({ error: 'expected a number' }).int({ error: `expected an integer >= ${min}` }).min(min, { error: `expected an integer >= ${min}` });
const unitInterval = z
  .number({ error: 'expected a number in [0, 1]' })
  .min(0, { error: 'expected a number in [0, 1]' })
  .max(1, { error: 'expected a number in [0, 1]' });
const flag = z.boolean({ error: 'expected true or false' });
const sliceIndices = z.array(integerFrom(0), { error: 'expected a list of slice indices' });
const nchw = z.tuple([z.literal('N'), z.literal(1), z.literal('H'), z.literal('W')], { error: 'expected ["N", 1, "H", "W"]' });
const float32 = z.literal('float32', { error: 'expected "float32"' });

export const metricFiguresSchema = z
  .object({
    vRand: z.number().optional(),
    vInfo: z.number().optional(),
    /** Threshold at which vRand was best (vInfo is its own best over the thresholds, possibly at another). */
    bestThreshold: z.number().optional(),
    pixelError: z.number().optional(),
    /** Dice and IoU of the cell-interior class (label 255; core/metrics/pixel.ts) at the card's threshold: not of the membranes. */
    dice: z.number().optional(),
    iou: z.number().optional(),
  })
  .catchall(z.number().optional());

export const modelCardSchema = z.looseObject({
  name: text,
  version: text,
  description: text.optional(),
  architecture: z.looseObject({
    kind: z.literal('unet', { error: 'expected "unet"' }),
    depth: integerFrom(1),
    baseFilters: integerFrom(0),
    batchNorm: flag,
    dropout: unitInterval,
    parameters: integerFrom(0),
  }),
  contract: z.object({
    input: z.object({ name: text, dtype: float32, shape: nchw, sizeMultiple: integerFrom(1) }),
    output: z.object({ name: text, dtype: float32, shape: nchw, meaning: text }),
    preprocessing: text,
    /** The preprocessing step by step (core/contract.ts preprocessingSteps); absent in older cards. */
    preprocessingSteps: z.array(text).optional(),
    onnx: z.object({ irVersion: integerFrom(1), opset: integerFrom(1) }),
  }),
  /** Mask threshold on the cell-interior probability. */
  threshold: unitInterval,
  /** Tile size and halo recommended for inference. */
  tile: integerFrom(1),
  halo: integerFrom(0),
  /** Whether the served default applies 8-fold flip/rotation test-time augmentation. */
  tta: flag.optional(),
  training: z
    .looseObject({
      data: text,
      split: z.object({ train: sliceIndices, validation: sliceIndices }),
      command: text.optional(),
      budget: text.optional(),
      cropsSeen: z.number().optional(),
      steps: z.number().optional(),
      wallTimeSeconds: z.number().optional(),
      machine: text.optional(),
      backend: text.optional(),
      /** A fine-tuned model's parent (emseg train --init): its name and the sha256 of its ONNX file. */
      parent: z.looseObject({ name: text, sha256: z.string().regex(/^[0-9a-f]{64}$/, { error: 'expected 64 lowercase hex digits' }) }).optional(),
    })
    .optional(),
  metrics: z
    .looseObject({
      command: text,
      split: text,
      machine: text.optional(),
      withoutTta: metricFiguresSchema.optional(),
      withTta: metricFiguresSchema.optional(),
    })
    .optional(),
  conversion: z
    .object({
      command: text.optional(),
      /** Largest absolute difference between tfjs and onnxruntime outputs in the parity check. */
      parityMaxAbsDiff: z.number({ error: 'expected a number' }),
      paritySizes: z.array(text),
    })
    .optional(),
  /**
   * An int8 variant made by `emseg quantize` from a float model (convert/quantize/): how it was
   * quantized, on which slices its activation ranges were observed, its float parent (name and
   * sha256 of that ONNX file), and how far its output is from the parent's on a calibration slice.
   */
  quantization: z
    .looseObject({
      method: text,
      weights: text,
      activations: text,
      calibration: z.looseObject({ data: text, slices: sliceIndices, statistic: text }),
      int8Convs: z.array(text),
      floatOps: z.array(text),
      parent: z.looseObject({ name: text, sha256: z.string().regex(/^[0-9a-f]{64}$/, { error: 'expected 64 lowercase hex digits' }) }),
      command: text.optional(),
      comparedWithParent: z
        .looseObject({ slice: integerFrom(0), maxAbsDiff: z.number(), meanAbsDiff: z.number(), maskAgreement: unitInterval })
        .optional(),
    })
    .optional(),
  /**
   * Instance labels from the probability map (core/cells/cell-params.ts: seed rule, thresholds,
   * size filters, how they were chosen); absent: that module's defaults.
   */
  cells: cellParamsSchema.optional(),
  /** Pixel size in nm of the images the model learned on (core/pixel-size.ts); 4 for ISBI 2012. */
  trainingPixelSize: z.number({ error: 'expected a size in nm' }).positive({ error: 'expected a size in nm greater than 0' }).optional(),
  /** Licences as published: `model` of these weights (SPDX identifier), `data` of the training data (as its publishers state it). */
  licence: z.looseObject({ model: text, data: text }).optional(),
  /** What the model is for, and for whom. */
  intendedUse: text.optional(),
  /** Where it was not tested or is known to fall short: species, imaging modality, pixel size, data. */
  limitations: z.array(text).optional(),
  /** sha256 of the ONNX file (in the JSON beside the file; absent inside the ONNX metadata). */
  sha256: z.string().regex(/^[0-9a-f]{64}$/, { error: 'expected 64 lowercase hex digits' }).optional(),
});

export type ModelCard = z.infer<typeof modelCardSchema>;
export type MetricFigures = z.infer<typeof metricFiguresSchema>;

/**
 * Checks a parsed JSON value against the card schema. Throws one E_MODEL line naming `what` and
 * every bad field, e.g. `x.json: bad model card: threshold: expected a number in [0, 1], found 2`.
 */
export function parseModelCard(value: unknown, what: string): ModelCard {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new EmsegError('E_MODEL', `${what}: the model card is not a JSON object`);
  }
  const result = modelCardSchema.safeParse(value);
  if (result.success) return result.data;
  throw new EmsegError('E_MODEL', `${what}: bad model card: ${schemaProblems(result.error.issues, value, '(card)')}`);
}

/** Parses and checks a card's JSON text; E_MODEL when it is not JSON or not a valid card. */
export function parseModelCardJson(json: string, what: string): ModelCard {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (error) {
    throw new EmsegError('E_MODEL', `${what}: the model card is not valid JSON`, { cause: error });
  }
  return parseModelCard(value, what);
}

/** The metadata_props entry carrying the card (sha256 removed: a file cannot contain its own hash). */
export function modelCardMetadata(card: ModelCard): Record<string, string> {
  const { sha256: _omitted, ...withoutHash } = card;
  return { [MODEL_CARD_METADATA_KEY]: JSON.stringify(withoutHash) };
}

/** The card in ONNX metadata_props (as written by modelCardMetadata), checked; undefined when absent. */
export function modelCardFromMetadata(metadata: Readonly<Record<string, string>>, what: string): ModelCard | undefined {
  const json = metadata[MODEL_CARD_METADATA_KEY];
  if (json === undefined) return undefined;
  return parseModelCardJson(json, `${what} metadata ${MODEL_CARD_METADATA_KEY}`);
}

/** The card used when a model carries none: the contract's defaults. */
export function defaultModelCard(name: string): ModelCard {
  return {
    name,
    version: 'unknown',
    description: 'No model card was found; contract defaults are assumed.',
    architecture: { kind: 'unet', depth: DEFAULT_DEPTH, baseFilters: 0, batchNorm: false, dropout: 0, parameters: 0 },
    contract: contractSection(DEFAULT_DEPTH),
    threshold: DEFAULT_THRESHOLD,
    tile: DEFAULT_TILE,
    halo: DEFAULT_HALO,
  };
}
