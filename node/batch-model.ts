/**
 * The model of the large-image path of `emseg predict` (and of bench:large, which measures that
 * path): node/worker-model.ts's sessions in worker threads, as many as node/inference-plan.ts's
 * plan on auto gives for the provider, without the server's wide session (a batch job always has
 * more than one call to run). On the CPU provider of a 2-core machine: two sessions of one thread
 * each, fed one tile per call (BATCH_TILES_PER_CALL). Measured against one two-thread session fed
 * four tiles per call, on an 8192² montage (predict/README.md): the labels ran faster (their
 * labelling takes a core now and then, which stalls a two-thread session in lock-step but only
 * slows one of two single-thread sessions), the masks no slower, and the peak RSS fell (two
 * one-tile calls need less of onnxruntime's memory arena than one four-tile call). GPU providers
 * get one session with onnxruntime's default threads and the tiler's default tiles per call (4).
 *
 *   const model = await loadBatchModel('models/isbi2012-unet.onnx', { providers: 'cpu' });
 *   predictLarge(input, out, model, { tileBatch: options.tileBatch ?? model.tileBatch });
 */
import { DEFAULT_TILING } from '../core/tiling.ts';
import { inferencePlan, BATCH_INFERENCE, type InferencePlan } from './inference-plan.ts';
import { parseProviders } from './onnx-providers.ts';
import { loadOnnxModelInWorker, loadOnnxModelPool, type WorkerModel, type WorkerModelOptions } from './worker-model.ts';

/** Tiles per model call when the plan runs several single-thread CPU sessions side by side. */
export const BATCH_TILES_PER_CALL = 1;

export interface BatchModel extends WorkerModel {
  /** Sessions that run calls at the same time. */
  sessions: number;
  /** Intra-op threads per session; 0 = onnxruntime's default. */
  intraOpThreads: number;
  /** Tiles per call the plan is meant for: BATCH_TILES_PER_CALL, else the tiler's default (core/tiling.ts). */
  tileBatch: number;
}

function batchTiles(plan: InferencePlan, provider: string): number {
  return provider === 'cpu' && plan.workers > 1 && plan.intraOpThreads === 1 ? BATCH_TILES_PER_CALL : DEFAULT_TILING.tileBatch;
}

/** Loads the model for a batch job (see the module comment); `providers` as loadOnnxModelInWorker's. */
export async function loadBatchModel(path: string, options: Pick<WorkerModelOptions, 'providers' | 'log'> = {}): Promise<BatchModel> {
  const startPool = async (provider: string, plan: InferencePlan): Promise<BatchModel> => {
    const pool = await loadOnnxModelPool(path, {
      ...options,
      workers: plan.workers,
      providers: provider,
      ...(plan.intraOpThreads > 0 ? { sessionOptions: { intraOpNumThreads: plan.intraOpThreads } } : {}),
    });
    return { predictor: pool.predictor, provider: pool.provider, failures: pool.failures, card: pool.card, close: pool.close, sessions: plan.workers, intraOpThreads: plan.intraOpThreads, tileBatch: batchTiles(plan, provider) };
  };
  const requested = parseProviders(options.providers ?? process.env.EMSEG_EP);
  if (requested.length === 1) return startPool(requested[0]!, inferencePlan(requested[0]!, BATCH_INFERENCE));
  // A list (or auto): the first session finds the provider, with the loader's fallback and log.
  const first = await loadOnnxModelInWorker(path, options);
  const plan = inferencePlan(first.provider, BATCH_INFERENCE);
  if (plan.workers === 1 && plan.intraOpThreads === 0) return { ...first, sessions: 1, intraOpThreads: 0, tileBatch: batchTiles(plan, first.provider) };
  await first.close();
  return startPool(first.provider, plan);
}
