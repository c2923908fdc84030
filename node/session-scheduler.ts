/**
 * Chooses the session for each call so that a lone request gets every core and concurrent
 * requests keep the side-by-side single-threaded sessions, without ever running more threads than
 * the sessions' core budget.
 *
 * - `narrow` sessions each use one share of the cores (on the CPU provider, cores / workers
 *   intra-op threads) and run side by side: the throughput path.
 * - The optional `wide` session uses all the cores (intra-op threads = the narrow sessions' threads
 *   together): the latency path. It runs a call only when no other session is running, no other
 *   call waits, and `demand()` (requests in the server now) is at most 1; while it runs nothing else
 *   starts, so the cores are never oversubscribed.
 * - Calls start in arrival order.
 */
import type { TilePredictor } from '../core/tiling.ts';

export interface SessionSchedulerOptions {
  /** Sessions run side by side, one call each at a time. At least one. */
  narrow: readonly TilePredictor[];
  /** A session using all the cores of the narrow sessions together, for a lone request. */
  wide?: TilePredictor;
  /**
   * Requests in the server now (the caller's count); the wide session is chosen only when it is at
   * most 1. Default: the calls waiting or running here.
   */
  demand?: () => number;
}

export type SessionKind = 'wide' | 'narrow';

export interface SessionScheduler {
  predictor: TilePredictor;
  /** Replaces the demand count (the server sets it once its request counter exists). */
  setDemand: (demand: () => number) => void;
  /** Session calls made so far, by kind. */
  readonly runs: Readonly<Record<SessionKind, number>>;
}

interface Waiting {
  /** Starts the call on `session`; `done` frees that session. */
  run: (session: TilePredictor, done: () => void) => void;
}

export function createSessionScheduler(options: SessionSchedulerOptions): SessionScheduler {
  const { narrow, wide } = options;
  if (narrow.length < 1) throw new RangeError('narrow: expected at least one session, found none');
  const narrowBusy = narrow.map(() => false);
  let wideBusy = false;
  const queue: Waiting[] = [];
  const runs: Record<SessionKind, number> = { wide: 0, narrow: 0 };
  let demand = options.demand ?? (() => queue.length + runningCount());

  function runningCount(): number {
    return narrowBusy.filter(Boolean).length + (wideBusy ? 1 : 0);
  }

  function dispatch(): void {
    while (queue.length > 0 && !wideBusy) {
      const idle = narrowBusy.every((busy) => !busy);
      if (wide && idle && queue.length === 1 && demand() <= 1) {
        wideBusy = true;
        runs.wide += 1;
        queue.shift()!.run(wide, () => {
          wideBusy = false;
          dispatch();
        });
        continue;
      }
      const free = narrowBusy.indexOf(false);
      if (free < 0) return;
      narrowBusy[free] = true;
      runs.narrow += 1;
      queue.shift()!.run(narrow[free]!, () => {
        narrowBusy[free] = false;
        dispatch();
      });
    }
  }

  const predictor: TilePredictor = (tiles, n, height, width) =>
    new Promise<Float32Array>((resolve, reject) => {
      queue.push({
        run: (session, done) => {
          let result: Promise<Float32Array>;
          try {
            result = session(tiles, n, height, width);
          } catch (error) {
            result = Promise.reject(error);
          }
          result.then(
            (output) => {
              done();
              resolve(output);
            },
            (error: unknown) => {
              done();
              reject(error);
            },
          );
        },
      });
      dispatch();
    });

  return {
    predictor,
    setDemand: (next) => {
      demand = next;
    },
    get runs() {
      return { ...runs };
    },
  };
}
