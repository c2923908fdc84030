/**
 * A ChunkLabeller (core/cells/volume-labels.ts) that labels in a worker thread
 * (node/labelling-worker.ts): the large-image path's labelling then leaves the main thread free to
 * read tiles, blend them and feed the model while a label chunk is labelled, instead of stopping
 * it for the whole chunk (a second or more at the default 2048-pixel chunks). A probability array
 * that spans its whole buffer goes over to the worker (transferred: the caller's array is empty
 * afterwards), any other is copied; the labels come back transferred. Requests are labelled one at
 * a time, in order.
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
  /** Stops the worker; labelling still asked for is refused. */
  close: () => Promise<void>;
}

export function startWorkerLabeller(): WorkerLabeller {
  const worker = new Worker(workerEntrySource(import.meta.url, './labelling-worker'), { eval: true });
  const pending = new Map<number, { resolve: (chunk: LabelledChunk) => void; reject: (error: Error) => void }>();
  let nextId = 0;
  let stopped: Error | undefined;
  const failAll = (error: Error) => {
    stopped ??= error;
    for (const { reject } of pending.values()) reject(error);
    pending.clear();
  };
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

  const label: ChunkLabeller = (probability, grid, lx, ly, params) => {
    if (stopped) return Promise.reject(stopped);
    const id = nextId++;
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
    close: async () => {
      if (stopped) return;
      failAll(new EmsegError('E_BACKEND', 'the labelling worker was closed'));
      await worker.terminate();
    },
  };
}
