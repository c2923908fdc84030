/**
 * Worker-thread side of node/worker-model.ts: loads the model with node/load-onnx-model.ts and runs the
 * tile predictor for the main thread. onnxruntime-node's `session.run` blocks the thread that calls
 * it for the whole inference, so the server keeps it off the event loop: here.
 *
 * Messages in:  { type: 'run', id, tiles, n, height, width } | { type: 'close' }
 * Messages out: { type: 'log', message } | { type: 'loaded', provider, card, failures }
 *             | { type: 'result', id, output } | { type: 'failed', id, error } | { type: 'error', error }
 */
import { parentPort, workerData } from 'node:worker_threads';
import { isEmsegError } from '../core/errors.ts';
import { loadOnnxModel, type LoadModelOptions } from './load-onnx-model.ts';

export interface WorkerInput {
  path: string;
  providers?: LoadModelOptions['providers'];
  sessionOptions?: LoadModelOptions['sessionOptions'];
}

export interface SerializedError {
  code?: string;
  message: string;
}

function serialize(error: unknown): SerializedError {
  if (isEmsegError(error)) return { code: error.code, message: error.message };
  return { message: error instanceof Error ? error.message : String(error) };
}

const port = parentPort;
if (port) {
  const input = workerData as WorkerInput;
  try {
    const model = await loadOnnxModel(input.path, {
      ...(input.providers !== undefined ? { providers: input.providers } : {}),
      ...(input.sessionOptions !== undefined ? { sessionOptions: input.sessionOptions } : {}),
      log: (message) => port.postMessage({ type: 'log', message }),
    });
    port.on('message', async (message: { type: 'run'; id: number; tiles: Float32Array; n: number; height: number; width: number } | { type: 'close' }) => {
      if (message.type === 'close') {
        await model.close();
        port.close();
        return;
      }
      try {
        const output = await model.predictor(message.tiles, message.n, message.height, message.width);
        // Hand the buffer over without a copy when it is ours alone, else copy it.
        const own = output.byteOffset === 0 && output.byteLength === output.buffer.byteLength ? output : output.slice();
        try {
          port.postMessage({ type: 'result', id: message.id, output: own }, [own.buffer as ArrayBuffer]);
        } catch {
          port.postMessage({ type: 'result', id: message.id, output: own });
        }
      } catch (error) {
        port.postMessage({ type: 'failed', id: message.id, error: serialize(error) });
      }
    });
    port.postMessage({ type: 'loaded', provider: model.provider, card: model.card, failures: model.failures });
  } catch (error) {
    port.postMessage({ type: 'error', error: serialize(error) });
  }
}
