/**
 * The served model's state machine: loading -> ready (the model and its dynamic batcher) or
 * loading -> failed. The app may start before the model is loaded: routes that need it ask
 * `use()`, which answers 503 E_NOT_READY (Retry-After 5) while it loads and after a failure.
 *
 *   const model = loadServedModel(loadOnnxModel(path), { segmentRequests: () => requests.count });
 *   const { model: served, batcher } = model.use(); // in a route handler
 */
import type { ModelCard } from '../core/contract.ts';
import type { TilePredictor } from '../core/tiling.ts';
import { createBatchingPredictor, type BatchReport, type BatchingPredictor } from '../core/tile-batcher.ts';
import { DEFAULT_SERVE_CONFIG, autoBatchSize } from './config.ts';
import { ProblemError } from './problem.ts';
import { stderrLog, type ServerLog } from './server-log.ts';

/** What the app needs of a loaded model (node/load-onnx-model.ts's loadOnnxModel gives more). */
export interface ServedModel {
  predictor: TilePredictor;
  /** Execution provider in use, e.g. 'cuda' or 'cpu'. */
  provider: string;
  card: ModelCard;
  /** Session calls that may run at the same time (sessions in a worker pool). Default 1. */
  concurrentRuns?: number;
  /** Told how to count the segmentation requests in the server (a pool's session scheduler uses it). */
  setDemand?: (demand: () => number) => void;
  /** Session calls so far, on the wide session (lone requests) and on the narrow ones (a pool's). */
  readonly runs?: { wide: number; narrow: number };
}

/** The batcher's settings as GET /v1/model reports them; maxBatch and concurrentRuns are final once the model is ready. */
export interface Batching {
  maxBatch: number;
  maxWaitMs: number;
  concurrentRuns: number;
}

export interface ServedModelOptions {
  /** Most tiles per session call; 0 = auto by provider (autoBatchSize: 1 on CPU, 8 on GPU). Default 0. */
  batchSize?: number;
  /** How long an idle batcher waits for more tiles, in ms. Default 2. */
  batchWaitMs?: number;
  /** Segmentation requests in the server now (a lone one skips the batcher's wait). Default: always 0. */
  segmentRequests?: () => number;
  /** Told of every session call of the batcher. Default: nothing. */
  onBatch?: (batch: BatchReport) => void;
  /** Told once the model is ready, before `ready` resolves. Default: nothing. */
  onReady?: (model: ServedModel) => void;
  /** Where a loading failure is logged. Default stderrLog. */
  log?: ServerLog;
}

export interface ServedModelState {
  readonly status: 'loading' | 'ready' | 'failed';
  /** Reported by GET /v1/model. */
  readonly batching: Readonly<Batching>;
  /** Resolves when the model is loaded (rejects if loading failed). */
  readonly ready: Promise<ServedModel>;
  /** The batcher, once the model is ready. */
  readonly batcher: BatchingPredictor | undefined;
  /** Tiles waiting in the batcher (0 until ready). */
  readonly pendingTiles: number;
  /** Session calls so far by session kind, when the model counts them. */
  readonly sessionRuns: { wide: number; narrow: number } | undefined;
  /** The ready model and its batcher; a 503 problem while loading or after a failure. */
  use(): { model: ServedModel; batcher: BatchingPredictor };
}

type State = { status: 'loading' } | { status: 'ready'; model: ServedModel; batcher: BatchingPredictor } | { status: 'failed' };

export function loadServedModel(model: ServedModel | Promise<ServedModel>, options: ServedModelOptions = {}): ServedModelState {
  const requestedBatch = options.batchSize ?? DEFAULT_SERVE_CONFIG.batchSize;
  const batching: Batching = { maxBatch: requestedBatch, maxWaitMs: options.batchWaitMs ?? DEFAULT_SERVE_CONFIG.batchWaitMs, concurrentRuns: 1 };
  const segmentRequests = options.segmentRequests ?? (() => 0);
  let state: State = { status: 'loading' };

  const ready = Promise.resolve(model).then(
    (loaded) => {
      batching.maxBatch = requestedBatch > 0 ? requestedBatch : autoBatchSize(loaded.provider);
      batching.concurrentRuns = loaded.concurrentRuns ?? 1;
      loaded.setDemand?.(segmentRequests);
      const batcher = createBatchingPredictor(loaded.predictor, {
        maxBatch: batching.maxBatch,
        maxWaitMs: batching.maxWaitMs,
        maxConcurrentRuns: batching.concurrentRuns,
        loneRequest: () => segmentRequests() <= 1,
        ...(options.onBatch ? { onBatch: options.onBatch } : {}),
      });
      state = { status: 'ready', model: loaded, batcher };
      options.onReady?.(loaded);
      return loaded;
    },
    (error: unknown) => {
      state = { status: 'failed' };
      (options.log ?? stderrLog).error('model failed to load', error);
      throw error;
    },
  );
  ready.catch(() => {}); // reported through /readyz and the log; the caller may await it too

  return {
    get status() {
      return state.status;
    },
    batching,
    ready,
    get batcher() {
      return state.status === 'ready' ? state.batcher : undefined;
    },
    get pendingTiles() {
      return state.status === 'ready' ? state.batcher.pendingTiles : 0;
    },
    get sessionRuns() {
      return state.status === 'ready' ? state.model.runs : undefined;
    },
    use() {
      if (state.status === 'ready') return state;
      const detail = state.status === 'loading' ? 'the model is still loading' : 'the model failed to load; see the server log';
      throw new ProblemError(503, detail, { code: 'E_NOT_READY', headers: { 'Retry-After': '5' } });
    },
  };
}
