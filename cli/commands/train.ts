/**
 * `emseg train`: a thin shell over trainModel (train/loop.ts). Parses the options into a
 * TrainConfigInput, shows a one-line progress bar on stderr, turns Ctrl-C into an AbortSignal
 * (the loop saves a checkpoint and stops), and prints a summary.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { defineCommand, type ArgsDef } from 'citty';
import { definedFields } from '../../core/defined.ts';
import { EmsegError } from '../../core/errors.ts';
import { parseSliceList } from '../../core/slice-list.ts';
import { optionLabel, resolveTrainConfig, TRAIN_DEFAULTS, TRAIN_OPTIONS, type TrainConfig, type TrainConfigInput } from '../../train/config.ts';
import { readTrainingRun } from '../../node/training-run-file.ts';
import { enumArg, numberOption } from '../options.ts';
import type { TrainEvent, TrainResult } from '../../train/loop.ts';
import { commandLine } from '../command-line.ts';
import { formatDuration } from '../format-duration.ts';
import { stopOnSignals } from '../stop-signals.ts';

/** The flags of `emseg train`: one per row of TRAIN_OPTIONS (train/config.ts), and --quiet. */
export const trainArgs: ArgsDef = {
  ...Object.fromEntries(
    TRAIN_OPTIONS.map((option) => {
      if (option.kind === 'boolean') return [option.flag, { type: 'boolean', description: option.description }];
      if (option.kind === 'choice') return [option.flag, enumArg(option.choices ?? [], { description: option.description })];
      return [option.flag, { type: 'string', description: option.description }];
    }),
  ),
  quiet: { type: 'boolean', description: 'No progress bar' },
};

type RawArgs = Record<string, string | boolean | string[] | undefined>;

/** Sets `value` at a dotted path (`model.depth`) of `target`. */
function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split('.');
  let node = target;
  for (const key of keys.slice(0, -1)) node = (node[key] ??= {}) as Record<string, unknown>;
  node[keys.at(-1)!] = value;
}

/** Turns parsed CLI arguments into a config input; only options the user gave are set. */
export function configInputFromArgs(raw: RawArgs): TrainConfigInput {
  const input: Record<string, unknown> = {};
  for (const option of TRAIN_OPTIONS) {
    const value = raw[option.flag];
    if (value === undefined) continue;
    const text = typeof value === 'string' ? value : '';
    if (option.kind === 'boolean') {
      if (typeof value === 'boolean') setPath(input, option.path, value);
    } else if (option.kind === 'number') {
      setPath(input, option.path, numberOption(value, optionLabel(option.path)));
    } else if (option.kind === 'slices') {
      // Checked against the stack's page count when the loop reads the stacks.
      setPath(input, option.path, parseSliceList(text, Number.MAX_SAFE_INTEGER, `--${option.flag}`));
    } else {
      setPath(input, option.path, text);
    }
  }
  return input as TrainConfigInput;
}

/**
 * The options a run was started with: the `config` of its config.json, read by the one reader of
 * run records (node/training-run-file.ts, core/training-run.ts's schema) and then checked as train
 * options (train/config.ts resolveTrainConfig), each problem one E_CORRUPT line naming the file
 * and the field.
 */
function savedTrainConfig(path: string): TrainConfig {
  const saved = readTrainingRun(path).config;
  if (saved === undefined) throw new EmsegError('E_CORRUPT', `${path}: not a training run record of emseg train: config: expected the run's options, found nothing`);
  try {
    return resolveTrainConfig(saved as TrainConfigInput);
  } catch (error) {
    throw new EmsegError('E_CORRUPT', `${path}: not a training run record of emseg train: config.${(error as Error).message}`, { cause: error });
  }
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
  const saved = savedTrainConfig(path);
  // The time budget belongs to one invocation: never inherited.
  const { maxMinutes: _ignored, ...inherited } = saved;
  const merged: TrainConfigInput = {
    ...inherited,
    ...definedFields(input),
    model: { ...saved.model, ...definedFields(input.model) },
    loss: { ...saved.loss, ...definedFields(input.loss) },
    borderWeights: { ...saved.borderWeights, ...definedFields(input.borderWeights) },
    maxMinutes: input.maxMinutes ?? null,
    resume: true,
    outDir,
  };
  // A crops budget given now replaces the saved steps budget.
  if (input.crops !== undefined) delete merged.steps;
  return merged;
}

/** One progress line: `[#####.....] 120/2500 loss 0.4123 lr 1.00e-3 2.10 crops/s elapsed 3m 07s ETA 1h 15m`. */
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
    const parent = b.parent ? ', the --init model itself: every fine-tuned validation fell short of it by at least the selection margin on both V_rand and V_info' : '';
    lines.push(
      `kept (step ${b.step}${parent}, the selection rule of train/selection-rule.ts): V_rand ${b.vRand.toFixed(4)} V_info ${b.vInfo.toFixed(4)} pixel error ${b.pixelError.toFixed(4)} cell-interior Dice ${b.dice.toFixed(4)} IoU ${b.iou.toFixed(4)} at ${b.threshold}; best of the sweep V_rand ${b.vRandBest.toFixed(4)} at ${b.bestThreshold}`,
    );
  }
  lines.push(`model: ${result.files.model} (kept), ${result.files.lastModel} (last)`);
  lines.push(`log: ${result.files.log}, curve: ${result.files.curve}, config: ${result.files.config}`);
  if (result.status !== 'completed') lines.push(`continue with: emseg train --out ${result.outDir} --resume`);
  return `${lines.join('\n')}\n`;
}

/** The train command line as the user could type it again. */
export function trainCommandLine(argv: readonly string[]): string {
  return commandLine(['emseg', 'train', ...argv]);
}

const command = defineCommand({
  meta: { name: 'train', description: 'Train the U-Net on labelled slices (checkpoints, resume, validation, curve).' },
  args: trainArgs,
  async run({ args, rawArgs }) {
    const input = mergeWithSavedConfig(configInputFromArgs(args as RawArgs));
    const config = resolveTrainConfig(input);
    const { trainModel } = await import('../../train/loop.ts');
    const stop = stopOnSignals(['SIGINT'], () => {
      process.stderr.write('\ninterrupt: saving a checkpoint after this step (Ctrl-C again to quit at once)\n');
      return undefined;
    });
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
          `${quiet ? '' : '\r\x1b[K'}validation step ${l.step}${l.parent ? ' (the --init model, before fine-tuning)' : ''}: V_rand ${l.vRand.toFixed(4)} V_info ${l.vInfo.toFixed(4)} at ${l.threshold} (best V_rand ${l.vRandBest.toFixed(4)} at ${l.bestThreshold}) pixel error ${l.pixelError.toFixed(4)} cell-interior Dice ${l.dice.toFixed(4)}${event.isBest ? ' (kept)' : ''} [${l.seconds.toFixed(1)} s]\n`,
        );
      } else if (event.type === 'warning') {
        process.stderr.write(`warning: ${event.message}\n`);
      } else if (event.type === 'finalizing') {
        process.stderr.write(`${quiet ? '' : '\n'}writing models, curve and config (${event.status})\n`);
      }
    };
    let result: TrainResult;
    try {
      result = await trainModel(config, { signal: stop.signal, onEvent, command: trainCommandLine(rawArgs) });
    } finally {
      stop.release();
    }
    process.stdout.write(summaryText(result));
    if (result.status === 'interrupted') {
      throw new EmsegError('E_INTERRUPTED', `training interrupted at step ${result.step}; checkpoint saved in ${result.files.latest}`);
    }
  },
});
// Named first: tsc 5.9 does not rewrite `.ts` dynamic imports inside `export default <expression>`.
export default command;
