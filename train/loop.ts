/**
 * The training loop: samples batches, steps the engine, validates on whole slices, logs,
 * checkpoints, and leaves a usable output folder however it ends.
 *
 * Reproducibility: the batch of step k depends only on the seed and k (the sampler's PRNG state
 * is saved with every checkpoint and restored on resume), the learning rate only on k and the
 * budget, and the engine state (weights and optimizer moments) is saved whole. A run stopped at
 * any step and resumed therefore gives the same losses and weights as an uninterrupted run.
 *
 * Output folder (`config.outDir`):
 *   config.json        the resolved config, the command line, status, budget and wall time
 *   train.log.jsonl    the log (train/log.ts)
 *   curve.svg          loss and validation metrics over steps (train/curve.ts)
 *   model/             tfjs Layers model of the kept checkpoint (train/selection-rule.ts; with a
 *                      weight average, the averaged weights)
 *   last-model/        tfjs Layers model of the last step trained
 *   checkpoints/latest, checkpoints/best   (train/checkpoint.ts)
 */
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { EmsegError } from '../core/errors.ts';
import { formatSliceList } from '../core/slice-list.ts';
import { reproducibilityKey, type TrainConfig } from './config.ts';
import { hasCheckpoint, loadCheckpoint, saveCheckpoint, type Checkpoint, type LoopState } from './checkpoint.ts';
import { renderCurveSvg } from './curve.ts';
import { JsonlLog, readLog, type TrainLogLine, type ValidationLogLine } from './log.ts';
import { learningRateAt } from './schedule.ts';
import { replacesKept } from './selection-rule.ts';
import { machineDescription } from './machine.ts';
import type { LoopRng, TrainingParts } from './loop-parts.ts';
import { recoverInterruptedWrites } from '../node/atomic-dir.ts';
import { writeFileAtomic } from '../node/atomic-write.ts';
import { readTrainingRun } from '../node/training-run-file.ts';

export type TrainStatus = 'completed' | 'time-budget' | 'interrupted';

export type TrainEvent =
  | { type: 'start'; totalSteps: number; startStep: number; resumed: boolean; backend: string; report: unknown }
  | {
      type: 'step';
      step: number;
      totalSteps: number;
      loss: number;
      lr: number;
      cropsSeen: number;
      cropsPerSecond: number;
      elapsedSeconds: number;
      etaSeconds: number;
    }
  | { type: 'validation'; line: ValidationLogLine; isBest: boolean }
  | { type: 'checkpoint'; name: 'latest' | 'best'; step: number; dir: string }
  | { type: 'warning'; message: string }
  | { type: 'finalizing'; status: TrainStatus };

export interface TrainResult {
  status: TrainStatus;
  /** Steps done (of totalSteps). */
  step: number;
  totalSteps: number;
  cropsSeen: number;
  /** Training wall time over all invocations, seconds. */
  elapsedSeconds: number;
  /** Best validation line, undefined if no validation ran yet. */
  best?: ValidationLogLine;
  /** Last training loss window. */
  lastLoss?: number;
  backend: string;
  outDir: string;
  files: { config: string; log: string; curve: string; model: string; lastModel: string; latest: string };
}

export interface TrainRunOptions {
  /** Aborting saves a checkpoint after the current step and returns with status 'interrupted'. */
  signal?: AbortSignal;
  onEvent?: (event: TrainEvent) => void;
  /** The command line that started the run, recorded in config.json. */
  command?: string;
  /** The parts the loop drives (dataset, rng, engine, scorer), owned by the caller (tests inject stand-ins). */
  parts?: TrainingParts;
  /** Opens the parts for the config when `parts` is not given; the loop disposes of them. Default: the real ones (train/loop-parts-real.ts). */
  openParts?: (config: TrainConfig) => Promise<TrainingParts>;
}

const now = () => performance.now() / 1000;

/** Trains as the config says: start (or resume), run the steps, finish the output folder. */
export async function trainModel(config: TrainConfig, options: TrainRunOptions = {}): Promise<TrainResult> {
  const onEvent = options.onEvent ?? (() => {});
  const files = outputFiles(config.outDir);
  const resumed = await checkOutputFolder(config, files, onEvent);
  // Read and check the data (and start the engine) before creating anything on disk.
  const openParts = options.openParts ?? (async (c: TrainConfig) => (await import('./loop-parts-real.ts')).openRealTrainingParts(c));
  const parts = options.parts ?? (await openParts(config));
  try {
    const run = await startRun(config, files, parts, resumed, options.command, onEvent);
    if (!resumed && config.init !== null) await validateParent(run);
    const status = await runSteps(run, options.signal);
    return await finishRun(run, status);
  } finally {
    if (!options.parts) await parts.dispose();
  }
}

function outputFiles(outDir: string): TrainResult['files'] {
  return {
    config: join(outDir, 'config.json'),
    log: join(outDir, 'train.log.jsonl'),
    curve: join(outDir, 'curve.svg'),
    model: join(outDir, 'model'),
    lastModel: join(outDir, 'last-model'),
    latest: join(outDir, 'checkpoints', 'latest'),
  };
}

/**
 * Puts the output folder right after an interrupted run, refuses to overwrite a run unless
 * resuming, and returns the checkpoint to resume from (checked against the config).
 */
async function checkOutputFolder(config: TrainConfig, files: TrainResult['files'], onEvent: (event: TrainEvent) => void): Promise<Checkpoint | undefined> {
  const { outDir } = config;
  // An interrupted run may have left temp folders, or a model or checkpoint moved aside by a crash
  // between two renames (node/atomic-dir.ts): put them right before anything reads the folder.
  const outputs: [string, string[]][] = [
    [outDir, ['model', 'last-model', 'config.json', 'curve.svg', 'train.log.jsonl']],
    [dirname(files.latest), ['latest', 'best']],
  ];
  for (const [folder, names] of outputs) {
    const { restored, removed } = await recoverInterruptedWrites(folder, { names });
    if (restored.length + removed.length > 0) {
      onEvent({ type: 'warning', message: `${folder}: tidied after an interrupted run (${[...restored.map((p) => `restored ${p}`), ...(removed.length > 0 ? [`removed ${removed.length} temporary file(s) or folder(s)`] : [])].join(', ')})` });
    }
  }
  if (!config.resume && hasCheckpoint(outDir, 'latest')) {
    throw new EmsegError(
      'E_OUTPUT_EXISTS',
      `--out ${outDir}: already holds a training run; continue it with --resume, or choose another --out`,
    );
  }
  if (!config.resume) return undefined;
  const resumed = loadCheckpoint(outDir, 'latest');
  const configKey = reproducibilityKey(config);
  if (resumed.loop.configKey !== configKey) {
    throw new EmsegError('E_BAD_ARGUMENT', `--resume: ${describeKeyDifference(resumed.loop.configKey, configKey)}`);
  }
  return resumed;
}

/** A run between start and finish: what the steps, checkpoints and final outputs share. */
interface Run {
  config: TrainConfig;
  files: TrainResult['files'];
  parts: TrainingParts;
  rng: LoopRng;
  loop: LoopState;
  log: JsonlLog;
  onEvent: (event: TrainEvent) => void;
  /** Training seconds over all invocations so far. */
  elapsed: () => number;
  best: ValidationLogLine | undefined;
  lastLoss: number | undefined;
  /** Step of the last `latest` checkpoint (-1: none in this invocation). */
  latestSavedAt: number;
  writeConfig: (status: string, extra?: Record<string, unknown>) => Promise<void>;
  invocations: Array<Record<string, unknown>>;
}

/** Sets the loop state (fresh or from the checkpoint), opens the log, writes config.json and reports the start. */
async function startRun(
  config: TrainConfig,
  files: TrainResult['files'],
  parts: TrainingParts,
  resumed: Checkpoint | undefined,
  command: string | undefined,
  onEvent: (event: TrainEvent) => void,
): Promise<Run> {
  const { engine } = parts;
  mkdirSync(config.outDir, { recursive: true });
  const rng = parts.createRng(config.seed);
  let loop: LoopState = {
    step: 0,
    cropsSeen: 0,
    rngState: rng.getState(),
    logPosition: 0,
    elapsedSeconds: 0,
    bestVRand: -1,
    bestStep: 0,
    windowLossSum: 0,
    windowSteps: 0,
    configKey: reproducibilityKey(config),
  };
  const engineSetup = { backend: engine.backend, ...(engine.workers !== undefined ? { workers: engine.workers } : {}) };
  const warnings: string[] = [];
  if (resumed) {
    loop = { ...resumed.loop };
    await engine.loadState(resumed.engineState);
    rng.setState(loop.rngState);
    const before = loop.engineSetup;
    if (before && (before.backend !== engineSetup.backend || before.workers !== engineSetup.workers)) {
      warnings.push(
        `resuming on ${engineSetup.backend} with ${engineSetup.workers ?? '?'} worker(s), the run so far used ${before.backend} with ${before.workers ?? '?'}: the result will differ slightly from an uninterrupted run (floating-point sums depend on them)`,
      );
    }
  }
  loop.engineSetup = engineSetup;
  const log = new JsonlLog(files.log, resumed ? loop.logPosition : undefined);
  // Every invocation of a run (the first, then each resume) with the step it started from, so
  // that the model card can tell exactly how the model was made.
  const startedAt = new Date().toISOString();
  const previous = resumed ? readPreviousInvocations(files.config) : [];
  const invocations = [...previous, { command: command ?? null, startedAt, fromStep: loop.step, backend: engine.backend }];
  const writeConfig = (status: string, extra: Record<string, unknown> = {}) =>
    writeFileAtomic(
      files.config,
      `${JSON.stringify(
        {
          command: invocations[0]!['command'],
          invocations,
          status,
          startedAt: invocations[0]!['startedAt'],
          machine: machineDescription(),
          backend: engine.backend,
          backendReport: engine.report ?? null,
          split: { train: formatSliceList(config.trainSlices), validation: formatSliceList(config.validationSlices) },
          ...parts.provenance,
          config,
          ...extra,
        },
        null,
        2,
      )}\n`,
    );
  await writeConfig('running');
  log.append({ type: 'event', event: resumed ? 'resume' : 'start', step: loop.step, backend: engine.backend, totalSteps: config.steps });
  onEvent({ type: 'start', totalSteps: config.steps, startStep: loop.step, resumed: !!resumed, backend: engine.backend, report: engine.report });
  for (const message of warnings) {
    log.append({ type: 'event', event: 'warning', step: loop.step, message });
    onEvent({ type: 'warning', message });
  }
  const invocationStart = now();
  const elapsedBefore = loop.elapsedSeconds;
  return {
    config,
    files,
    parts,
    rng,
    loop,
    log,
    onEvent,
    elapsed: () => elapsedBefore + (now() - invocationStart),
    best: findBest(existsSync(files.log) ? readLog(files.log) : [], loop.bestStep),
    lastLoss: undefined,
    latestSavedAt: resumed ? loop.step : -1,
    writeConfig,
    invocations,
  };
}

async function saveRunCheckpoint(run: Run, name: 'latest' | 'best'): Promise<void> {
  const { loop } = run;
  if (name === 'latest') run.latestSavedAt = loop.step;
  loop.rngState = run.rng.getState();
  loop.logPosition = run.log.position();
  loop.elapsedSeconds = run.elapsed();
  const dir = await saveCheckpoint(run.config.outDir, name, { loop: { ...loop }, engineState: await run.parts.engine.saveState() });
  run.onEvent({ type: 'checkpoint', name, step: loop.step, dir });
}

/**
 * Fine-tuning (`--init`): the parent's figures on the run's validation slices at step 0, before any
 * training step, logged like every validation (with `parent: true`) and shown in the progress, so
 * that the gain of fine-tuning reads off the log. The parent takes part in the selection rule like
 * any validated checkpoint: it stays the kept model only if every later validation falls short of
 * it by the margin on both scores (fine-tuning made it worse), and `model/` is then the parent's
 * weights, which the summary says.
 */
async function validateParent(run: Run): Promise<void> {
  const line: ValidationLogLine = { ...(await validate(run.parts, run.loop, run.elapsed)), parent: true };
  run.log.append(line);
  await keepIfSelected(run, line);
}

/** Applies the selection rule (train/selection-rule.ts) to a validation: saves the `best` checkpoint when it becomes the kept one, and reports it. */
async function keepIfSelected(run: Run, line: ValidationLogLine): Promise<void> {
  const { loop } = run;
  // The kept checkpoint ('best', later model/) follows the selection rule (train/selection-rule.ts).
  const isBest = replacesKept(run.best, line, run.config.selectionMargin);
  if (isBest) {
    loop.bestVRand = line.vRandBest;
    loop.bestStep = loop.step;
    run.best = line;
    await saveRunCheckpoint(run, 'best');
  }
  run.onEvent({ type: 'validation', line, isBest });
}

/** The steps, with logging, validation and checkpoints, until the budget, the time limit or an abort. */
async function runSteps(run: Run, signal: AbortSignal | undefined): Promise<TrainStatus> {
  const { config, loop, parts, rng, log, onEvent } = run;
  const { engine, dataset } = parts;
  const totalSteps = config.steps;
  const invocationStart = now();
  // Throughput counts the time of the steps only (sampling + engine), not checkpoints or validation.
  let windowStepSeconds = 0;
  let windowCrops = 0;
  let recentStepsPerSecond = 0;
  while (loop.step < totalSteps) {
    // A step may run synchronously to the end (one engine in this thread): give the event loop
    // a turn so that Ctrl-C (and other signals and timers) are seen between steps.
    await new Promise<void>((resolve) => setImmediate(resolve));
    if (signal?.aborted) return 'interrupted';
    if (config.maxMinutes !== null && now() - invocationStart >= config.maxMinutes * 60) return 'time-budget';
    const stepStart = now();
    const batch = dataset.sampleBatch(rng);
    const lr = learningRateAt(loop.step, {
      peak: config.learningRate,
      totalSteps,
      warmupSteps: config.warmupSteps,
      minFraction: config.minLearningRateFraction,
      kind: config.schedule,
    });
    const { loss } = await engine.step(batch, lr, parts.stepOptions?.(loop.step));
    if (!Number.isFinite(loss)) {
      throw new EmsegError('E_BAD_ARGUMENT', `--learning-rate ${config.learningRate}: the loss became ${loss} at step ${loop.step + 1}; try a smaller rate`);
    }
    loop.step += 1;
    loop.cropsSeen += batch.n;
    loop.windowLossSum += loss;
    loop.windowSteps += 1;
    windowCrops += batch.n;
    const stepSeconds = now() - stepStart;
    windowStepSeconds += stepSeconds;
    recentStepsPerSecond = recentStepsPerSecond === 0 ? 1 / stepSeconds : 0.9 * recentStepsPerSecond + 0.1 / stepSeconds;
    onEvent({
      type: 'step',
      step: loop.step,
      totalSteps,
      loss,
      lr,
      cropsSeen: loop.cropsSeen,
      cropsPerSecond: recentStepsPerSecond * config.batchSize,
      elapsedSeconds: run.elapsed(),
      etaSeconds: (totalSteps - loop.step) / recentStepsPerSecond,
    });

    if (loop.step % config.logEvery === 0 || loop.step === totalSteps) {
      const line: TrainLogLine = {
        type: 'train',
        step: loop.step,
        crops: loop.cropsSeen,
        loss: loop.windowLossSum / loop.windowSteps,
        lr,
        cropsPerSecond: windowStepSeconds > 0 ? windowCrops / windowStepSeconds : 0,
        elapsedSeconds: round(run.elapsed(), 3),
      };
      run.lastLoss = line.loss;
      log.append(line);
      loop.windowLossSum = 0;
      loop.windowSteps = 0;
      windowCrops = 0;
      windowStepSeconds = 0;
    }
    if (loop.step % config.validateEvery === 0 || loop.step === totalSteps) {
      const line = await validate(parts, loop, run.elapsed);
      log.append(line);
      await keepIfSelected(run, line);
    }
    if (loop.step % config.checkpointEvery === 0 || loop.step === totalSteps) {
      await saveRunCheckpoint(run, 'latest');
    }
  }
  return 'completed';
}

/** The last checkpoint, the tfjs models (last step and best), the curve and the final config.json. */
async function finishRun(run: Run, status: TrainStatus): Promise<TrainResult> {
  const { config, files, loop, log, parts, best } = run;
  const { engine } = parts;
  const { outDir } = config;
  if (run.latestSavedAt !== loop.step) await saveRunCheckpoint(run, 'latest');
  run.onEvent({ type: 'finalizing', status });
  log.append({ type: 'event', event: 'stop', step: loop.step, status, elapsedSeconds: round(run.elapsed(), 3) });

  // Final artifacts (each written atomically by the engine): the last state, then the best.
  await engine.saveLayersModel(files.lastModel);
  if (hasCheckpoint(outDir, 'best')) await engine.loadState(loadCheckpoint(outDir, 'best').engineState);
  await engine.saveLayersModel(files.model);
  const lines = readLog(files.log);
  await writeFileAtomic(files.curve, renderCurveSvg(lines, { title: `emseg training: ${outDir}` }));
  const result: TrainResult = {
    status,
    step: loop.step,
    totalSteps: config.steps,
    cropsSeen: loop.cropsSeen,
    elapsedSeconds: round(run.elapsed(), 3),
    ...(best ? { best } : {}),
    ...(run.lastLoss !== undefined ? { lastLoss: run.lastLoss } : {}),
    backend: engine.backend,
    outDir,
    files,
  };
  Object.assign(run.invocations[run.invocations.length - 1]!, { toStep: loop.step, status, finishedAt: new Date().toISOString() });
  await run.writeConfig(status, {
    finishedAt: new Date().toISOString(),
    stepsDone: loop.step,
    cropsSeen: loop.cropsSeen,
    wallTimeSeconds: result.elapsedSeconds,
    best: best ?? null,
    model: best ? `model/ = kept checkpoint (step ${best.step}, train/selection-rule.ts)` : 'model/ = last step (no validation yet)',
  });
  return result;
}

/** Runs the model on the whole validation slices and scores them. */
async function validate(parts: TrainingParts, loop: LoopState, elapsed: () => number): Promise<ValidationLogLine> {
  const start = now();
  const scores = await parts.scoreValidation();
  return {
    type: 'validation',
    step: loop.step,
    crops: loop.cropsSeen,
    ...scores,
    seconds: round(now() - start, 3),
    elapsedSeconds: round(elapsed(), 3),
  };
}

/** The invocations a resumed run's config.json records; none when it is missing or unreadable (the checkpoint, not the record, carries the run). */
function readPreviousInvocations(configPath: string): Array<Record<string, unknown>> {
  try {
    return readTrainingRun(configPath).invocations ?? [];
  } catch {
    return [];
  }
}

function findBest(lines: ReturnType<typeof readLog>, bestStep: number): ValidationLogLine | undefined {
  return lines.find((l): l is ValidationLogLine => l.type === 'validation' && l.step === bestStep);
}

function describeKeyDifference(saved: string, current: string): string {
  const a = JSON.parse(saved) as Record<string, unknown>;
  const b = JSON.parse(current) as Record<string, unknown>;
  const differing = Object.keys({ ...a, ...b }).filter((k) => JSON.stringify(a[k]) !== JSON.stringify(b[k]));
  return `the checkpoint was made with other options (${differing
    .map((k) => `${k}: ${JSON.stringify(a[k])} then, ${JSON.stringify(b[k])} now`)
    .join('; ')}); resume with the same options`;
}

const round = (value: number, digits: number) => Number(value.toFixed(digits));
