/**
 * Dynamic batching, as Triton's dynamic batcher: wraps a TilePredictor as a TilePredictor, so that
 * tiles of the same shape sent by concurrent callers run through the session in one call (the
 * server's requests; the pages of a stack in `emseg predict`). Platform-neutral: timers and
 * AbortSignal only.
 *
 * - Calls queue in arrival order. A batch takes the oldest call and every later call of the same
 *   tile shape while the batch holds at most `maxBatch` tiles (a single call larger than
 *   `maxBatch` runs alone, unsplit).
 * - At most `maxConcurrentRuns` session calls run at once (default 1: on a CPU two runs would only
 *   fight over the same intra-op threads; on a GPU one stream is what the session has). While the
 *   session is busy, calls accumulate; when it frees, the next batch starts at once.
 * - A batch with fewer than `maxBatch` tiles starts once its oldest call has waited `maxWaitMs`
 *   (Triton's max queue delay), so calls that queued behind a running batch go at once. When
 *   `loneRequest()` says only one request is in the server, no other request's tiles can join: the
 *   batch starts after the calls made in the same turn of the event loop (the pages of one stack).
 * - Each caller gets its own slice of the output back. A call whose signal aborts before its
 *   batch starts leaves the queue and rejects with the signal's reason.
 */
import type { TilePredictor } from './tiling.ts';

export interface BatchingOptions {
  /** Most tiles in one session call. Default 4. */
  maxBatch?: number;
  /** How long an idle batcher waits for more tiles, in milliseconds. Default 2. */
  maxWaitMs?: number;
  /** Session calls running at the same time. Default 1. */
  maxConcurrentRuns?: number;
  /** True when only one request is in the server (the caller's count): an idle batch then skips maxWaitMs. Default: never. */
  loneRequest?: () => boolean;
  /** Told about every session call: tiles, calls merged, tile shape, and its duration in seconds. */
  onBatch?: (batch: BatchReport) => void;
}

export interface BatchReport {
  tiles: number;
  calls: number;
  height: number;
  width: number;
  seconds: number;
}

export interface BatchingPredictor {
  /** The batching predictor; `signal` is optional, plain TilePredictor callers leave it out. */
  predict: (tiles: Float32Array, n: number, height: number, width: number, signal?: AbortSignal) => Promise<Float32Array>;
  /** The same, bound to a request's signal, as a plain TilePredictor for segmentImage. */
  forSignal: (signal: AbortSignal | undefined) => TilePredictor;
  /** Tiles waiting for a session call. */
  readonly pendingTiles: number;
  /** Session calls running now. */
  readonly runningBatches: number;
}

interface PendingCall {
  tiles: Float32Array;
  n: number;
  height: number;
  width: number;
  arrived: number;
  resolve: (output: Float32Array) => void;
  reject: (reason: unknown) => void;
  detach: () => void;
}

function checkPositiveInteger(name: string, value: number, min: number): void {
  if (!Number.isInteger(value) || value < min) throw new RangeError(`${name}: expected an integer >= ${min}, found ${value}`);
}

export function createBatchingPredictor(predictor: TilePredictor, options: BatchingOptions = {}): BatchingPredictor {
  const maxBatch = options.maxBatch ?? 4;
  const maxWaitMs = options.maxWaitMs ?? 2;
  const maxConcurrentRuns = options.maxConcurrentRuns ?? 1;
  checkPositiveInteger('maxBatch', maxBatch, 1);
  checkPositiveInteger('maxConcurrentRuns', maxConcurrentRuns, 1);
  if (!(maxWaitMs >= 0)) throw new RangeError(`maxWaitMs: expected a number >= 0, found ${maxWaitMs}`);

  const queue: PendingCall[] = [];
  let running = 0;
  /** Cancels the pending start of a waiting batch, when there is one. */
  let timer: (() => void) | undefined;

  const sameShape = (a: PendingCall, b: PendingCall) => a.height === b.height && a.width === b.width;

  /** The calls of the next batch (removed from the queue). */
  function takeBatch(): PendingCall[] {
    const first = queue[0];
    if (!first) return [];
    const batch: PendingCall[] = [];
    let tiles = 0;
    for (let index = 0; index < queue.length; ) {
      const call = queue[index]!;
      if (sameShape(call, first) && (batch.length === 0 || tiles + call.n <= maxBatch)) {
        batch.push(call);
        tiles += call.n;
        queue.splice(index, 1);
        if (tiles >= maxBatch) break;
      } else {
        index += 1;
      }
    }
    return batch;
  }

  function tilesReadyFor(first: PendingCall): number {
    let tiles = 0;
    for (const call of queue) if (sameShape(call, first)) tiles += call.n;
    return tiles;
  }

  function schedule(): void {
    while (running < maxConcurrentRuns && queue.length > 0) {
      const first = queue[0]!;
      // A batch not yet full: give other calls until the oldest has waited maxWaitMs to join.
      const waitLeft = first.arrived + maxWaitMs - performance.now();
      if (waitLeft > 0 && tilesReadyFor(first) < maxBatch) {
        if (timer === undefined) {
          const go = () => {
            timer = undefined;
            flush();
            schedule();
          };
          // A lone request: only its own calls of this turn can join (setImmediate runs after them).
          if (options.loneRequest?.()) {
            const immediate = setImmediate(go);
            timer = () => clearImmediate(immediate);
          } else {
            const timeout = setTimeout(go, waitLeft);
            timer = () => clearTimeout(timeout);
          }
        }
        return;
      }
      flush();
    }
  }

  /** Starts the next batch now, whatever its size. */
  function flush(): void {
    if (running >= maxConcurrentRuns) return;
    if (timer !== undefined) {
      timer();
      timer = undefined;
    }
    const batch = takeBatch();
    if (batch.length === 0) return;
    running += 1;
    void runBatch(batch);
  }

  async function runBatch(batch: PendingCall[]): Promise<void> {
    for (const call of batch) call.detach();
    const { height, width } = batch[0]!;
    const plane = height * width;
    const total = batch.reduce((sum, call) => sum + call.n, 0);
    let input: Float32Array;
    if (batch.length === 1) {
      input = batch[0]!.tiles;
    } else {
      input = new Float32Array(total * plane);
      let offset = 0;
      for (const call of batch) {
        input.set(call.tiles.subarray(0, call.n * plane), offset);
        offset += call.n * plane;
      }
    }
    const started = performance.now();
    let output: Float32Array;
    try {
      output = await predictor(input, total, height, width);
      if (output.length !== total * plane) {
        throw new RangeError(`batched predictor output: expected ${total * plane} values for ${total} tiles of ${height}x${width}, found ${output.length}`);
      }
    } catch (error) {
      running -= 1;
      schedule();
      for (const call of batch) call.reject(error);
      return;
    }
    const seconds = (performance.now() - started) / 1000;
    // The next batch starts before the callers resume: their post-processing runs on this thread
    // while the session works on the next batch.
    running -= 1;
    schedule();
    options.onBatch?.({ tiles: total, calls: batch.length, height, width, seconds });
    let offset = 0;
    for (const call of batch) {
      call.resolve(batch.length === 1 ? output : output.subarray(offset, offset + call.n * plane));
      offset += call.n * plane;
    }
  }

  function predict(tiles: Float32Array, n: number, height: number, width: number, signal?: AbortSignal): Promise<Float32Array> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (tiles.length < n * height * width) {
      return Promise.reject(new RangeError(`tiles: expected ${n * height * width} values for ${n} tiles of ${height}x${width}, found ${tiles.length}`));
    }
    return new Promise<Float32Array>((resolve, reject) => {
      const onAbort = () => {
        const index = queue.indexOf(call);
        if (index >= 0) {
          queue.splice(index, 1);
          reject(signal?.reason);
        }
      };
      const call: PendingCall = {
        tiles,
        n,
        height,
        width,
        arrived: performance.now(),
        resolve,
        reject,
        detach: () => signal?.removeEventListener('abort', onAbort),
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      queue.push(call);
      schedule();
    });
  }

  return {
    predict,
    forSignal: (signal) => (tiles, n, height, width) => predict(tiles, n, height, width, signal),
    get pendingTiles() {
      return queue.reduce((sum, call) => sum + call.n, 0);
    },
    get runningBatches() {
      return running;
    },
  };
}
