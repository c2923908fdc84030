/**
 * Worker-thread side of serve/decode-pool.ts: decodes one TIFF upload at a time with core/tiff.ts
 * and hands the pages back (their buffers transferred, not copied). Runs off the event loop so a
 * slow or hostile file cannot stall health checks or other requests; the pool terminates this
 * thread when a job runs over its work budget or its request is cancelled.
 *
 * Messages in:  { id, bytes, name, maxPages, maxTotalSamples }
 * Messages out: { type: 'ready' } | { type: 'done', id, width, height, pages, pixelSize? } | { type: 'failed', id, error }
 */
import { parentPort } from 'node:worker_threads';
import { isEmsegError } from '../core/errors.ts';
import { decodeTiff } from '../core/tiff.ts';

export interface DecodeMessage {
  id: number;
  bytes: Uint8Array;
  name: string;
  maxPages: number;
  maxTotalSamples: number;
}

const port = parentPort;
if (port) {
  port.on('message', (message: DecodeMessage) => {
    try {
      const stack = decodeTiff(message.bytes, message.name, { maxPages: message.maxPages, maxTotalSamples: message.maxTotalSamples });
      const pages = stack.pages.map((page) => page.data);
      const buffers = [...new Set(pages.map((data) => data.buffer as ArrayBuffer))];
      port.postMessage({ type: 'done', id: message.id, width: stack.width, height: stack.height, pages, ...(stack.pixelSize ? { pixelSize: stack.pixelSize } : {}) }, buffers);
    } catch (error) {
      const serialized = isEmsegError(error)
        ? { code: error.code, message: error.message }
        : { message: error instanceof Error ? error.message : String(error) };
      port.postMessage({ type: 'failed', id: message.id, error: serialized });
    }
  });
  port.postMessage({ type: 'ready' });
}
