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
 *   model/             tfjs Layers model of the best checkpoint (by validation V_rand)
 *   last-model/        tfjs Layers model of the last step trained
 *   checkpoints/latest, checkpoints/best   (train/checkpoint.ts)
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EmsegError } from '../core/errors.ts';
import { reproducibilityKey, formatSliceList, type TrainConfig } from './config.ts';
import { hasCheckpoint, loadCheckpoint, saveCheckpoint, type LoopState } from './checkpoint.ts';
import { renderCurveSvg } from './curve.ts';
import { JsonlLog, readLog, type TrainLogLine, type ValidationLogLine } from './log.ts';
import { learningRateAt } from './schedule.ts';
import { machineDescription } from './machine.ts';
import { openTrainingParts, type TrainingParts } from './loop-parts.ts';
import { writeFileAtomic } from '../node/atomic-write.ts';

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
  /** Injected for tests: the parts the loop drives (dataset, rng, engine, scorer). */
  parts?: TrainingParts;
}

const now = () => performance.now() / 1000;

export async function trainModel(config: TrainConfig, options: TrainRunOptions = {}): Promise<TrainResult> {
  const { signal, onEvent = () => {} } = options;
  const outDir = config.outDir;
  const files = {
    config: join(outDir, 'config.json'),
    log: join(outDir, 'train.log.jsonl'),
    curve: join(outDir, 'curve.svg'),
    model: join(outDir, 'model'),
    lastModel: join(outDir, 'last-model'),
    latest: join(outDir, 'checkpoints', 'latest'),
  };
  if (!config.resume && hasCheckpoint(outDir, 'latest')) {
    throw new EmsegError(
      'E_OUTPUT_EXISTS',
      `--out ${outDir}: already holds a training run; continue it with --resume, or choose another --out`,
    );
  }
  const configKey = reproducibilityKey(config);
  const resumed = config.resume ? loadCheckpoint(outDir, 'latest') : undefined;
  if (resumed && resumed.loop.configKey !== configKey) {
    throw new EmsegError('E_BAD_ARGUMENT', `--resume: ${describeKeyDifference(resumed.loop.configKey, configKey)}`);
  }
  // Read and check the data (and start the engine) before creating anything on disk.
  const parts = options.parts ?? (await openTrainingParts(config));
  const { engine, dataset } = parts;
  try {
    mkdirSync(outDir, { recursive: true });
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
      configKey,
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
    const invocations = [...previous, { command: options.command ?? null, startedAt, fromStep: loop.step, backend: engine.backend }];
    const writeConfig = (status: string, extra: Record<string, unknown> = {}) =>
      writeFileAtomic(
        files.config,
        `${JSON.stringify(
          {
            command: invocations[0]!.command,
            invocations,
            status,
            startedAt: invocations[0]!.startedAt,
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
    const totalSteps = config.steps;
    log.append({ type: 'event', event: resumed ? 'resume' : 'start', step: loop.step, backend: engine.backend, totalSteps });
    onEvent({ type: 'start', totalSteps, startStep: loop.step, resumed: !!resumed, backend: engine.backend, report: engine.report });
    for (const message of warnings) {
      log.append({ type: 'event', event: 'warning', step: loop.step, message });
      onEvent({ type: 'warning', message });
    }

    const invocationStart = now();
    const elapsedBefore = loop.elapsedSeconds;
    const elapsed = () => elapsedBefore + (now() - invocationStart);
    // Throughput counts the time of the steps only (sampling + engine), not checkpoints or validation.
    let windowStepSeconds = 0;
    let windowCrops = 0;
    let recentStepsPerSecond = 0;
    let lastLoss: number | undefined;
    let best: ValidationLogLine | undefined = findBest(existsSync(files.log) ? readLog(files.log) : [], loop.bestStep);

    let latestSavedAt = resumed ? loop.step : -1;
    const checkpointNow = async (name: 'latest' | 'best') => {
      if (name === 'latest') latestSavedAt = loop.step;
      loop.rngState = rng.getState();
      loop.logPosition = log.position();
      loop.elapsedSeconds = elapsed();
      const dir = await saveCheckpoint(outDir, name, { loop: { ...loop }, engineState: await engine.saveState() });
      onEvent({ type: 'checkpoint', name, step: loop.step, dir });
    };

    let status: TrainStatus = 'completed';
    while (loop.step < totalSteps) {
      // A step may run synchronously to the end (one engine in this thread): give the event loop
      // a turn so that Ctrl-C (and other signals and timers) are seen between steps.
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (signal?.aborted) {
        status = 'interrupted';
        break;
      }
      if (config.maxMinutes !== null && now() - invocationStart >= config.maxMinutes * 60) {
        status = 'time-budget';
        break;
      }
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
        elapsedSeconds: elapsed(),
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
          elapsedSeconds: round(elapsed(), 3),
        };
        lastLoss = line.loss;
        log.append(line);
        loop.windowLossSum = 0;
        loop.windowSteps = 0;
        windowCrops = 0;
        windowStepSeconds = 0;
      }
      if (loop.step % config.validateEvery === 0 || loop.step === totalSteps) {
        const line = await validate(parts, loop, elapsed);
        log.append(line);
        const isBest = line.vRand > loop.bestVRand;
        if (isBest) {
          loop.bestVRand = line.vRand;
          loop.bestStep = loop.step;
          best = line;
          await checkpointNow('best');
        }
        onEvent({ type: 'validation', line, isBest });
      }
      if (loop.step % config.checkpointEvery === 0 || loop.step === totalSteps) {
        await checkpointNow('latest');
      }
    }
    if (latestSavedAt !== loop.step) await checkpointNow('latest');
    onEvent({ type: 'finalizing', status });
    log.append({ type: 'event', event: 'stop', step: loop.step, status, elapsedSeconds: round(elapsed(), 3) });

    // Final artifacts (each written atomically by the engine): the last state, then the best.
    await engine.saveLayersModel(files.lastModel);
    if (hasCheckpoint(outDir, 'best')) await engine.loadState(loadCheckpoint(outDir, 'best').engineState);
    await engine.saveLayersModel(files.model);
    const lines = readLog(files.log);
    await writeFileAtomic(files.curve, renderCurveSvg(lines, { title: `emseg training: ${outDir}` }));
    const result: TrainResult = {
      status,
      step: loop.step,
      totalSteps,
      cropsSeen: loop.cropsSeen,
      elapsedSeconds: round(elapsed(), 3),
      ...(best ? { best } : {}),
      ...(lastLoss !== undefined ? { lastLoss } : {}),
      backend: engine.backend,
      outDir,
      files,
    };
    Object.assign(invocations[invocations.length - 1]!, { toStep: loop.step, status, finishedAt: new Date().toISOString() });
    await writeConfig(status, {
      finishedAt: new Date().toISOString(),
      stepsDone: loop.step,
      cropsSeen: loop.cropsSeen,
      wallTimeSeconds: result.elapsedSeconds,
      best: best ?? null,
      model: best ? `model/ = best checkpoint (step ${best.step})` : 'model/ = last step (no validation yet)',
    });
    return result;
  } finally {
    if (!options.parts) await parts.dispose();
  }
}

/** Runs the model on the whole validation slices and scores them. */
async function validate(parts: TrainingParts, loop: LoopState, elapsed: () => number): Promise<ValidationLogLine> {
  const start = now();
  const scores = await parts.scoreValidation();
  return {
    type: 'validation',
    step: loop.step,
    crops: loop.cropsSeen,
    vRand: scores.vRand,
    vInfo: scores.vInfo,
    threshold: scores.threshold,
    pixelError: scores.pixelError,
    dice: scores.dice,
    iou: scores.iou,
    atThreshold: scores.atThreshold,
    vRandAtThreshold: scores.vRandAtThreshold,
    vInfoAtThreshold: scores.vInfoAtThreshold,
    seconds: round(now() - start, 3),
    elapsedSeconds: round(elapsed(), 3),
  };
}

function readPreviousInvocations(configPath: string): Array<Record<string, unknown>> {
  try {
    const saved = JSON.parse(readFileSync(configPath, 'utf8')) as { invocations?: Array<Record<string, unknown>> };
    return Array.isArray(saved.invocations) ? saved.invocations : [];
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
