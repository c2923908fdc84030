/**
 * The training run behind an evaluated model, for the report and the model's pixel size: where its
 * record (config.json) and log are (the record is read and checked by node/training-run-file.ts
 * readTrainingRun: a bad field is one line naming the file and the field), and the summary the
 * report shows (core/evaluation-report.ts), from the record or, when the run is not at hand, from
 * the card.
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { EmsegError } from '../core/errors.ts';
import type { TrainingSummary } from '../core/evaluation-report.ts';
import type { ModelCard } from '../core/model-card.ts';
import { formatSliceList } from '../core/slice-list.ts';
import { sliceListText, type TrainingRun } from '../core/training-run.ts';

/** The run's record and log, each when it exists. */
export interface TrainingRunFiles {
  config?: string;
  log?: string;
}

/** The training run that made the model: `--run`, else the folder above a tfjs model, else `<name>.*` files beside an ONNX file. */
export function findTrainingRun(model: string, run?: string): TrainingRunFiles {
  let candidate: { config: string; log: string };
  if (run) candidate = { config: join(run, 'config.json'), log: join(run, 'train.log.jsonl') };
  else if (model.endsWith('.onnx')) {
    const base = model.slice(0, -'.onnx'.length);
    candidate = { config: `${base}.train-config.json`, log: `${base}.train.log.jsonl` };
  } else {
    const folder = dirname(resolve(model));
    candidate = { config: join(folder, 'config.json'), log: join(folder, 'train.log.jsonl') };
  }
  const found: TrainingRunFiles = {
    ...(existsSync(candidate.config) ? { config: candidate.config } : {}),
    ...(existsSync(candidate.log) ? { log: candidate.log } : {}),
  };
  if (run && !found.config && !found.log) throw new EmsegError('E_NOT_FOUND', `--run ${run}: no config.json or train.log.jsonl in it`);
  return found;
}

/** What the report says of the training run, from its record. */
export function trainingSummary(run: TrainingRun): TrainingSummary {
  const c = run.config ?? {};
  const best = run.best;
  return {
    command: run.command ?? null,
    ...(run.invocations ? { invocations: run.invocations.map((i) => ({ ...i, command: i.command ?? null })) } : {}),
    ...(run.status !== undefined ? { status: run.status } : {}),
    ...(run.stepsDone !== undefined ? { steps: run.stepsDone } : {}),
    ...(c.steps !== undefined ? { totalSteps: c.steps } : {}),
    ...(run.cropsSeen !== undefined ? { cropsSeen: run.cropsSeen } : {}),
    ...(run.wallTimeSeconds !== undefined ? { wallTimeSeconds: run.wallTimeSeconds } : {}),
    ...(run.backend !== undefined ? { backend: run.backend } : {}),
    ...(c.cropSize !== undefined ? { cropSize: c.cropSize } : {}),
    ...(c.batchSize !== undefined ? { batchSize: c.batchSize } : {}),
    ...(c.model
      ? { architecture: `U-Net depth ${c.model.depth}, ${c.model.baseFilters} base filters, batch norm ${c.model.batchNorm ? 'on' : 'off'}, dropout ${c.model.dropout}` }
      : {}),
    ...(run.split ? { split: { train: sliceListText(run.split.train), validation: sliceListText(run.split.validation) } } : {}),
    best: best && best.vRandBest !== undefined && best.bestThreshold !== undefined ? { step: best.step, vRandBest: best.vRandBest, bestThreshold: best.bestThreshold } : null,
  };
}

/** The training facts a model card carries (convert/training-info.ts), when the run folder is not at hand. */
export function trainingFromCard(training: ModelCard['training']): TrainingSummary | undefined {
  if (!training) return undefined;
  const num = (v: unknown) => (typeof v === 'number' ? v : undefined);
  const summary: TrainingSummary = {};
  if (typeof training.command === 'string') summary.command = training.command;
  if (num(training.steps) !== undefined) summary.steps = num(training.steps)!;
  if (num(training.cropsSeen) !== undefined) summary.cropsSeen = num(training.cropsSeen)!;
  if (num(training.wallTimeSeconds) !== undefined) summary.wallTimeSeconds = num(training.wallTimeSeconds)!;
  if (typeof training.backend === 'string') summary.backend = training.backend;
  if (typeof training['status'] === 'string') summary.status = training['status'];
  if (training.split?.train && training.split.validation) summary.split = { train: formatSliceList(training.split.train), validation: formatSliceList(training.split.validation) };
  return Object.keys(summary).length > 0 ? summary : undefined;
}
