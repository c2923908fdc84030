/**
 * Decoding of uploaded TIFF files off the event loop, in a small pool of worker threads of its own
 * (serve/decode-worker.ts; the inference workers are separate). core/tiff.ts is plain JavaScript:
 * run in the main thread, one slow file would stop every other request and `/healthz` with it.
 *
 * Every job has a work budget derived from the pixels its header declares (`budgetMs`): a worker
 * still busy when the budget is spent is terminated and replaced, and the request gets 413. A
 * cancelled request (client gone, request timeout) frees its worker the same way, or leaves the
 * queue if it had not started. PNG and JPEG are not sent here: sharp decodes them in libvips's own
 * threads, which do not block the event loop either.
 */
import { Worker } from 'node:worker_threads';
import { EmsegError, type EmsegErrorCode } from '../core/errors.ts';
import { makeImage, makeStack, type ImageStack, type PixelArray, type PixelSize } from '../core/image.ts';
import type { DecodeMessage } from './decode-worker.ts';
import { workerEntrySource } from '../node/worker-entry.ts';

/** Work budget of one decode: `baseMs + msPerMegapixel x declared megapixels` of worker time. */
export interface DecodeBudget {
  baseMs: number;
  msPerMegapixel: number;
}

/**
 * 2 s plus 250 ms per declared megapixel: 2.07 s for a 512x512 slice, 34 s for a 128 Mpx stack.
 * An honest TIFF decodes at 20-100 Mpx/s in this reader; the budget leaves room for a loaded machine.
 */
export const DEFAULT_DECODE_BUDGET: Readonly<DecodeBudget> = { baseMs: 2000, msPerMegapixel: 250 };

export function decodeBudgetMs(budget: DecodeBudget, declaredPixels: number): number {
  return Math.ceil(budget.baseMs + (budget.msPerMegapixel * declaredPixels) / 1e6);
}

export interface DecodeJob {
  bytes: Uint8Array;
  name: string;
  /** Pixels of all pages as the header declares them (core/image-probe.ts's totalPixels). */
  declaredPixels: number;
  maxPages: number;
  maxTotalSamples: number;
  signal?: AbortSignal;
}

export interface DecodePoolOptions {
  /** Worker threads. Default 2. */
  workers?: number;
  budget?: DecodeBudget;
}

interface Pending {
  job: DecodeJob;
  id: number;
  resolve: (stack: ImageStack) => void;
  reject: (error: unknown) => void;
}

interface Slot {
  worker: Worker | undefined;
  ready: Promise<void> | undefined;
  running: (Pending & { timer: ReturnType<typeof setTimeout> | undefined; onAbort: () => void }) | undefined;
}

type WorkerReply =
  | { type: 'ready' }
  | { type: 'done'; id: number; width: number; height: number; pages: PixelArray[]; pixelSize?: PixelSize }
  | { type: 'failed'; id: number; error: { code?: string; message: string } };

export class DecodePool {
  private readonly slots: Slot[];
  private readonly queue: Pending[] = [];
  private readonly budget: DecodeBudget;
  private nextId = 0;
  private closed = false;
  /** Workers terminated because a job ran over its budget or was cancelled (for tests and logs). */
  terminations = 0;

  constructor(options: DecodePoolOptions = {}) {
    const workers = options.workers ?? 2;
    if (!Number.isInteger(workers) || workers < 1) throw new RangeError(`workers: expected an integer >= 1, found ${workers}`);
    this.budget = options.budget ?? DEFAULT_DECODE_BUDGET;
    this.slots = Array.from({ length: workers }, () => ({ worker: undefined, ready: undefined, running: undefined }));
  }

  /** Jobs waiting for a worker. */
  get waiting(): number {
    return this.queue.length;
  }

  /** Decodes a TIFF upload in a worker; rejects with the decoder's EmsegError, a 413 over budget, or the signal's reason. */
  decode(job: DecodeJob): Promise<ImageStack> {
    if (this.closed) return Promise.reject(new EmsegError('E_INTERRUPTED', `${job.name}: the server is shutting down`));
    if (job.signal?.aborted) return Promise.reject(job.signal.reason);
    return new Promise<ImageStack>((resolve, reject) => {
      const pending: Pending = { job, id: this.nextId++, resolve, reject };
      const leaveQueue = () => {
        const index = this.queue.indexOf(pending);
        if (index >= 0) {
          this.queue.splice(index, 1);
          reject(job.signal!.reason);
        }
      };
      job.signal?.addEventListener('abort', leaveQueue, { once: true });
      const settle = <T>(fn: (value: T) => void) => (value: T) => {
        job.signal?.removeEventListener('abort', leaveQueue);
        fn(value);
      };
      pending.resolve = settle(resolve);
      pending.reject = settle(reject);
      this.queue.push(pending);
      this.pump();
    });
  }

  /** Terminates every worker; queued and running jobs are rejected. */
  async close(): Promise<void> {
    this.closed = true;
    const stopping = new EmsegError('E_INTERRUPTED', 'the server is shutting down');
    for (const pending of this.queue.splice(0)) pending.reject(stopping);
    await Promise.all(this.slots.map((slot) => this.discard(slot, stopping)));
  }

  private pump(): void {
    for (const slot of this.slots) {
      if (this.queue.length === 0) return;
      if (slot.running) continue;
      void this.start(slot, this.queue.shift()!);
    }
  }

  private spawn(slot: Slot): Promise<void> {
    const worker = new Worker(workerEntrySource(import.meta.url, './decode-worker'), { eval: true });
    worker.unref(); // an idle pool does not keep the process alive
    slot.worker = worker;
    slot.ready = new Promise<void>((resolve, reject) => {
      worker.on('message', (reply: WorkerReply) => {
        if (reply.type === 'ready') resolve();
        else this.finish(slot, reply);
      });
      const died = (error: Error) => {
        if (slot.worker !== worker) return;
        slot.worker = undefined;
        slot.ready = undefined;
        reject(error);
        const running = slot.running;
        if (running) {
          this.clear(slot);
          running.reject(new EmsegError('E_BACKEND', `${running.job.name}: the decode worker stopped (${error.message})`));
        }
        this.pump();
      };
      worker.on('error', died);
      worker.on('exit', (code) => died(new Error(`exit code ${code}`)));
    });
    slot.ready.catch(() => {});
    return slot.ready;
  }

  private async start(slot: Slot, pending: Pending): Promise<void> {
    const { job } = pending;
    const onAbort = () => {
      if (slot.running?.id !== pending.id) return;
      void this.discard(slot, job.signal!.reason);
      this.pump();
    };
    // Reserve the slot while the worker starts, so that a cancellation in between is seen.
    slot.running = { ...pending, timer: undefined, onAbort };
    job.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      await (slot.ready ?? this.spawn(slot));
    } catch (error) {
      if (slot.running?.id === pending.id) {
        this.clear(slot);
        pending.reject(new EmsegError('E_BACKEND', `${job.name}: the decode worker could not start (${(error as Error).message})`));
        this.pump();
      }
      return;
    }
    if (slot.running?.id !== pending.id) return; // cancelled while the worker started
    const budgetMs = decodeBudgetMs(this.budget, job.declaredPixels);
    slot.running.timer = setTimeout(() => {
      const error = new EmsegError(
        'E_TOO_LARGE',
        `${job.name}: decoding needed more than its work budget of ${budgetMs} ms for the ${job.declaredPixels} pixels it declares`,
      );
      void this.discard(slot, error);
      this.pump();
    }, budgetMs);
    const own = job.bytes.byteOffset === 0 && job.bytes.byteLength === job.bytes.buffer.byteLength;
    const bytes = own ? job.bytes : job.bytes.slice();
    const message: DecodeMessage = { id: pending.id, bytes, name: job.name, maxPages: job.maxPages, maxTotalSamples: job.maxTotalSamples };
    slot.worker!.postMessage(message, [bytes.buffer as ArrayBuffer]);
  }

  private finish(slot: Slot, reply: Exclude<WorkerReply, { type: 'ready' }>): void {
    const running = slot.running;
    if (!running || running.id !== reply.id) return;
    this.clear(slot);
    if (reply.type === 'done') {
      try {
        const stack = makeStack(reply.pages.map((data) => makeImage(reply.width, reply.height, data)), running.job.name);
        running.resolve(reply.pixelSize ? { ...stack, pixelSize: reply.pixelSize } : stack);
      } catch (error) {
        running.reject(error);
      }
    } else {
      const { code, message } = reply.error;
      running.reject(code ? new EmsegError(code as EmsegErrorCode, message) : new Error(message));
    }
    this.pump();
  }

  private clear(slot: Slot): void {
    const running = slot.running;
    if (!running) return;
    clearTimeout(running.timer);
    running.job.signal?.removeEventListener('abort', running.onAbort);
    slot.running = undefined;
  }

  /** Stops the slot's worker (a new one starts for the next job) and rejects its job with `reason`. */
  private async discard(slot: Slot, reason: unknown): Promise<void> {
    const running = slot.running;
    this.clear(slot);
    running?.reject(reason);
    const worker = slot.worker;
    slot.worker = undefined;
    slot.ready = undefined;
    if (worker) {
      if (running) this.terminations += 1;
      await worker.terminate();
    }
  }
}
