/**
 * `emseg train`: a thin shell over trainModel (train/loop.ts). Parses the options into a
 * TrainConfigInput, shows a one-line progress bar on stderr, turns Ctrl-C into an AbortSignal
 * (the loop saves a checkpoint and stops), and prints a summary.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { defineCommand } from 'citty';
import { EmsegError } from '../../core/errors.ts';
import { parseSliceList } from '../../core/slice-list.ts';
import { badOption, resolveTrainConfig, TRAIN_DEFAULTS, type TrainConfig, type TrainConfigInput } from '../../train/config.ts';
import type { TrainEvent, TrainResult } from '../../train/loop.ts';

const d = TRAIN_DEFAULTS;

export const trainArgs = {
  images: { type: 'string', description: `Training image stack (TIFF). Default ${d.images}` },
  labels: { type: 'string', description: `Label stack, 255 = cell interior. Default ${d.labels}` },
  'train-slices': { type: 'string', description: 'Training slice indices, e.g. 0-24. Default 0-24' },
  'validation-slices': { type: 'string', description: 'Validation slice indices. Default 25-29' },
  'crop-size': { type: 'string', description: `Random crop side, a multiple of 2^depth. Default ${d.cropSize}` },
  'batch-size': { type: 'string', description: `Crops per step. Default ${d.batchSize}` },
  steps: { type: 'string', description: `Budget in steps (defines the schedule). Default ${d.steps}` },
  crops: { type: 'string', description: 'Budget in crops instead of steps: steps = ceil(crops / batch size)' },
  'max-minutes': { type: 'string', description: 'Stop after this many minutes of this run, with a checkpoint (continue with --resume)' },
  'learning-rate': { type: 'string', description: `Peak Adam learning rate. Default ${d.learningRate}` },
  'min-lr-fraction': { type: 'string', description: `Final rate of the cosine decay, fraction of the peak. Default ${d.minLearningRateFraction}` },
  'warmup-steps': { type: 'string', description: `Linear warm-up steps. Default ${d.warmupSteps}` },
  schedule: { type: 'string', description: `cosine or constant. Default ${d.schedule}` },
  'bce-weight': { type: 'string', description: `Weight of the cross-entropy. Default ${d.loss.bce}` },
  'dice-weight': { type: 'string', description: `Weight of the soft Dice loss. Default ${d.loss.dice}` },
  'border-weights': { type: 'boolean', description: `U-Net border weight map in the cross-entropy (--no-border-weights to disable). Default ${d.borderWeights.enabled}` },
  'border-w0': { type: 'string', description: `w0 of the border weight map. Default ${d.borderWeights.w0}` },
  'border-sigma': { type: 'string', description: `sigma (pixels) of the border weight map. Default ${d.borderWeights.sigma}` },
  augment: { type: 'boolean', description: `Flips, rotations, elastic deformation, intensity jitter (--no-augment to disable). Default ${d.augment}` },
  depth: { type: 'string', description: `U-Net depth. Default ${d.model.depth}` },
  filters: { type: 'string', description: `Base filters. Default ${d.model.baseFilters}` },
  'batch-norm': { type: 'boolean', description: `Batch normalization. Default ${d.model.batchNorm}` },
  dropout: { type: 'string', description: `Bottleneck dropout rate. Default ${d.model.dropout}` },
  seed: { type: 'string', description: `Seed of initialization and sampling. Default ${d.seed}` },
  'validate-every': { type: 'string', description: `Validate every N steps. Default ${d.validateEvery}` },
  'checkpoint-every': { type: 'string', description: `Checkpoint every N steps. Default ${d.checkpointEvery}` },
  'log-every': { type: 'string', description: `Log line every N steps. Default ${d.logEvery}` },
  backend: { type: 'string', description: `auto, gpu, native, wasm or cpu. Default ${d.backend}` },
  workers: { type: 'string', description: 'Engine worker threads, 0 = engine default. Default 0' },
  out: { type: 'string', description: `Output folder. Default ${d.outDir}` },
  resume: { type: 'boolean', description: 'Continue the run in --out from its latest checkpoint (its config.json supplies the options not given)' },
  quiet: { type: 'boolean', description: 'No progress bar' },
} as const;

type RawArgs = Record<string, string | boolean | string[] | undefined>;

function numberArg(raw: RawArgs, flag: string, name: string): number | undefined {
  const value = raw[flag];
  if (value === undefined) return undefined;
  const text = String(value).trim();
  const parsed = Number(text);
  if (text === '' || !Number.isFinite(parsed)) throw badOption(name, 'a number', String(value));
  return parsed;
}

function boolArg(raw: RawArgs, flag: string): boolean | undefined {
  const value = raw[flag];
  return typeof value === 'boolean' ? value : undefined;
}

/** Turns parsed CLI arguments into a config input; only options the user gave are set. */
export function configInputFromArgs(raw: RawArgs): TrainConfigInput {
  const str = (flag: string) => (typeof raw[flag] === 'string' ? (raw[flag] as string) : undefined);
  // Checked against the stack's page count when the loop reads the stacks.
  const slices = (flag: string) => (str(flag) === undefined ? undefined : parseSliceList(str(flag)!, Number.MAX_SAFE_INTEGER, `--${flag}`));
  const input: TrainConfigInput = {
    images: str('images'),
    labels: str('labels'),
    trainSlices: slices('train-slices'),
    validationSlices: slices('validation-slices'),
    cropSize: numberArg(raw, 'crop-size', 'cropSize'),
    batchSize: numberArg(raw, 'batch-size', 'batchSize'),
    steps: numberArg(raw, 'steps', 'steps'),
    crops: numberArg(raw, 'crops', 'crops'),
    maxMinutes: numberArg(raw, 'max-minutes', 'maxMinutes'),
    learningRate: numberArg(raw, 'learning-rate', 'learningRate'),
    minLearningRateFraction: numberArg(raw, 'min-lr-fraction', 'minLearningRateFraction'),
    warmupSteps: numberArg(raw, 'warmup-steps', 'warmupSteps'),
    schedule: str('schedule') as TrainConfig['schedule'] | undefined,
    loss: { bce: numberArg(raw, 'bce-weight', 'loss.bce'), dice: numberArg(raw, 'dice-weight', 'loss.dice') } as TrainConfigInput['loss'],
    borderWeights: {
      enabled: boolArg(raw, 'border-weights'),
      w0: numberArg(raw, 'border-w0', 'borderWeights.w0'),
      sigma: numberArg(raw, 'border-sigma', 'borderWeights.sigma'),
    } as TrainConfigInput['borderWeights'],
    augment: boolArg(raw, 'augment'),
    model: {
      depth: numberArg(raw, 'depth', 'model.depth'),
      baseFilters: numberArg(raw, 'filters', 'model.baseFilters'),
      batchNorm: boolArg(raw, 'batch-norm'),
      dropout: numberArg(raw, 'dropout', 'model.dropout'),
    },
    seed: numberArg(raw, 'seed', 'seed'),
    validateEvery: numberArg(raw, 'validate-every', 'validateEvery'),
    checkpointEvery: numberArg(raw, 'checkpoint-every', 'checkpointEvery'),
    logEvery: numberArg(raw, 'log-every', 'logEvery'),
    backend: str('backend') as TrainConfig['backend'] | undefined,
    workers: numberArg(raw, 'workers', 'workers'),
    outDir: str('out'),
    resume: boolArg(raw, 'resume'),
  };
  return input;
}

/**
 * With --resume, the options not given on the command line come from the run's config.json, so
 * `emseg train --out runs/x --resume --max-minutes 60` continues run x as it was started.
 */
export function mergeWithSavedConfig(input: TrainConfigInput): TrainConfigInput {
  if (!input.resume) return input;
  const outDir = input.outDir ?? TRAIN_DEFAULTS.outDir;
  const path = join(outDir, 'config.json');
  if (!existsSync(path)) {
    throw new EmsegError('E_NOT_FOUND', `--resume: ${path} does not exist (no run to continue in --out ${outDir})`);
  }
  let saved: TrainConfig;
  try {
    saved = (JSON.parse(readFileSync(path, 'utf8')) as { config: TrainConfig }).config;
  } catch (error) {
    throw new EmsegError('E_CORRUPT', `${path}: not a valid emseg training config`, { cause: error });
  }
  const defined = <T extends object>(o: T | undefined) => Object.fromEntries(Object.entries(o ?? {}).filter(([, v]) => v !== undefined));
  // The time budget belongs to one invocation: never inherited.
  const { maxMinutes: _ignored, ...inherited } = saved;
  const merged: TrainConfigInput = {
    ...inherited,
    ...defined(input),
    model: { ...saved.model, ...defined(input.model) },
    loss: { ...saved.loss, ...defined(input.loss) },
    borderWeights: { ...saved.borderWeights, ...defined(input.borderWeights) },
    maxMinutes: input.maxMinutes ?? null,
    resume: true,
    outDir,
  };
  // A crops budget given now replaces the saved steps budget.
  if (input.crops !== undefined) delete merged.steps;
  return merged;
}

const formatDuration = (seconds: number): string => {
  if (!Number.isFinite(seconds) || seconds < 0) return '--:--';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  return h > 0 ? `${h}h${String(m).padStart(2, '0')}m` : `${m}:${String(sec).padStart(2, '0')}`;
};

/** One progress line: `[#####.....] 120/2500 loss 0.4123 2.1 crops/s ETA 1h15m`. */
export function progressLine(event: Extract<TrainEvent, { type: 'step' }>, width = 24): string {
  const filled = Math.round((event.step / event.totalSteps) * width);
  const bar = `${'#'.repeat(filled)}${'.'.repeat(width - filled)}`;
  return `[${bar}] ${event.step}/${event.totalSteps} loss ${event.loss.toFixed(4)} lr ${event.lr.toExponential(2)} ${event.cropsPerSecond.toFixed(2)} crops/s elapsed ${formatDuration(event.elapsedSeconds)} ETA ${formatDuration(event.etaSeconds)}`;
}

export function summaryText(result: TrainResult): string {
  const lines = [
    `training ${result.status}: step ${result.step}/${result.totalSteps}, ${result.cropsSeen} crops, ${formatDuration(result.elapsedSeconds)} on ${result.backend}`,
  ];
  if (result.best) {
    const b = result.best;
    lines.push(
      `best validation (step ${b.step}): V_rand ${b.vRand.toFixed(4)} V_info ${b.vInfo.toFixed(4)} at threshold ${b.threshold}; pixel error ${b.pixelError.toFixed(4)} Dice ${b.dice.toFixed(4)} IoU ${b.iou.toFixed(4)} at ${b.atThreshold}`,
    );
  }
  lines.push(`model: ${result.files.model} (best), ${result.files.lastModel} (last)`);
  lines.push(`log: ${result.files.log}, curve: ${result.files.curve}, config: ${result.files.config}`);
  if (result.status !== 'completed') lines.push(`continue with: emseg train --out ${result.outDir} --resume`);
  return `${lines.join('\n')}\n`;
}

/** The command line as the user could type it again. */
export function commandLine(argv: readonly string[]): string {
  const quote = (a: string) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`);
  return ['emseg', 'train', ...argv.map(quote)].join(' ');
}

const command = defineCommand({
  meta: { name: 'train', description: 'Train the U-Net on labelled slices (checkpoints, resume, validation, curve).' },
  args: trainArgs,
  async run({ args, rawArgs }) {
    const input = mergeWithSavedConfig(configInputFromArgs(args as RawArgs));
    const config = resolveTrainConfig(input);
    const { trainModel } = await import('../../train/loop.ts');
    const controller = new AbortController();
    let interrupts = 0;
    const onSigint = () => {
      interrupts += 1;
      if (interrupts > 1) process.exit(130);
      process.stderr.write('\ninterrupt: saving a checkpoint after this step (Ctrl-C again to quit at once)\n');
      controller.abort();
    };
    process.on('SIGINT', onSigint);
    const quiet = args.quiet === true || !process.stderr.isTTY;
    let lastDraw = 0;
    let lastStepPrinted = 0;
    const onEvent = (event: TrainEvent) => {
      if (event.type === 'start') {
        const report = Array.isArray(event.report) ? `\n  ${(event.report as string[]).join('\n  ')}` : '';
        process.stderr.write(
          `${event.resumed ? `resuming at step ${event.startStep}` : 'training'}: ${event.totalSteps} steps of ${config.batchSize} crops ${config.cropSize}x${config.cropSize} on ${event.backend}${report}\n`,
        );
      } else if (event.type === 'step') {
        const time = Date.now();
        if (!quiet && (time - lastDraw > 250 || event.step === event.totalSteps)) {
          process.stderr.write(`\r${progressLine(event)}\x1b[K`);
          lastDraw = time;
        } else if (quiet && (event.step - lastStepPrinted >= config.logEvery || event.step === event.totalSteps)) {
          process.stderr.write(`${progressLine(event)}\n`);
          lastStepPrinted = event.step;
        }
      } else if (event.type === 'validation') {
        const l = event.line;
        process.stderr.write(
          `${quiet ? '' : '\r\x1b[K'}validation step ${l.step}: V_rand ${l.vRand.toFixed(4)} V_info ${l.vInfo.toFixed(4)} (thr ${l.threshold}) pixel error ${l.pixelError.toFixed(4)} Dice ${l.dice.toFixed(4)}${event.isBest ? ' (best)' : ''} [${l.seconds.toFixed(1)} s]\n`,
        );
      } else if (event.type === 'warning') {
        process.stderr.write(`warning: ${event.message}\n`);
      } else if (event.type === 'finalizing') {
        process.stderr.write(`${quiet ? '' : '\n'}writing models, curve and config (${event.status})\n`);
      }
    };
    let result: TrainResult;
    try {
      result = await trainModel(config, { signal: controller.signal, onEvent, command: commandLine(rawArgs) });
    } finally {
      process.off('SIGINT', onSigint);
    }
    process.stdout.write(summaryText(result));
    if (result.status === 'interrupted') {
      throw new EmsegError('E_INTERRUPTED', `training interrupted at step ${result.step}; checkpoint saved in ${result.files.latest}`);
    }
  },
});
// Named first: tsc 5.9 does not rewrite `.ts` dynamic imports inside `export default <expression>`.
export default command;
