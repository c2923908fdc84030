/**
 * Where a GradientCore runs: in this thread (LocalRunner) or in a worker thread (WorkerRunner,
 * train/workers/gradient-worker.ts). Both take the weights to use with each request, tagged with
 * a version number, and pass them on only when the version changed.
 */
import { Worker } from 'node:worker_threads';
import type * as tfType from '@tensorflow/tfjs';
import { workerEntrySource } from '../node/worker-entry.ts';
import type { LossOptions } from './loss.ts';
import type { UNetOptions } from './unet.ts';
import type { BackendChoice } from './backend.ts';
import type { GradientResult, LayersArtifacts, SubBatch, WeightSpec } from './engine-core.ts';

export interface RunnerInit {
  backend: BackendChoice;
  model: UNetOptions;
  loss: LossOptions;
}

export interface RunnerInfo {
  backend: string;
  report: string[];
  specs: WeightSpec[];
  /** The freshly initialized weights (used by the engine to start training). */
  initialWeights: Float32Array[];
}

export interface VersionedWeights {
  version: number;
  values: Float32Array[];
}

export interface CoreRunner {
  init(options: RunnerInit): Promise<RunnerInfo>;
  gradients(batch: SubBatch, weights: VersionedWeights): Promise<GradientResult>;
  predict(images: Float32Array, n: number, height: number, width: number, weights: VersionedWeights): Promise<Float32Array>;
  artifacts(weights: VersionedWeights): Promise<LayersArtifacts>;
  dispose(): Promise<void>;
}

/** Runs the core in this thread. */
export class LocalRunner implements CoreRunner {
  private core: import('./engine-core.ts').GradientCore | undefined;
  private tf: typeof tfType | undefined;
  private version = -1;

  constructor(private readonly log: (line: string) => void) {}

  async init(options: RunnerInit): Promise<RunnerInfo> {
    const tf = await (await import('../node/tfjs.ts')).importTfjs();
    const { selectBackend } = await import('./backend.ts');
    const { GradientCore } = await import('./engine-core.ts');
    const selected = await selectBackend(tf, options.backend, this.log);
    this.tf = tf;
    this.core = new GradientCore(tf, options.model, options.loss);
    return { backend: selected.name, report: selected.report, specs: this.core.specs, initialWeights: this.core.getWeights() };
  }

  private sync(weights: VersionedWeights): import('./engine-core.ts').GradientCore {
    if (this.core === undefined) throw new Error('runner used before init');
    if (weights.version !== this.version) {
      this.core.setWeights(weights.values);
      this.version = weights.version;
    }
    return this.core;
  }

  async gradients(batch: SubBatch, weights: VersionedWeights): Promise<GradientResult> {
    return this.sync(weights).computeGradients(batch);
  }

  async predict(images: Float32Array, n: number, height: number, width: number, weights: VersionedWeights): Promise<Float32Array> {
    return this.sync(weights).predict(images, n, height, width);
  }

  async artifacts(weights: VersionedWeights): Promise<LayersArtifacts> {
    return this.sync(weights).artifacts();
  }

  async dispose(): Promise<void> {
    this.core?.dispose();
    this.core = undefined;
  }
}

/** A request to the worker and its reply; see train/workers/gradient-worker.ts. */
export type WorkerRequest =
  | { id: number; type: 'init'; options: RunnerInit }
  | { id: number; type: 'gradients'; batch: SubBatch; weights?: Float32Array[] }
  | { id: number; type: 'predict'; images: Float32Array; n: number; height: number; width: number; weights?: Float32Array[] }
  | { id: number; type: 'artifacts'; weights?: Float32Array[] };

/** A request without its id (the runner adds it). */
export type WorkerMessage = WorkerRequest extends infer R ? (R extends unknown ? Omit<R, 'id'> : never) : never;

export type WorkerReply = { id: number; ok: true; result: unknown } | { id: number; ok: false; error: { message: string; code?: string } };

/** Runs the core in a worker thread. */
export class WorkerRunner implements CoreRunner {
  private readonly worker: Worker;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  private version = -1;
  private failure: Error | undefined;

  constructor(log: (line: string) => void) {
    this.worker = new Worker(workerEntrySource(import.meta.url, './workers/gradient-worker'), { eval: true });
    // An idle worker does not keep the process alive (a caller that forgets dispose() can still
    // exit); one with requests in flight does.
    this.worker.unref();
    this.worker.on('message', (message: WorkerReply | { log: string }) => {
      if ('log' in message) {
        log(message.log);
        return;
      }
      const entry = this.pending.get(message.id);
      if (entry === undefined) return;
      this.pending.delete(message.id);
      if (this.pending.size === 0) this.worker.unref();
      if (message.ok) entry.resolve(message.result);
      else entry.reject(Object.assign(new Error(message.error.message), message.error.code ? { code: message.error.code } : {}));
    });
    const fail = (error: Error) => {
      this.failure = error;
      for (const entry of this.pending.values()) entry.reject(error);
      this.pending.clear();
    };
    this.worker.on('error', fail);
    this.worker.on('exit', (code) => fail(new Error(`training worker exited with code ${code}`)));
  }

  private request<T>(message: WorkerMessage, transfer: ArrayBuffer[] = []): Promise<T> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      if (this.pending.size === 0) this.worker.ref();
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      this.worker.postMessage({ ...message, id }, transfer);
    });
  }

  private weightsToSend(weights: VersionedWeights): Float32Array[] | undefined {
    if (weights.version === this.version) return undefined;
    this.version = weights.version;
    return weights.values; // structured clone copies them: the engine keeps its arrays
  }

  async init(options: RunnerInit): Promise<RunnerInfo> {
    const info = await this.request<RunnerInfo>({ type: 'init', options });
    this.version = -1;
    return info;
  }

  gradients(batch: SubBatch, weights: VersionedWeights): Promise<GradientResult> {
    return this.request<GradientResult>({ type: 'gradients', batch, weights: this.weightsToSend(weights) });
  }

  predict(images: Float32Array, n: number, height: number, width: number, weights: VersionedWeights): Promise<Float32Array> {
    return this.request<Float32Array>({ type: 'predict', images, n, height, width, weights: this.weightsToSend(weights) });
  }

  artifacts(weights: VersionedWeights): Promise<LayersArtifacts> {
    return this.request<LayersArtifacts>({ type: 'artifacts', weights: this.weightsToSend(weights) });
  }

  async dispose(): Promise<void> {
    this.worker.removeAllListeners('exit');
    await this.worker.terminate();
  }
}
