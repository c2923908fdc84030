/**
 * The bounded request queue: at most `concurrency` segmentation requests run at once, at most
 * `queueSize` more wait for a slot (first come, first served), and any further request is refused
 * at once with a 503 problem carrying Retry-After, estimated from how long recent requests held
 * their slot. A waiting request whose signal aborts (its timeout) leaves the queue.
 */
import { ProblemError } from './problem.ts';

export interface AdmissionOptions {
  /** Requests running at the same time. Default 4. */
  concurrency?: number;
  /** Requests waiting for a slot; 0 refuses whenever all slots are taken. Default 32. */
  queueSize?: number;
}

interface Waiter {
  resolve: (release: () => void) => void;
  reject: (reason: unknown) => void;
  detach: () => void;
}

/** Releases a slot; calling it more than once has no further effect. */
export type Release = () => void;

export class AdmissionQueue {
  readonly concurrency: number;
  readonly queueSize: number;
  #running = 0;
  readonly #waiting: Waiter[] = [];
  /** Exponentially weighted mean of how long a slot was held, in seconds (starts at 1 s). */
  #meanHoldSeconds = 1;

  constructor(options: AdmissionOptions = {}) {
    this.concurrency = options.concurrency ?? 4;
    this.queueSize = options.queueSize ?? 32;
    if (!Number.isInteger(this.concurrency) || this.concurrency < 1) {
      throw new RangeError(`concurrency: expected an integer >= 1, found ${this.concurrency}`);
    }
    if (!Number.isInteger(this.queueSize) || this.queueSize < 0) {
      throw new RangeError(`queueSize: expected an integer >= 0, found ${this.queueSize}`);
    }
  }

  get running(): number {
    return this.#running;
  }

  get waiting(): number {
    return this.#waiting.length;
  }

  /** Seconds a refused client should wait: the queue ahead of it divided among the slots, 1..120. */
  retryAfterSeconds(): number {
    const ahead = this.#waiting.length + this.#running;
    const estimate = Math.ceil((this.#meanHoldSeconds * ahead) / this.concurrency);
    return Math.min(120, Math.max(1, estimate));
  }

  /**
   * Waits for a slot and returns its release function. Throws a 503 ProblemError (E_QUEUE_FULL,
   * Retry-After) when the queue is full, and the signal's reason when it aborts while waiting.
   */
  acquire(signal?: AbortSignal): Promise<Release> {
    signal?.throwIfAborted();
    if (this.#running < this.concurrency) return Promise.resolve(this.#grant());
    if (this.#waiting.length >= this.queueSize) {
      const seconds = this.retryAfterSeconds();
      return Promise.reject(
        new ProblemError(503, `the server is busy: ${this.#running} requests running and ${this.#waiting.length} waiting; retry in ${seconds} s`, {
          code: 'E_QUEUE_FULL',
          headers: { 'Retry-After': String(seconds) },
        }),
      );
    }
    return new Promise<Release>((resolve, reject) => {
      const onAbort = () => {
        const index = this.#waiting.indexOf(waiter);
        if (index >= 0) this.#waiting.splice(index, 1);
        reject(signal?.reason);
      };
      const waiter: Waiter = { resolve, reject, detach: () => signal?.removeEventListener('abort', onAbort) };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#waiting.push(waiter);
    });
  }

  #grant(): Release {
    this.#running += 1;
    const started = performance.now();
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const held = (performance.now() - started) / 1000;
      this.#meanHoldSeconds = 0.8 * this.#meanHoldSeconds + 0.2 * held;
      this.#running -= 1;
      const next = this.#waiting.shift();
      if (next) {
        next.detach();
        next.resolve(this.#grant());
      }
    };
  }
}
