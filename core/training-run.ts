/**
 * The record of a training run: the `config.json` that `emseg train` writes into its output folder
 * (train/loop.ts) and `emseg convert` copies beside the model as `<name>.train-config.json`. One
 * schema for its readers (`emseg evaluate`'s report and pixel size, `emseg convert`'s card,
 * `emseg train --resume`'s saved options, which are then checked as train options too), all of
 * them reading the file through node/training-run-file.ts: every field they use is checked, a bad
 * one is one line naming the file and the field (`runs/x/config.json: not a training run record of
 * emseg train: config.model.depth: expected a number, found "4"`); fields they do not use are kept
 * as they are. Every field is optional:
 * a run in progress has no `stepsDone` yet, and records of earlier versions lack newer fields.
 *
 * Validation lines (`best`) are read in today's names whichever names they were written with
 * (`normalizeValidationLine`). Platform-neutral.
 */
import { z } from 'zod';
import { EmsegError } from './errors.ts';
import { schemaProblems } from './schema-problems.ts';
import { formatSliceList } from './slice-list.ts';

const text = z.string({ error: 'expected a string' });
const count = z.number({ error: 'expected a number' }).int({ error: 'expected an integer >= 0' }).min(0, { error: 'expected an integer >= 0' });
const positiveInteger = z.number({ error: 'expected a number' }).int({ error: 'expected an integer >= 1' }).min(1, { error: 'expected an integer >= 1' });
const seconds = z.number({ error: 'expected a number of seconds' }).min(0, { error: 'expected a number of seconds >= 0' });
const score = z.number({ error: 'expected a number' });
/** A slice list as the record writes it ("0-24") or as older records did ([0, 1, ...]). */
const sliceList = z.union([text, z.array(count)], { error: 'expected a slice list such as "0-24"' });

/**
 * A validation line (train/log.ts): the step and its figures, in today's names (`vRandBest` at
 * `bestThreshold`, `vRand` at `threshold`) or the older ones (`vRand` best at `threshold`,
 * `vRandAtThreshold` at `atThreshold`); only the step is required.
 */
const validationLineSchema = z.looseObject({
  step: count,
  crops: count.optional(),
  vRandBest: score.optional(),
  vInfoBest: score.optional(),
  bestThreshold: score.optional(),
  threshold: score.optional(),
  vRand: score.optional(),
  vInfo: score.optional(),
  pixelError: score.optional(),
  dice: score.optional(),
  iou: score.optional(),
  atThreshold: score.optional(),
  vRandAtThreshold: score.optional(),
  vInfoAtThreshold: score.optional(),
});

export const trainingRunSchema = z.looseObject({
  /** The command line of the first invocation. */
  command: text.nullable().optional(),
  /** Every invocation (the first, then each --resume) with the steps it covered. */
  invocations: z
    .array(z.looseObject({ command: text.nullable().optional(), fromStep: count.optional(), toStep: count.optional(), status: text.optional() }), {
      error: 'expected a list of invocations',
    })
    .optional(),
  status: text.optional(),
  machine: text.optional(),
  backend: text.optional(),
  split: z.looseObject({ train: sliceList, validation: sliceList }).optional(),
  stepsDone: count.optional(),
  cropsSeen: count.optional(),
  wallTimeSeconds: seconds.optional(),
  /** The validation whose weights the run kept (train/selection-rule.ts), null before any validation; read in today's names. */
  best: validationLineSchema
    .transform((line) => normalizeValidationLine(line) as ValidationFigures)
    .nullable()
    .optional(),
  /** Pixel size in nm of the images the model learned on (inherited from --init's card, or --pixel-size). */
  trainingPixelSize: z.number({ error: 'expected a size in nm' }).positive({ error: 'expected a size in nm greater than 0' }).optional(),
  /** A fine-tuned run's parent (emseg train --init). */
  parent: z.looseObject({ name: text, sha256: text }).optional(),
  /** The resolved options (train/config.ts TrainConfig). */
  config: z
    .looseObject({
      images: text.optional(),
      labels: text.optional(),
      steps: positiveInteger.optional(),
      cropSize: positiveInteger.optional(),
      batchSize: positiveInteger.optional(),
      pixelSize: z.number({ error: 'expected a size in nm or null' }).positive({ error: 'expected a size in nm greater than 0' }).nullable().optional(),
      model: z
        .looseObject({
          depth: positiveInteger,
          baseFilters: positiveInteger,
          batchNorm: z.boolean({ error: 'expected true or false' }),
          dropout: z.number({ error: 'expected a number in [0, 1]' }).min(0, { error: 'expected a number in [0, 1]' }).max(1, { error: 'expected a number in [0, 1]' }),
        })
        .optional(),
    })
    .optional(),
});

/** A validation line in today's names (what the readers use of it). */
export interface ValidationFigures {
  step: number;
  crops?: number;
  vRandBest?: number;
  vInfoBest?: number;
  bestThreshold?: number;
  threshold?: number;
  vRand?: number;
  vInfo?: number;
  pixelError?: number;
  dice?: number;
  iou?: number;
}

export type TrainingRun = z.infer<typeof trainingRunSchema>;

/**
 * A validation line as written before the names were aligned with core/evaluation.ts (`vRand`
 * then meant the best over the sweep, `threshold` its threshold, and `*AtThreshold` the values at
 * `atThreshold`): logs and config.json files of earlier runs.
 */
interface LegacyValidationLine {
  vRand: number;
  vInfo: number;
  threshold: number;
  atThreshold: number;
  vRandAtThreshold: number;
  vInfoAtThreshold: number;
}

/** A validation line in today's names, whichever names it was written with. */
export function normalizeValidationLine<T extends object>(line: T): T {
  if ('vRandBest' in line || !('vRand' in line)) return line;
  const { vRand, vInfo, threshold, atThreshold, vRandAtThreshold, vInfoAtThreshold, ...rest } = line as T & LegacyValidationLine;
  const renamed: Record<string, unknown> = { ...rest, vRandBest: vRand, vInfoBest: vInfo, bestThreshold: threshold, threshold: atThreshold, vRand: vRandAtThreshold, vInfo: vInfoAtThreshold };
  // A field the older line did not have stays absent, not undefined.
  for (const key of Object.keys(renamed)) if (renamed[key] === undefined) delete renamed[key];
  return renamed as unknown as T;
}

/** Checks a parsed config.json (`what` names the file in the error) and returns it with `best` in today's names. */
export function parseTrainingRun(value: unknown, what: string): TrainingRun {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new EmsegError('E_CORRUPT', `${what}: not a training run record of emseg train: expected a JSON object, found ${JSON.stringify(value)?.slice(0, 40)}`);
  }
  const result = trainingRunSchema.safeParse(value);
  if (!result.success) {
    throw new EmsegError('E_CORRUPT', `${what}: not a training run record of emseg train: ${schemaProblems(result.error.issues, value, '(record)')}`);
  }
  return result.data;
}

/** Parses a config.json's text; E_CORRUPT naming the file when it is not JSON or not a run record. */
export function parseTrainingRunJson(json: string, what: string): TrainingRun {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (error) {
    throw new EmsegError('E_CORRUPT', `${what}: not valid JSON (${(error as Error).message})`, { cause: error });
  }
  return parseTrainingRun(value, what);
}

/** A slice list of the record as text ("0-24" stays, [0, 1, 2, 5] becomes "0-2,5"). */
export function sliceListText(list: string | readonly number[]): string {
  return typeof list === 'string' ? list : formatSliceList(list);
}
