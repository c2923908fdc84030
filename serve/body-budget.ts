/**
 * Admission before buffering: a cap on the bytes of request bodies the server holds at once. A
 * segmentation request reserves its Content-Length (or the largest body allowed, when it is sent
 * chunked) before a byte of its body is read, and keeps the reservation until its answer is ready,
 * since the bytes stay in memory that long. A request that would go over the cap is answered at once
 * with 503 and Retry-After (and `Connection: close`, serve/keep-alive.ts), so 20 stalled 95 MiB
 * uploads cannot hold 2 GB. A reservation ends with its request, whatever ends it: the answer, a
 * 408/413, the client hanging up or an error (the request's abort signal, which @hono/node-server
 * fires when the connection closes before the answer is sent).
 */
import type { MiddlewareHandler } from 'hono';
import { ProblemError } from './problem.ts';

export interface BodyBudget {
  /** Bytes reserved by requests in flight. */
  readonly reserved: number;
  readonly maxBytes: number;
  middleware(): MiddlewareHandler;
}

export function createBodyBudget(options: { maxBytes: number; maxBodyBytes: number; retryAfterSeconds: () => number }): BodyBudget {
  let reserved = 0;
  return {
    get reserved() {
      return reserved;
    },
    maxBytes: options.maxBytes,
    middleware: () => async (c, next) => {
      const length = c.req.header('content-length');
      const declared = length === undefined ? options.maxBodyBytes : Number(length);
      // Over the body limit (the next middleware answers 413) or not a number: nothing to reserve.
      const claim = Number.isSafeInteger(declared) && declared >= 0 ? Math.min(declared, options.maxBodyBytes) : 0;
      if (claim > 0 && reserved + claim > options.maxBytes) {
        throw new ProblemError(
          503,
          `the server holds ${reserved} bytes of request bodies; ${claim} more would go over its limit of ${options.maxBytes}; retry later`,
          { code: 'E_BODIES_FULL', headers: { 'Retry-After': String(options.retryAfterSeconds()) } },
        );
      }
      reserved += claim;
      let held = true;
      const release = () => {
        if (!held) return;
        held = false;
        reserved -= claim;
      };
      const signal = c.req.raw.signal as AbortSignal | undefined;
      signal?.addEventListener('abort', release, { once: true });
      try {
        await next();
      } finally {
        signal?.removeEventListener('abort', release);
        release();
      }
    },
  };
}
