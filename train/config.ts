/**
 * The training configuration: every knob of `emseg train` with its documented default, and one
 * validator that turns a partial input (from the CLI or a test) into a complete, checked config.
 *
 * The budget is a number of optimizer steps (`steps`, or `crops` / `batchSize`). The learning-rate
 * schedule is defined over those steps, so a run is reproducible whatever the machine speed;
 * `maxMinutes` only stops a run early (with a checkpoint, continue with `resume`), it never
 * reshapes the schedule.
 */
import { definedFields } from '../core/defined.ts';
import { EmsegError } from '../core/errors.ts';
import { formatSliceList } from '../core/slice-list.ts';
import { sizeMultipleFor } from '../core/contract.ts';
import { BACKEND_CHOICES, type BackendChoice } from './backend.ts';
import { resolveUNetOptions, type ResolvedUNetOptions, type UNetOptions } from './unet.ts';
import { FINE_TUNE_DEFAULTS, FINE_TUNE_SCHEDULE, resolveFineTune, type FineTuneConfig } from './fine-tune.ts';
import { DATA_OPTION_DEFAULTS, resolveDataOptions, type DataOptions } from './data-options.ts';
import { ISBI_SPLIT, ISBI_TRAIN_IMAGES, ISBI_TRAIN_LABELS } from '../core/isbi-data.ts';
import { DEFAULT_SELECTION_MARGIN } from './selection-rule.ts';


export const SCHEDULE_KINDS = ['cosine', 'constant'] as const;
export type ScheduleKind = (typeof SCHEDULE_KINDS)[number];

export interface LossWeights {
  /** Weight of the (pixel-weighted) binary cross-entropy. Default 1. */
  bce: number;
  /** Weight of the soft Dice loss on the cell-interior class. Default 1. */
  dice: number;
}

export interface BorderWeightConfig {
  /** Use the U-Net paper's border weight map w(x) in the cross-entropy. Default true. */
  enabled: boolean;
  /** w0: extra weight on thin membranes between touching cells. Default 10. */
  w0: number;
  /** sigma in pixels of the distance term. Default 5. */
  sigma: number;
}

/** Fine-tuning (train/fine-tune.ts) and label/pixel options of the data (train/data-options.ts) are part of it. */
export interface TrainConfig extends FineTuneConfig, DataOptions {
  /** Training images: TIFF stacks and/or folders of images, comma-separated (node/labelled-sources.ts). Default data/isbi2012/train-volume.tif. */
  images: string;
  /** Labels for each entry of `images`, in the same order; 255 = cell interior, 0 = membrane. Default data/isbi2012/train-labels.tif. */
  labels: string;
  /** Slice indices used for training. Default 0-24. */
  trainSlices: number[];
  /** Slice indices used for validation (whole slices). Default 25-29. */
  validationSlices: number[];
  /** Side of the square random crops, a multiple of 2^depth. Default 256. */
  cropSize: number;
  /** Crops per optimizer step. Default 4. */
  batchSize: number;
  /** Budget in optimizer steps; crops seen = steps * batchSize. Default 2500 (10,000 crops). */
  steps: number;
  /** Stop early after this many minutes of this invocation (checkpoint saved), null = no limit. Default null. */
  maxMinutes: number | null;
  /** Peak learning rate of Adam. Default 1e-3. */
  learningRate: number;
  /** Final learning rate of the cosine schedule, as a fraction of the peak. Default 0.01. */
  minLearningRateFraction: number;
  /** Linear warm-up steps from 0 to the peak. Default 50, or a tenth of the budget if that is less. */
  warmupSteps: number;
  /** `cosine` (warm-up then cosine decay over the whole budget) or `constant`. Default cosine. */
  schedule: ScheduleKind;
  /** Loss balance. */
  loss: LossWeights;
  /** Border weight map (train/weight-map.ts). */
  borderWeights: BorderWeightConfig;
  /** Flips, 90-degree rotations, elastic deformation, intensity jitter. Default true. */
  augment: boolean;
  /**
   * With `augment`: the shifts of other microscopes and labs too (train/augment-shifts.ts: pixel-size
   * jitter, blur, noise, gamma, saturation, JPEG artefacts, section defects). Default true.
   */
  shiftAugment: boolean;
  /** Decay of the weight average the run keeps (train/weight-average.ts), 0 = none. Default 0.998. */
  emaDecay: number;
  /** Margin of the selection rule (train/selection-rule.ts) on V_rand and V_info at threshold 0.5. Default 0.005. */
  selectionMargin: number;
  /** U-Net architecture (train/unet.ts): depth 4, 16 base filters, batch norm off, dropout 0 by default; its seed is `seed`. */
  model: ResolvedUNetOptions;
  /** Seed of the weight initializers and of the batch sampling. Default 42. */
  seed: number;
  /** Validate on the whole validation slices every N steps (and at the last step). Default 100. */
  validateEvery: number;
  /** Write the `latest` checkpoint every N steps (and when stopping). Default 50. */
  checkpointEvery: number;
  /** One training log line per window of N steps. Default 10. */
  logEvery: number;
  /** Compute backend. Default auto. */
  backend: BackendChoice;
  /** Worker threads of the compute engine, 0 = let the engine decide. Default 0. */
  workers: number;
  /** Output folder. Default runs/isbi2012-unet. */
  outDir: string;
  /** Continue from `<outDir>/checkpoints/latest`. Default false. */
  resume: boolean;
}

/** What callers may pass: everything optional, the model options partial too. */
export type TrainConfigInput = Partial<Omit<TrainConfig, 'model' | 'loss' | 'borderWeights'>> & {
  model?: UNetOptions;
  loss?: Partial<LossWeights>;
  borderWeights?: Partial<BorderWeightConfig>;
  /** Alternative budget in crops; steps = ceil(crops / batchSize). Not together with steps. */
  crops?: number;
};

export const TRAIN_DEFAULTS: TrainConfig = {
  images: ISBI_TRAIN_IMAGES,
  labels: ISBI_TRAIN_LABELS,
  trainSlices: [...ISBI_SPLIT.train],
  validationSlices: [...ISBI_SPLIT.validation],
  cropSize: 256,
  batchSize: 4,
  steps: 2500,
  maxMinutes: null,
  learningRate: 1e-3,
  minLearningRateFraction: 0.01,
  warmupSteps: 50,
  schedule: 'cosine',
  loss: { bce: 1, dice: 1 },
  borderWeights: { enabled: true, w0: 10, sigma: 5 },
  augment: true,
  shiftAugment: true,
  emaDecay: 0.998,
  selectionMargin: DEFAULT_SELECTION_MARGIN,
  model: resolveUNetOptions({}),
  seed: 42,
  validateEvery: 100,
  checkpointEvery: 50,
  logEvery: 10,
  backend: 'auto',
  workers: 0,
  outDir: 'runs/isbi2012-unet',
  resume: false,
  ...FINE_TUNE_DEFAULTS,
  ...DATA_OPTION_DEFAULTS,
};

/** How an option is typed on the command line. */
export type TrainOptionKind = 'string' | 'number' | 'boolean' | 'slices' | 'choice';

export interface TrainOption {
  /** The `emseg train` flag, without dashes. */
  flag: string;
  /** Where its value goes in TrainConfigInput: `cropSize`, or `model.depth` for a nested one. */
  path: string;
  kind: TrainOptionKind;
  /** The values a `choice` accepts. */
  choices?: readonly string[];
  /** The help text, with the default. */
  description: string;
}

const d = TRAIN_DEFAULTS;

/**
 * Every option of `emseg train`, once: the CLI builds its flags and parses them from this table,
 * and error messages name the flag the user typed (`optionLabel`).
 */
export const TRAIN_OPTIONS: readonly TrainOption[] = [
  { flag: 'images', path: 'images', kind: 'string', description: `Training images: TIFF stacks or folders of PNG/TIFF images, comma-separated (node/labelled-sources.ts). Default ${d.images}` },
  { flag: 'labels', path: 'labels', kind: 'string', description: `Labels of each --images entry (stack or folder, files matched by name), 255 = cell interior. Default ${d.labels}` },
  { flag: 'train-slices', path: 'trainSlices', kind: 'slices', description: `Training slice indices, e.g. 0-24. Default ${formatSliceList(d.trainSlices)}` },
  { flag: 'validation-slices', path: 'validationSlices', kind: 'slices', description: `Validation slice indices. Default ${formatSliceList(d.validationSlices)}` },
  { flag: 'crop-size', path: 'cropSize', kind: 'number', description: `Random crop side, a multiple of 2^depth. Default ${d.cropSize}` },
  { flag: 'batch-size', path: 'batchSize', kind: 'number', description: `Crops per step. Default ${d.batchSize}` },
  { flag: 'steps', path: 'steps', kind: 'number', description: `Budget in steps (defines the schedule). Default ${d.steps}` },
  { flag: 'crops', path: 'crops', kind: 'number', description: 'Budget in crops instead of steps: steps = ceil(crops / batch size)' },
  { flag: 'max-minutes', path: 'maxMinutes', kind: 'number', description: 'Stop after this many minutes of this run, with a checkpoint (continue with --resume)' },
  { flag: 'learning-rate', path: 'learningRate', kind: 'number', description: `Peak Adam learning rate. Default ${d.learningRate}` },
  { flag: 'min-lr-fraction', path: 'minLearningRateFraction', kind: 'number', description: `Final rate of the cosine decay, fraction of the peak. Default ${d.minLearningRateFraction}` },
  { flag: 'warmup-steps', path: 'warmupSteps', kind: 'number', description: `Linear warm-up steps. Default ${d.warmupSteps}` },
  { flag: 'schedule', path: 'schedule', kind: 'choice', choices: SCHEDULE_KINDS, description: `cosine or constant. Default ${d.schedule}` },
  { flag: 'bce-weight', path: 'loss.bce', kind: 'number', description: `Weight of the cross-entropy. Default ${d.loss.bce}` },
  { flag: 'dice-weight', path: 'loss.dice', kind: 'number', description: `Weight of the soft Dice loss. Default ${d.loss.dice}` },
  { flag: 'border-weights', path: 'borderWeights.enabled', kind: 'boolean', description: `U-Net border weight map in the cross-entropy (--no-border-weights to disable). Default ${d.borderWeights.enabled}` },
  { flag: 'border-w0', path: 'borderWeights.w0', kind: 'number', description: `w0 of the border weight map. Default ${d.borderWeights.w0}` },
  { flag: 'border-sigma', path: 'borderWeights.sigma', kind: 'number', description: `sigma (pixels) of the border weight map. Default ${d.borderWeights.sigma}` },
  { flag: 'augment', path: 'augment', kind: 'boolean', description: `Flips, rotations, elastic deformation, intensity jitter (--no-augment to disable). Default ${d.augment}` },
  { flag: 'shift-augment', path: 'shiftAugment', kind: 'boolean', description: `With --augment, the shifts of other microscopes too: pixel size, blur, noise, gamma, saturation, JPEG, section defects (--no-shift-augment to disable). Default ${d.shiftAugment}` },
  { flag: 'ema-decay', path: 'emaDecay', kind: 'number', description: `Decay of the weight average the run keeps and validates, 0 = none. Default ${d.emaDecay}` },
  { flag: 'selection-margin', path: 'selectionMargin', kind: 'number', description: `An earlier checkpoint stays kept only if it beats a later one by this much in V_rand and V_info at threshold 0.5. Default ${d.selectionMargin}` },
  { flag: 'depth', path: 'model.depth', kind: 'number', description: `U-Net depth. Default ${d.model.depth}` },
  { flag: 'filters', path: 'model.baseFilters', kind: 'number', description: `Base filters. Default ${d.model.baseFilters}` },
  { flag: 'batch-norm', path: 'model.batchNorm', kind: 'boolean', description: `Batch normalization. Default ${d.model.batchNorm}` },
  { flag: 'dropout', path: 'model.dropout', kind: 'number', description: `Bottleneck dropout rate. Default ${d.model.dropout}` },
  { flag: 'seed', path: 'seed', kind: 'number', description: `Seed of initialization and sampling. Default ${d.seed}` },
  { flag: 'validate-every', path: 'validateEvery', kind: 'number', description: `Validate every N steps. Default ${d.validateEvery}` },
  { flag: 'checkpoint-every', path: 'checkpointEvery', kind: 'number', description: `Checkpoint every N steps. Default ${d.checkpointEvery}` },
  { flag: 'log-every', path: 'logEvery', kind: 'number', description: `Log line every N steps. Default ${d.logEvery}` },
  { flag: 'backend', path: 'backend', kind: 'choice', choices: BACKEND_CHOICES, description: `auto, gpu, native, wasm or cpu. Default ${d.backend}` },
  { flag: 'workers', path: 'workers', kind: 'number', description: `Engine worker threads, 0 = engine default. Default ${d.workers}` },
  { flag: 'out', path: 'outDir', kind: 'string', description: `Output folder. Default ${d.outDir}` },
  { flag: 'resume', path: 'resume', kind: 'boolean', description: 'Continue the run in --out from its latest checkpoint (its config.json supplies the options not given)' },
  // Fine-tuning (train/fine-tune.ts) and the data's labels and pixel size (train/data-options.ts).
  { flag: 'init', path: 'init', kind: 'string', description: `Start from this emseg ONNX model's weights (fine-tuning: peak rate ${FINE_TUNE_SCHEDULE.learningRate} and ${FINE_TUNE_SCHEDULE.warmupSteps} warm-up steps unless given)` },
  { flag: 'freeze-encoder-steps', path: 'freezeEncoderSteps', kind: 'number', description: 'With --init: keep the encoder and bottleneck fixed for the first N steps. Default 0' },
  { flag: 'ignore', path: 'ignore', kind: 'number', description: 'Label value of unlabelled pixels (1-254), counted in neither loss nor metrics. Default none' },
  { flag: 'invert-labels', path: 'invertLabels', kind: 'boolean', description: 'Labels have membranes = 255: swap the classes on reading' },
  { flag: 'pixel-size', path: 'pixelSize', kind: 'number', description: "Pixel size of the data in nm: rescaled to the --init model's trainingPixelSize, else recorded as the new model's. Default: none" },
];

const FLAGS: Record<string, string> = Object.fromEntries(TRAIN_OPTIONS.map((option) => [option.path, `--${option.flag}`]));

/** `name (--flag)` for messages. */
export function optionLabel(name: string): string {
  const flag = FLAGS[name];
  return flag ? `${name} (${flag})` : name;
}

export function badOption(name: string, expected: string, found: unknown): EmsegError {
  return new EmsegError('E_BAD_ARGUMENT', `${optionLabel(name)}: expected ${expected}, found ${show(found)}`);
}

function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.join(', ')}]`;
  return String(value);
}


function checkInteger(name: string, value: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    const expected = max === Number.MAX_SAFE_INTEGER ? `an integer >= ${min}` : `an integer from ${min} to ${max}`;
    throw badOption(name, expected, value);
  }
  return value;
}

function checkNumber(name: string, value: number, min: number, max: number, openMin = false): number {
  const ok = typeof value === 'number' && Number.isFinite(value) && (openMin ? value > min : value >= min) && value <= max;
  if (!ok) throw badOption(name, `a number in ${openMin ? '(' : '['}${min}, ${max}]`, value);
  return value;
}

function checkEmaDecay(value: number): number {
  if (!(typeof value === 'number' && Number.isFinite(value) && value >= 0 && value < 1)) throw badOption('emaDecay', 'a number in [0, 1) (0 = no average)', value);
  return value;
}

function checkBoolean(name: string, value: boolean): boolean {
  if (typeof value !== 'boolean') throw badOption(name, 'true or false', value);
  return value;
}

function checkString(name: string, value: string): string {
  if (typeof value !== 'string' || value.length === 0) throw badOption(name, 'a non-empty path', value);
  return value;
}

function checkSlices(name: string, value: number[]): number[] {
  if (!Array.isArray(value) || value.length === 0 || !value.every((v) => Number.isInteger(v) && v >= 0)) {
    throw badOption(name, 'a non-empty list of slice indices >= 0', value);
  }
  return [...new Set(value)].sort((a, b) => a - b);
}

function checkChoice<T extends string>(name: string, value: T, choices: readonly T[]): T {
  if (!choices.includes(value)) throw badOption(name, `one of ${choices.join(', ')}`, value);
  return value;
}

/** Fills in defaults and checks every option; throws an EmsegError (E_BAD_ARGUMENT) naming the first bad one. */
export function resolveTrainConfig(input: TrainConfigInput = {}): TrainConfig {
  const pick = <K extends keyof TrainConfig>(key: K): TrainConfig[K] => (input[key] === undefined ? d[key] : (input[key] as TrainConfig[K]));

  let model: ResolvedUNetOptions;
  try {
    model = resolveUNetOptions({ ...d.model, ...definedFields(input.model ?? {}) });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const key = message.split(':')[0] ?? '';
    throw new EmsegError('E_BAD_ARGUMENT', `${optionLabel(`model.${key}`)}${message.slice(key.length)}`);
  }
  checkBoolean('model.batchNorm', model.batchNorm);
  const seed = checkInteger('seed', pick('seed'), 0, 2 ** 32 - 1);
  // One seed for the whole run: the initializers follow it too.
  model = { ...model, seed };

  const batchSize = checkInteger('batchSize', pick('batchSize'), 1, 256);
  const multiple = sizeMultipleFor(model.depth);
  const cropSize = pick('cropSize');
  if (!Number.isInteger(cropSize) || cropSize < multiple || cropSize % multiple !== 0 || cropSize > 2048) {
    throw badOption('cropSize', `a multiple of ${multiple} (2^depth) from ${multiple} to 2048`, cropSize);
  }

  if (input.steps !== undefined && input.crops !== undefined) {
    throw badOption('crops', 'either a steps or a crops budget, not both', `steps ${input.steps} and crops ${input.crops}`);
  }
  const steps =
    input.crops !== undefined
      ? Math.ceil(checkInteger('crops', input.crops, 1) / batchSize)
      : checkInteger('steps', pick('steps'), 1);

  const maxMinutes = pick('maxMinutes');
  if (maxMinutes !== null) checkNumber('maxMinutes', maxMinutes, 0, 1e7, true);

  const trainSlices = checkSlices('trainSlices', pick('trainSlices'));
  const validationSlices = checkSlices('validationSlices', pick('validationSlices'));
  const overlap = trainSlices.filter((s) => validationSlices.includes(s));
  if (overlap.length > 0) {
    throw badOption('validationSlices', 'slices disjoint from the training slices', `${formatSliceList(overlap)} in both`);
  }

  const lossInput = { ...d.loss, ...definedFields(input.loss ?? {}) };
  const loss: LossWeights = {
    bce: checkNumber('loss.bce', lossInput.bce, 0, 1000),
    dice: checkNumber('loss.dice', lossInput.dice, 0, 1000),
  };
  if (loss.bce === 0 && loss.dice === 0) throw badOption('loss.dice', 'a non-zero weight for at least one loss term', 0);
  const borderInput = { ...d.borderWeights, ...definedFields(input.borderWeights ?? {}) };
  const borderWeights: BorderWeightConfig = {
    enabled: checkBoolean('borderWeights.enabled', borderInput.enabled),
    w0: checkNumber('borderWeights.w0', borderInput.w0, 0, 1000),
    sigma: checkNumber('borderWeights.sigma', borderInput.sigma, 0, 1000, true),
  };

  return {
    images: checkString('images', pick('images')),
    labels: checkString('labels', pick('labels')),
    trainSlices,
    validationSlices,
    cropSize,
    batchSize,
    steps,
    maxMinutes,
    // With --init the schedule defaults suit fine-tuning (train/fine-tune.ts).
    learningRate: checkNumber('learningRate', input.learningRate ?? (input.init ? FINE_TUNE_SCHEDULE.learningRate : d.learningRate), 0, 10, true),
    minLearningRateFraction: checkNumber('minLearningRateFraction', pick('minLearningRateFraction'), 0, 1),
    // The default warm-up shrinks for short runs: at most a tenth of the budget.
    warmupSteps:
      input.warmupSteps === undefined
        ? Math.min(input.init ? FINE_TUNE_SCHEDULE.warmupSteps : d.warmupSteps, Math.floor(steps / 10))
        : checkInteger('warmupSteps', input.warmupSteps, 0, steps),
    schedule: checkChoice('schedule', pick('schedule'), SCHEDULE_KINDS),
    loss,
    borderWeights,
    augment: checkBoolean('augment', pick('augment')),
    shiftAugment: checkBoolean('shiftAugment', pick('shiftAugment')),
    emaDecay: checkEmaDecay(pick('emaDecay')),
    selectionMargin: checkNumber('selectionMargin', pick('selectionMargin'), 0, 1),
    model,
    seed,
    validateEvery: checkInteger('validateEvery', pick('validateEvery'), 1),
    checkpointEvery: checkInteger('checkpointEvery', pick('checkpointEvery'), 1),
    logEvery: checkInteger('logEvery', pick('logEvery'), 1),
    backend: checkChoice('backend', pick('backend'), BACKEND_CHOICES),
    workers: checkInteger('workers', pick('workers'), 0, 64),
    outDir: checkString('outDir', pick('outDir')),
    resume: checkBoolean('resume', pick('resume')),
    ...resolveFineTune(input, steps),
    ...resolveDataOptions(input),
  };
}

/**
 * The options that must be equal for `resume` to continue a run: everything that shapes the
 * sequence of batches, the schedule and the model. Output folder, backend, workers, time budget
 * and the validation/checkpoint/log cadence may change between invocations.
 */
export function reproducibilityKey(config: TrainConfig): string {
  const { images, labels, trainSlices, validationSlices, cropSize, batchSize, steps, learningRate, minLearningRateFraction, warmupSteps, schedule, loss, borderWeights, augment, shiftAugment, emaDecay, selectionMargin, model, seed } = config;
  // Fine-tuning and data options only when set, so that runs made before they existed still resume.
  const extra = Object.fromEntries(
    Object.entries({ ...FINE_TUNE_DEFAULTS, ...DATA_OPTION_DEFAULTS }).flatMap(([key, fallback]) => {
      const value = config[key as keyof TrainConfig];
      return JSON.stringify(value) === JSON.stringify(fallback) ? [] : [[key, value]];
    }),
  );
  return JSON.stringify({ images, labels, trainSlices, validationSlices, cropSize, batchSize, steps, learningRate, minLearningRateFraction, warmupSteps, schedule, loss, borderWeights, augment, shiftAugment, emaDecay, selectionMargin, model, seed, ...extra });
}
