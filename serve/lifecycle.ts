/**
 * The server's lifecycle as seen by requests: counts requests in flight, refuses new ones once a
 * shutdown has begun (503 with Retry-After and `Connection: close`, except the probes and metrics an
 * orchestrator still reads), and tells when the last in-flight request has finished.
 */
import type { MiddlewareHandler } from 'hono';
import { ProblemError } from './problem.ts';

export interface Lifecycle {
  readonly shuttingDown: boolean;
  readonly inFlight: number;
  /** Starts refusing new requests. */
  beginShutdown(): void;
  /** Resolves once shutdown has begun and no request is in flight. */
  drained(): Promise<void>;
  /** Middleware counting requests and refusing them during shutdown. */
  gate(options?: { alwaysOpen?: readonly string[] }): MiddlewareHandler;
}

export function createLifecycle(): Lifecycle {
  let shuttingDown = false;
  let inFlight = 0;
  let waiters: Array<() => void> = [];

  const settle = () => {
    if (!shuttingDown || inFlight > 0) return;
    const done = waiters;
    waiters = [];
    for (const resolve of done) resolve();
  };

  return {
    get shuttingDown() {
      return shuttingDown;
    },
    get inFlight() {
      return inFlight;
    },
    beginShutdown() {
      shuttingDown = true;
      settle();
    },
    drained() {
      return new Promise<void>((resolve) => {
        waiters.push(resolve);
        settle();
      });
    },
    gate(options = {}) {
      const alwaysOpen = new Set(options.alwaysOpen ?? ['/healthz', '/readyz', '/metrics']);
      return async (c, next) => {
        if (shuttingDown && !alwaysOpen.has(c.req.path)) {
          throw new ProblemError(503, 'the server is shutting down; send the request to another instance', {
            code: 'E_SHUTTING_DOWN',
            headers: { 'Retry-After': '5', Connection: 'close' },
          });
        }
        inFlight += 1;
        try {
          await next();
        } finally {
          inFlight -= 1;
          settle();
        }
      };
    },
  };
}
