/**
 * Worker-thread side of node/worker-labeller.ts: labels label chunks (core/cells/label-chunk.ts
 * labelChunk) for the main thread, one message at a time, in the order they came.
 *
 * Messages in:  { id, probability, grid, lx, ly, params } (the probability transferred)
 * Messages out: { id, chunk } (the chunk's labels transferred) | { id, error }
 */
import { parentPort } from 'node:worker_threads';
import type { CellParams } from '../core/cells/cell-params.ts';
import { labelChunk, type LabelChunkGrid, type LabelledChunk } from '../core/cells/label-chunk.ts';
import { isEmsegError } from '../core/errors.ts';

export interface LabelRequest {
  id: number;
  probability: Float32Array;
  grid: LabelChunkGrid;
  lx: number;
  ly: number;
  params: CellParams;
}

export type LabelReply = { id: number; chunk: LabelledChunk } | { id: number; error: { code?: string; message: string } };

const port = parentPort;
if (port) {
  port.on('message', (request: LabelRequest) => {
    let reply: LabelReply;
    try {
      const chunk = labelChunk(request.probability, request.grid, request.lx, request.ly, request.params);
      reply = { id: request.id, chunk };
    } catch (error) {
      reply = { id: request.id, error: isEmsegError(error) ? { code: error.code, message: error.message } : { message: error instanceof Error ? error.message : String(error) } };
    }
    port.postMessage(reply, 'chunk' in reply ? [reply.chunk.labels.buffer as ArrayBuffer] : []);
  });
}
