/**
 * The model of the server and of the large-image path of `emseg predict`: node/load-onnx-model.ts's
 * loadOnnxModel, run in a worker thread (node/inference-worker.ts). onnxruntime-node 1.30 runs
 * `session.run` synchronously on the calling thread (its promise only defers the start), so in the
 * main thread every inference would stop the event loop: no request could be read, decoded or
 * answered meanwhile, and the server's own work would add to the inference time instead of
 * overlapping with it. In a worker, the event loop stays free and a request's decoding and encoding
 * (or predict's reading, blending and writing) overlap with another's inference.
 *
 * Tiles go to the worker as a copy (a caller may reuse its buffer); results come back transferred.
 * The card is the one loadOnnxModel found in the worker (node/model-card-file.ts findModelCard, or
 * the contract defaults); it crosses the thread boundary as plain data and is checked against the
 * card schema again on arrival (core/model-card.ts parseModelCard), not taken on trust.
 */
import { Worker } from 'node:worker_threads';
import type { ModelCard } from '../core/contract.ts';
import { EmsegError, type EmsegErrorCode } from '../core/errors.ts';
import { parseModelCard } from '../core/model-card.ts';
import type { TilePredictor } from '../core/tiling.ts';
import { workerEntrySource } from './worker-entry.ts';
import type { SerializedError, WorkerInput } from './inference-worker.ts';
import type { LoadModelOptions } from './load-onnx-model.ts';
import type { ProviderFailure } from './onnx-providers.ts';
import { createSessionScheduler, type SessionScheduler } from './session-scheduler.ts';

export interface WorkerModel {
  predictor: TilePredictor;
  provider: string;
  failures: ProviderFailure[];
  card: ModelCard;
  /** Releases the session and stops the worker. */
  close: () => Promise<void>;
}

export interface WorkerModelOptions {
  /** As loadOnnxModel's: `"cuda,cpu"`, `"auto"` or an array. Default EMSEG_EP, else auto. */
  providers?: LoadModelOptions['providers'];
  /** Warnings from the worker (a provider that failed, a missing card). */
  log?: (message: string) => void;
  sessionOptions?: LoadModelOptions['sessionOptions'];
  /** Told when a loaded worker dies without being closed (every later call then fails). */
  onCrash?: (error: Error) => void;
  /**
   * On the CPU provider, after this many ms without a call, the worker releases its session and
   * makes it again, so what the session's memory arena kept goes back; 0 or absent: never.
   */
  idleReleaseMs?: number;
  /** Told each time an idle session was released and made again. */
  onIdleRelease?: () => void;
}

function revive(error: SerializedError): Error {
  return error.code ? new EmsegError(error.code as EmsegErrorCode, error.message) : new Error(error.message);
}

/** Loads the model in a worker thread; resolves once it is loaded, rejects with the loader's error. */
export function loadOnnxModelInWorker(path: string, options: WorkerModelOptions = {}): Promise<WorkerModel> {
  const input: WorkerInput = {
    path,
    ...(options.providers !== undefined ? { providers: options.providers } : {}),
    ...(options.sessionOptions !== undefined ? { sessionOptions: options.sessionOptions } : {}),
    ...(options.idleReleaseMs ? { idleReleaseMs: options.idleReleaseMs } : {}),
  };
  const worker = new Worker(workerEntrySource(import.meta.url, './inference-worker'), { eval: true, workerData: input });
  const pending = new Map<number, { resolve: (output: Float32Array) => void; reject: (error: unknown) => void }>();
  let nextId = 0;
  let stopped: Error | undefined;
  let loaded = false;

  const failAll = (error: Error) => {
    if (loaded && !stopped) options.onCrash?.(error);
    stopped ??= error;
    for (const { reject } of pending.values()) reject(error);
    pending.clear();
  };

  return new Promise<WorkerModel>((resolve, reject) => {
    worker.on('error', (error) => {
      const wrapped = new EmsegError('E_BACKEND', `${path}: the inference worker failed: ${error.message}`, { cause: error });
      failAll(wrapped);
      reject(wrapped);
    });
    worker.on('exit', (code) => {
      const error = new EmsegError('E_BACKEND', `${path}: the inference worker stopped (exit code ${code})`);
      failAll(error);
      reject(error);
    });
    worker.on('message', (message: { type: string; [key: string]: unknown }) => {
      switch (message.type) {
        case 'log':
          options.log?.(message.message as string);
          break;
        case 'released':
          options.onIdleRelease?.();
          break;
        case 'error':
          reject(revive(message.error as SerializedError));
          void worker.terminate();
          break;
        case 'result':
        case 'failed': {
          const id = message.id as number;
          const call = pending.get(id);
          pending.delete(id);
          if (message.type === 'result') call?.resolve(message.output as Float32Array);
          else call?.reject(revive(message.error as SerializedError));
          break;
        }
        case 'loaded': {
          let card: ModelCard;
          try {
            card = parseModelCard(message.card, `${path} (the card its inference worker loaded)`);
          } catch (error) {
            reject(error);
            void worker.terminate();
            break;
          }
          loaded = true;
          const predictor: TilePredictor = (tiles, n, height, width) => {
            if (stopped) return Promise.reject(stopped);
            const id = nextId++;
            return new Promise<Float32Array>((resolveRun, rejectRun) => {
              pending.set(id, { resolve: resolveRun, reject: rejectRun });
              // Structured cloning copies a view's whole buffer: send exactly the tiles.
              const count = n * height * width;
              const exact = tiles.length === count && tiles.byteOffset === 0 && tiles.byteLength === tiles.buffer.byteLength ? tiles : tiles.slice(0, count);
              worker.postMessage({ type: 'run', id, tiles: exact, n, height, width });
            });
          };
          resolve({
            predictor,
            provider: message.provider as string,
            failures: message.failures as ProviderFailure[],
            card,
            close: async () => {
              if (stopped) return;
              stopped = new EmsegError('E_BACKEND', `${path}: the model was closed`);
              const exited = new Promise<void>((done) => worker.once('exit', () => done()));
              worker.postMessage({ type: 'close' });
              const timer = setTimeout(() => void worker.terminate(), 5000);
              await exited;
              clearTimeout(timer);
            },
          });
          break;
        }
      }
    });
  });
}

export interface WorkerPool extends WorkerModel {
  /** Narrow sessions in the pool: session calls that can run at the same time. */
  workers: number;
  /** Intra-op threads of the wide session for lone requests; 0 when the pool has none. */
  wideThreads: number;
  /** Sets the count of requests in the server, which decides when the wide session runs. */
  setDemand: SessionScheduler['setDemand'];
  /** Session calls so far, by kind. */
  readonly runs: SessionScheduler['runs'];
}

export interface WorkerPoolOptions extends WorkerModelOptions {
  /** Narrow sessions, each in its own worker thread with `sessionOptions`. */
  workers: number;
  /**
   * Intra-op threads of one more session (worker) that runs a call when nothing else runs or waits
   * and the server has one request (node/session-scheduler.ts); 0 or absent: no such session.
   */
  wideThreads?: number;
}

/**
 * `workers` sessions of the same model, each in its own worker thread, and optionally a wide
 * session using all their cores; node/session-scheduler.ts chooses the session of each call. On a
 * CPU, several single-threaded sessions side by side avoid the lock-step stalls of one
 * multi-threaded session whose threads share the cores with the server's own work (decoding,
 * tiling, encoding); a request alone in the server runs on the wide session, as fast as a bare
 * session on all the cores.
 */
export async function loadOnnxModelPool(path: string, options: WorkerPoolOptions): Promise<WorkerPool> {
  const { workers, wideThreads = 0, ...rest } = options;
  if (!Number.isInteger(workers) || workers < 1) throw new RangeError(`workers: expected an integer >= 1, found ${workers}`);
  if (!Number.isInteger(wideThreads) || wideThreads < 0) throw new RangeError(`wideThreads: expected an integer >= 0, found ${wideThreads}`);
  const quiet = { ...rest, log: () => {} };
  // The wide session runs one call and then waits for the next lone request: its pool threads stop
  // spinning when the call returns (onnxruntime's session.force_spinning_stop), so they do not take
  // a core from the server's decoding and encoding, or from the narrow sessions that take over.
  const wideOptions = {
    ...quiet,
    sessionOptions: { ...rest.sessionOptions, intraOpNumThreads: wideThreads, extra: { session: { force_spinning_stop: '1' } } },
  };
  const settled = await Promise.allSettled([
    ...Array.from({ length: workers }, (_, index) => loadOnnxModelInWorker(path, index === 0 ? rest : quiet)),
    ...(wideThreads > 0 ? [loadOnnxModelInWorker(path, wideOptions)] : []),
  ]);
  const models = settled.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
  const failed = settled.find((result): result is PromiseRejectedResult => result.status === 'rejected');
  if (failed) {
    await Promise.all(models.map((model) => model.close()));
    throw failed.reason;
  }
  const narrow = models.slice(0, workers);
  const wide = models[workers];
  const scheduler = createSessionScheduler({
    narrow: narrow.map((model) => model.predictor),
    ...(wide ? { wide: wide.predictor } : {}),
  });
  const first = models[0]!;
  return {
    workers,
    wideThreads: wide ? wideThreads : 0,
    provider: first.provider,
    failures: first.failures,
    card: first.card,
    predictor: scheduler.predictor,
    setDemand: scheduler.setDemand,
    get runs() {
      return scheduler.runs;
    },
    close: async () => {
      await Promise.all(models.map((model) => model.close()));
    },
  };
}
