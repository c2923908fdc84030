/**
 * Counts the requests inside a middleware, from their first byte to their answer. The server counts
 * its segmentation requests this way: the batcher skips its wait for a lone request and a pool's
 * session scheduler gives a lone request all the cores (serve/model-state.ts).
 */
import type { MiddlewareHandler } from 'hono';

export interface RequestCounter {
  /** Requests inside the middleware now. */
  readonly count: number;
  middleware(): MiddlewareHandler;
}

export function createRequestCounter(): RequestCounter {
  let count = 0;
  return {
    get count() {
      return count;
    },
    middleware: () => async (_c, next) => {
      count += 1;
      try {
        await next();
      } finally {
        count -= 1;
      }
    },
  };
}
