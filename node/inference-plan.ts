/**
 * How many sessions of the model (each in its own worker thread, node/worker-model.ts) and how
 * many onnxruntime intra-op threads each gets: the server's plan (serve/server.ts, from its
 * settings) and the large-image path's (node/batch-model.ts, on auto). Node-only (counts cores).
 */
import { inferenceCores } from './inference-cores.ts';

export interface InferencePlan {
  workers: number;
  /** 0 = onnxruntime's default. */
  intraOpThreads: number;
  /** Intra-op threads of the extra session for a request alone in the server; 0 = no such session. */
  wideThreads: number;
}

/** The settings a plan is made from; 0 = auto (the server's EMSEG_INFERENCE_WORKERS, EMSEG_INTRA_OP_THREADS, EMSEG_LONE_REQUEST_THREADS). */
export interface InferenceSettings {
  inferenceWorkers: number;
  intraOpThreads: number;
  loneRequestThreads: number;
}

/** Every setting on auto, but no wide session: for jobs that always have more than one call to run (the large-image path). */
export const BATCH_INFERENCE: Readonly<InferenceSettings> = Object.freeze({ inferenceWorkers: 0, intraOpThreads: 0, loneRequestThreads: 1 });

/**
 * The plan for a provider: the configured values, or on auto (0) two single-model workers sharing
 * the cores on the CPU provider (several single-threaded sessions keep the cores busy without the
 * lock-step stalls a multi-threaded session suffers when the process's own work takes a core), and
 * one worker with onnxruntime's default threads on GPU providers. On auto, the CPU provider also
 * gets a wide session with the threads of all workers together, which serves a request alone in
 * the server (node/session-scheduler.ts); a wide session no wider than one worker's is left out.
 */
export function inferencePlan(provider: string, config: InferenceSettings, cores = inferenceCores()): InferencePlan {
  const cpu = provider === 'cpu';
  const workers = config.inferenceWorkers > 0 ? config.inferenceWorkers : cpu ? Math.min(2, cores) : 1;
  const intraOpThreads = config.intraOpThreads > 0 ? config.intraOpThreads : cpu ? Math.max(1, Math.floor(cores / workers)) : 0;
  const wide = config.loneRequestThreads > 0 ? config.loneRequestThreads : cpu ? workers * intraOpThreads : 0;
  return { workers, intraOpThreads, wideThreads: wide > intraOpThreads && intraOpThreads > 0 ? wide : 0 };
}
