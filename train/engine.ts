/**
 * The training compute engine the training loop drives (see train/README.md, "Compute engine").
 *
 * The engine owns the weights and Adam's state as plain Float32Arrays. Gradients come from one
 * or more GradientCores (train/engine-core.ts): in this thread when `workers` is 1, or one per
 * worker thread, each with its own tfjs backend, when `workers` > 1 (data parallelism: each
 * worker computes the gradient of its share of the batch; the engine averages them, weighted by
 * the share's size, in worker order, and applies Adam itself). A run is therefore a
 * deterministic function of the seed, the batches, the learning rates and the worker count, and
 * saveState/loadState capture everything that determines it.
 */
import { availableParallelism } from 'node:os';
import { EmsegError, type EmsegErrorCode } from '../core/errors.ts';
import { isBackendChoice, type BackendChoice } from './backend.ts';
import type { TrainBatch } from './batch.ts';
import { ADAM_DEFAULTS, adamUpdate, type AdamOptions, type ResolvedAdamOptions } from './engine-adam.ts';
import type { SubBatch, WeightSpec } from './engine-core.ts';
import { writeLayersModelFolder } from './engine-save.ts';
import { WeightAverage } from './weight-average.ts';
import { LocalRunner, WorkerRunner, type CoreRunner, type VersionedWeights } from './engine-runner.ts';
import { resolveLossOptions, type LossOptions, type ResolvedLossOptions } from './loss.ts';
import { resolveUNetOptions, type ResolvedUNetOptions, type UNetOptions } from './unet.ts';
import { definedFields } from '../core/defined.ts';

export type { BackendChoice } from './backend.ts';

export interface EngineOptions {
  /** 'auto' | 'gpu' | 'native' | 'wasm' | 'cpu' (train/backend.ts). */
  backend: BackendChoice;
  /**
   * Data-parallel workers. 1 computes in this thread; N > 1 starts N worker threads, each with its
   * own backend; 0 or undefined: the default, the number of cores (at most 4) for 'wasm' and
   * 'cpu', which run one thread each, and 1 for 'native' and 'gpu', which use every core by
   * themselves.
   */
  workers?: number;
  /** The U-Net (train/unet.ts); its `seed` defaults to `seed` below. */
  model: UNetOptions;
  /** The loss (train/loss.ts); default BCE + soft Dice, 1:1. */
  loss?: LossOptions;
  /** Adam's constants; default tfjs's (0.9, 0.999, 1e-7). */
  adam?: AdamOptions;
  /**
   * Decay of the exponential moving average of the weights (train/weight-average.ts), 0 = none.
   * With an average, `predict` and `saveLayersModel` use the averaged weights (the model the run
   * keeps) and the steps keep training the raw ones. Default 0.
   */
  emaDecay?: number;
  /** Seeds the weight initialization (unless model.seed is given). */
  seed: number;
  /** Receives the backend report and other one-line messages. */
  log?: (line: string) => void;
}

/** Per-step options of `step`. */
export interface StepOptions {
  /** Weights (by name, `<layer>/<kind>`) that this step leaves unchanged, Adam moments included (fine-tuning with a frozen encoder). */
  frozen?: (weightName: string) => boolean;
}

export interface StepResult {
  /** Loss of the batch before the update (mean over its images). */
  loss: number;
}

/**
 * Everything needed to resume training exactly: JSON-able metadata plus one Float32Array per
 * entry of `meta.buffers`, in the same order: first every model weight ('weight:<name>', in
 * model.weights order, trainable or not), then Adam's first and second moments of every trainable
 * weight ('adam_m:<name>', 'adam_v:<name>'), then, with a weight average, the averaged value of
 * every weight ('ema:<name>', model.weights order). Shapes are in `meta.buffers[i].shape`.
 */
export interface EngineState {
  meta: EngineStateMeta;
  buffers: Float32Array[];
}

export interface EngineStateMeta {
  format: 'emseg-engine-state';
  version: 1;
  /** Number of optimizer steps taken. */
  step: number;
  model: ResolvedUNetOptions;
  loss: ResolvedLossOptions;
  optimizer: { name: 'adam' } & ResolvedAdamOptions;
  /** The weight average, when the run keeps one (absent in states saved without). */
  ema?: { decay: number };
  buffers: { name: string; shape: number[] }[];
}

export interface TrainingEngine {
  /** The backend in use: 'gpu', 'native', 'wasm' or 'cpu'. */
  readonly backend: string;
  /** Backend selection report, then one line on the worker setup. */
  readonly report: string[];
  /** Data-parallel workers in use (1 = this thread). */
  readonly workers: number;
  /** Optimizer steps taken so far. */
  readonly stepCount: number;
  step(batch: TrainBatch, learningRate: number, options?: StepOptions): Promise<StepResult>;
  /** Probabilities, NHWC with C = 1, in inference mode (no dropout, batch norm moving statistics). */
  predict(images: Float32Array, n: number, height: number, width: number): Promise<Float32Array>;
  saveState(): Promise<EngineState>;
  loadState(state: EngineState): Promise<void>;
  /** Writes model.json + weights.bin (tfjs Layers format) into `dir`, atomically. */
  saveLayersModel(dir: string): Promise<void>;
  dispose(): Promise<void>;
}

const EMSEG_CODES = new Set<string>(['E_BACKEND', 'E_BAD_ARGUMENT', 'E_MODEL', 'E_NOT_FOUND']);

export async function createTrainingEngine(options: EngineOptions): Promise<TrainingEngine> {
  const log = options.log ?? (() => undefined);
  if (!isBackendChoice(options.backend)) {
    throw new EmsegError('E_BAD_ARGUMENT', `backend: expected one of auto, gpu, native, wasm, cpu, found '${String(options.backend)}'`);
  }
  if (!Number.isInteger(options.seed)) throw new EmsegError('E_BAD_ARGUMENT', `seed: expected an integer, found ${options.seed}`);
  if (options.workers !== undefined && !(Number.isInteger(options.workers) && options.workers >= 0 && options.workers <= 64)) {
    throw new EmsegError('E_BAD_ARGUMENT', `workers: expected an integer from 0 (default) to 64, found ${options.workers}`);
  }
  let model: ResolvedUNetOptions;
  let loss: ResolvedLossOptions;
  try {
    model = resolveUNetOptions({ seed: options.seed, ...definedFields(options.model) });
    loss = resolveLossOptions(options.loss);
  } catch (error) {
    throw new EmsegError('E_BAD_ARGUMENT', (error as Error).message);
  }
  const adam: ResolvedAdamOptions = { ...ADAM_DEFAULTS, ...definedFields(options.adam) };
  const emaDecay = options.emaDecay ?? 0;
  if (!(Number.isFinite(emaDecay) && emaDecay >= 0 && emaDecay < 1)) {
    throw new EmsegError('E_BAD_ARGUMENT', `emaDecay: expected a number in [0, 1), found ${emaDecay}`);
  }

  // The first runner is always local when one worker is wanted; with several, all are threads.
  // The backend must be known to choose the default worker count, so 'auto' is resolved first.
  const first: CoreRunner = new LocalRunner(log);
  let info = await withEmsegErrors(() => first.init({ backend: options.backend, model, loss }));
  const concrete = info.backend as BackendChoice;
  const workers = options.workers === undefined || options.workers === 0 ? defaultWorkers(concrete) : options.workers;
  let runners: CoreRunner[] = [first];
  if (workers > 1) {
    await first.dispose();
    runners = Array.from({ length: workers }, () => new WorkerRunner(log));
    try {
      const infos = await withEmsegErrors(() => Promise.all(runners.map((r) => r.init({ backend: concrete, model, loss }))));
      info = { ...infos[0]!, report: info.report };
    } catch (error) {
      await Promise.all(runners.map((r) => r.dispose()));
      throw error;
    }
  }
  const report = [...info.report, workers > 1 ? `${workers} data-parallel worker threads, one ${concrete} backend each` : `one ${concrete} backend in the main thread`];
  log(report[report.length - 1]!);
  return new Engine(runners, info.backend, report, info.specs, info.initialWeights, model, loss, adam, emaDecay);
}

function defaultWorkers(backend: BackendChoice): number {
  if (backend === 'wasm' || backend === 'cpu') return Math.max(1, Math.min(4, availableParallelism()));
  return 1;
}

class Engine implements TrainingEngine {
  private weights: Float32Array[];
  private m: Float32Array[];
  private v: Float32Array[];
  /** The averaged weights (all of them, model.weights order), null without an average. */
  private average: WeightAverage | null;
  private steps = 0;
  private version = 0;
  private readonly trainableIndex: number[];
  private readonly nonTrainableIndex: number[];
  private disposed = false;

  constructor(
    private readonly runners: CoreRunner[],
    readonly backend: string,
    readonly report: string[],
    private readonly specs: WeightSpec[],
    initialWeights: Float32Array[],
    private readonly model: ResolvedUNetOptions,
    private readonly loss: ResolvedLossOptions,
    private readonly adam: ResolvedAdamOptions,
    private readonly emaDecay: number,
  ) {
    this.weights = initialWeights;
    this.average = emaDecay > 0 ? new WeightAverage(emaDecay, initialWeights) : null;
    this.trainableIndex = specs.flatMap((s, i) => (s.trainable ? [i] : []));
    this.nonTrainableIndex = specs.flatMap((s, i) => (s.trainable ? [] : [i]));
    this.m = this.trainableIndex.map((i) => new Float32Array(initialWeights[i]!.length));
    this.v = this.trainableIndex.map((i) => new Float32Array(initialWeights[i]!.length));
  }

  get workers(): number {
    return this.runners.length;
  }

  get stepCount(): number {
    return this.steps;
  }

  /** The raw weights, which the steps train. */
  private current(): VersionedWeights {
    return { version: this.version, values: this.weights };
  }

  /** The weights the run keeps: the average when there is one (a version apart from the raw ones'), else the raw weights. */
  private kept(): VersionedWeights {
    return this.average ? { version: this.version + 0.5, values: this.average.values } : this.current();
  }

  private alive(): void {
    if (this.disposed) throw new Error('the training engine was disposed');
  }

  async step(batch: TrainBatch, learningRate: number, options: StepOptions = {}): Promise<StepResult> {
    this.alive();
    checkBatch(batch);
    if (!(Number.isFinite(learningRate) && learningRate >= 0)) {
      throw new EmsegError('E_BAD_ARGUMENT', `learningRate: expected a finite number >= 0, found ${learningRate}`);
    }
    const parts = splitBatch(batch, this.runners.length);
    const weights = this.current();
    const results = await Promise.all(parts.map((part, i) => this.runners[i]!.gradients(part, weights)));
    // Average in worker order, weighted by share: the gradient of the mean loss over the batch.
    let lossValue = 0;
    const grads = this.trainableIndex.map((i) => new Float32Array(this.weights[i]!.length));
    const nonTrainable = this.nonTrainableIndex.map((i) => new Float32Array(this.weights[i]!.length));
    results.forEach((result, r) => {
      const share = parts[r]!.n / batch.n;
      lossValue += share * result.loss;
      addScaled(grads, result.grads, share);
      addScaled(nonTrainable, result.nonTrainable, share);
    });
    if (!Number.isFinite(lossValue)) throw new Error(`the loss is not finite (${lossValue}) at step ${this.steps + 1}`);
    this.steps += 1;
    const { frozen } = options;
    this.trainableIndex.forEach((w, k) => {
      if (frozen?.(this.specs[w]!.name)) return;
      adamUpdate(this.weights[w]!, grads[k]!, this.m[k]!, this.v[k]!, learningRate, this.steps, this.adam);
    });
    this.nonTrainableIndex.forEach((w, k) => this.weights[w]!.set(nonTrainable[k]!));
    this.average?.update(this.weights, this.steps);
    this.version += 1;
    return { loss: lossValue };
  }

  async predict(images: Float32Array, n: number, height: number, width: number): Promise<Float32Array> {
    this.alive();
    if (!(Number.isInteger(n) && n >= 1 && Number.isInteger(height) && height >= 1 && Number.isInteger(width) && width >= 1)) {
      throw new EmsegError('E_BAD_ARGUMENT', `predict: expected positive integer n, height, width, found ${n}, ${height}, ${width}`);
    }
    if (images.length !== n * height * width) {
      throw new EmsegError('E_SIZE_MISMATCH', `predict: images has ${images.length} values, expected n*height*width = ${n * height * width}`);
    }
    const size = height * width;
    const counts = shares(n, this.runners.length);
    const weights = this.kept();
    let start = 0;
    const jobs = counts.map((count, i) => {
      const part = images.slice(start * size, (start + count) * size);
      start += count;
      return this.runners[i]!.predict(part, count, height, width, weights);
    });
    const outputs = await Promise.all(jobs);
    const result = new Float32Array(n * size);
    let offset = 0;
    for (const output of outputs) {
      result.set(output, offset);
      offset += output.length;
    }
    return result;
  }

  async saveState(): Promise<EngineState> {
    this.alive();
    const buffers: Float32Array[] = [];
    const entries: { name: string; shape: number[] }[] = [];
    this.specs.forEach((spec, i) => {
      entries.push({ name: `weight:${spec.name}`, shape: spec.shape });
      buffers.push(new Float32Array(this.weights[i]!));
    });
    for (const [moment, arrays] of [['adam_m', this.m], ['adam_v', this.v]] as const) {
      this.trainableIndex.forEach((w, k) => {
        entries.push({ name: `${moment}:${this.specs[w]!.name}`, shape: this.specs[w]!.shape });
        buffers.push(new Float32Array(arrays[k]!));
      });
    }
    if (this.average) {
      this.specs.forEach((spec, i) => {
        entries.push({ name: `ema:${spec.name}`, shape: spec.shape });
        buffers.push(new Float32Array(this.average!.values[i]!));
      });
    }
    return {
      meta: {
        format: 'emseg-engine-state',
        version: 1,
        step: this.steps,
        model: { ...this.model },
        loss: { ...this.loss },
        optimizer: { name: 'adam', ...this.adam },
        ...(this.average ? { ema: { decay: this.emaDecay } } : {}),
        buffers: entries,
      },
      buffers,
    };
  }

  async loadState(state: EngineState): Promise<void> {
    this.alive();
    const { meta, buffers } = state;
    if (meta?.format !== 'emseg-engine-state' || meta.version !== 1) {
      throw new EmsegError('E_MODEL', `engine state: expected format emseg-engine-state version 1, found ${meta?.format} ${meta?.version}`);
    }
    for (const key of Object.keys(this.model) as (keyof ResolvedUNetOptions)[]) {
      if (key !== 'seed' && meta.model[key] !== this.model[key]) {
        throw new EmsegError('E_MODEL', `engine state: model.${key} is ${meta.model[key]}, but this engine was built with ${this.model[key]}`);
      }
    }
    // A state with an average restores it; one without starts the average from its weights.
    const hasAverage = meta.ema !== undefined;
    if (hasAverage && meta.ema!.decay !== this.emaDecay) {
      throw new EmsegError('E_MODEL', `engine state: saved with a weight average of decay ${meta.ema!.decay}, but this engine averages with decay ${this.emaDecay}`);
    }
    const expected = this.specs.length * (hasAverage ? 2 : 1) + 2 * this.trainableIndex.length;
    if (meta.buffers.length !== expected || buffers.length !== expected) {
      throw new EmsegError('E_MODEL', `engine state: expected ${expected} buffers, found ${meta.buffers.length} described and ${buffers.length} given`);
    }
    const shapeOf = (i: number) => this.specs[i]!.shape;
    const weightShapes = this.specs.map((_, i) => shapeOf(i));
    const expectedShapes = [...weightShapes, ...this.trainableIndex.map(shapeOf), ...this.trainableIndex.map(shapeOf), ...(hasAverage ? weightShapes : [])];
    expectedShapes.forEach((shape, i) => {
      const size = shape.reduce((a, b) => a * b, 1);
      if (buffers[i]!.length !== size || meta.buffers[i]!.shape.join('x') !== shape.join('x')) {
        throw new EmsegError('E_MODEL', `engine state: buffer ${meta.buffers[i]!.name} has shape ${meta.buffers[i]!.shape.join('x')} (${buffers[i]!.length} values), expected ${shape.join('x')}`);
      }
    });
    const copy = (i: number) => new Float32Array(buffers[i]!);
    this.weights = this.specs.map((_, i) => copy(i));
    this.m = this.trainableIndex.map((_, k) => copy(this.specs.length + k));
    this.v = this.trainableIndex.map((_, k) => copy(this.specs.length + this.trainableIndex.length + k));
    const averageStart = this.specs.length + 2 * this.trainableIndex.length;
    if (this.emaDecay > 0) {
      this.average = new WeightAverage(this.emaDecay, hasAverage ? this.specs.map((_, i) => copy(averageStart + i)) : this.weights);
    }
    this.steps = meta.step;
    this.version += 1;
  }

  async saveLayersModel(dir: string): Promise<void> {
    this.alive();
    await writeLayersModelFolder(dir, await this.runners[0]!.artifacts(this.kept()));
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    await Promise.all(this.runners.map((r) => r.dispose()));
  }
}

function checkBatch(batch: TrainBatch): void {
  const { n, height, width } = batch;
  if (!(Number.isInteger(n) && n >= 1 && Number.isInteger(height) && height >= 1 && Number.isInteger(width) && width >= 1)) {
    throw new EmsegError('E_BAD_ARGUMENT', `batch: expected positive integer n, height, width, found ${n}, ${height}, ${width}`);
  }
  const size = n * height * width;
  for (const key of ['images', 'labels', 'weights'] as const) {
    const array = batch[key];
    if (array === undefined && key === 'weights') continue;
    if (!(array instanceof Float32Array) || array.length !== size) {
      throw new EmsegError('E_SIZE_MISMATCH', `batch.${key}: expected a Float32Array of n*height*width = ${size} values, found ${array instanceof Float32Array ? array.length : typeof array}`);
    }
  }
}

/** Sizes of `count` near-equal shares of n, larger ones first; never more shares than n. */
function shares(n: number, count: number): number[] {
  const k = Math.min(n, count);
  return Array.from({ length: k }, (_, i) => Math.floor(n / k) + (i < n % k ? 1 : 0));
}

function splitBatch(batch: TrainBatch, count: number): SubBatch[] {
  const size = batch.height * batch.width;
  let start = 0;
  return shares(batch.n, count).map((n) => {
    const range = (a: Float32Array) => a.slice(start * size, (start + n) * size);
    const part: SubBatch = { images: range(batch.images), labels: range(batch.labels), weights: batch.weights && range(batch.weights), n, height: batch.height, width: batch.width };
    start += n;
    return part;
  });
}

function addScaled(target: Float32Array[], source: Float32Array[], scale: number): void {
  target.forEach((t, k) => {
    const s = source[k]!;
    for (let i = 0; i < t.length; i++) t[i] = t[i]! + scale * s[i]!;
  });
}

async function withEmsegErrors<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (!(error instanceof EmsegError) && code !== undefined && EMSEG_CODES.has(code)) {
      throw new EmsegError(code as EmsegErrorCode, (error as Error).message);
    }
    throw error;
  }
}

