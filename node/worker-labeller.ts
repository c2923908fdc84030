/**
 * A ChunkLabeller (core/cells/volume-labels.ts) that labels in a worker thread
 * (node/labelling-worker.ts): the large-image path's labelling then leaves the main thread free to
 * read tiles, blend them and feed the model while a label chunk is labelled, instead of stopping
 * it for the whole chunk (a second or more at the default 2048-pixel chunks). A probability array
 * that spans its whole buffer goes over to the worker (transferred: the caller's array is empty
 * afterwards), any other is copied; the labels come back transferred. Each worker labels its
 * requests one at a time, in order; with several workers (startWorkerLabeller(2)), as many chunks
 * are labelled at once.
 *
 *   const labeller = startWorkerLabeller();
 *   try { ...LabellingSink.open(store, chunks, plan, refs, params, labeller.label)... } finally { await labeller.close(); }
 */
import { Worker } from 'node:worker_threads';
import type { ChunkLabeller } from '../core/cells/volume-labels.ts';
import type { LabelledChunk } from '../core/cells/label-chunk.ts';
import { EmsegError, type EmsegErrorCode } from '../core/errors.ts';
import type { LabelReply, LabelRequest } from './labelling-worker.ts';
import { workerEntrySource } from './worker-entry.ts';

export interface WorkerLabeller {
  label: ChunkLabeller;
  /** How many worker threads label: requests beyond that many at once wait for one. */
  workers: number;
  /** Stops the workers; labelling still asked for is refused. */
  close: () => Promise<void>;
}

/** A labelling worker thread and the requests it has not answered yet. */
interface LabellingThread {
  worker: Worker;
  pending: Map<number, { resolve: (chunk: LabelledChunk) => void; reject: (error: Error) => void }>;
}

/** Starts `workers` labelling threads (default 1); each request goes to the one with the fewest requests unanswered. */
export function startWorkerLabeller(workers = 1): WorkerLabeller {
  if (!Number.isInteger(workers) || workers < 1) throw new RangeError(`workers: expected an integer >= 1, found ${workers}`);
  let nextId = 0;
  let stopped: Error | undefined;
  const threads: LabellingThread[] = [];
  const failAll = (error: Error) => {
    stopped ??= error;
    for (const thread of threads) {
      for (const { reject } of thread.pending.values()) reject(error);
      thread.pending.clear();
    }
  };
  for (let k = 0; k < workers; k++) {
    const thread: LabellingThread = { worker: new Worker(workerEntrySource(import.meta.url, './labelling-worker'), { eval: true }), pending: new Map() };
    const { worker, pending } = thread;
    worker.on('error', (error) => failAll(new EmsegError('E_BACKEND', `the labelling worker failed: ${error.message}`, { cause: error })));
    worker.on('exit', (code) => failAll(new EmsegError('E_BACKEND', `the labelling worker stopped (exit code ${code})`)));
    worker.on('message', (reply: LabelReply) => {
      const call = pending.get(reply.id);
      pending.delete(reply.id);
      if (pending.size === 0) worker.unref();
      if (!call) return;
      if ('chunk' in reply) call.resolve(reply.chunk);
      else call.reject(reply.error.code ? new EmsegError(reply.error.code as EmsegErrorCode, reply.error.message) : new Error(reply.error.message));
    });
    // An idle worker does not keep the process alive; one with work does.
    worker.unref();
    threads.push(thread);
  }

  const label: ChunkLabeller = (probability, grid, lx, ly, params) => {
    if (stopped) return Promise.reject(stopped);
    const id = nextId++;
    const { worker, pending } = threads.reduce((least, thread) => (thread.pending.size < least.pending.size ? thread : least));
    return new Promise<LabelledChunk>((resolve, reject) => {
      if (pending.size === 0) worker.ref();
      pending.set(id, { resolve, reject });
      const request: LabelRequest = { id, probability, grid, lx, ly, params };
      const whole = probability.byteOffset === 0 && probability.byteLength === probability.buffer.byteLength;
      worker.postMessage(request, whole ? [probability.buffer as ArrayBuffer] : []);
    });
  };
  return {
    label,
    workers,
    close: async () => {
      if (stopped) return;
      failAll(new EmsegError('E_BACKEND', 'the labelling worker was closed'));
      await Promise.all(threads.map(({ worker }) => worker.terminate()));
    },
  };
}
