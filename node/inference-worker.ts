/**
 * Worker-thread side of node/worker-model.ts: loads the model with node/load-onnx-model.ts and runs the
 * tile predictor for the main thread. onnxruntime-node's `session.run` blocks the thread that calls
 * it for the whole inference, so the server keeps it off the event loop: here.
 *
 * Messages in:  { type: 'run', id, tiles, n, height, width } | { type: 'close' }
 * Messages out: { type: 'log', message } | { type: 'loaded', provider, card, failures }
 *             | { type: 'result', id, output } | { type: 'failed', id, error } | { type: 'error', error }
 *             | { type: 'released' } (the idle session was released and made again)
 */
import { parentPort, workerData } from 'node:worker_threads';
import { isEmsegError } from '../core/errors.ts';
import { loadOnnxModel, type LoadModelOptions, type LoadedModel } from './load-onnx-model.ts';

export interface WorkerInput {
  path: string;
  providers?: LoadModelOptions['providers'];
  sessionOptions?: LoadModelOptions['sessionOptions'];
  /** On the CPU provider, release the session and make it again after this many ms without a call; 0 or absent: never. */
  idleReleaseMs?: number;
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
  const load = (providers: LoadModelOptions['providers'] | undefined, log: (message: string) => void) =>
    loadOnnxModel(input.path, {
      ...(providers !== undefined ? { providers } : {}),
      ...(input.sessionOptions !== undefined ? { sessionOptions: input.sessionOptions } : {}),
      log,
    });
  try {
    const first = await load(input.providers, (message) => port.postMessage({ type: 'log', message }));
    // The session runs one call at a time; `current` is the session of the next call. On the CPU
    // provider, after idleReleaseMs without a call, the session is released and made again: what
    // its memory arena kept for the largest call goes back to the system. GPU sessions are kept
    // (their memory is the device's, and making a CUDA session again takes seconds).
    const idleReleaseMs = first.provider === 'cpu' ? (input.idleReleaseMs ?? 0) : 0;
    let current: Promise<LoadedModel> = Promise.resolve(first);
    let running = 0;
    let idleTimer: NodeJS.Timeout | undefined;
    const releaseWhenIdle = () => {
      if (!idleReleaseMs || running > 0) return;
      clearTimeout(idleTimer);
      idleTimer = setTimeout(() => {
        if (running > 0) return;
        // The new session first: if it cannot be made (the file is gone), the old one stays.
        current = current.then(async (old) => {
          const fresh = await load(['cpu'], () => {}).catch((error: unknown) => {
            port.postMessage({ type: 'log', message: `the idle session was kept: making a new one failed: ${serialize(error).message}` });
            return undefined;
          });
          if (!fresh) return old;
          await old.close();
          port.postMessage({ type: 'released' });
          return fresh;
        });
      }, idleReleaseMs);
      idleTimer.unref();
    };
    port.on('message', async (message: { type: 'run'; id: number; tiles: Float32Array; n: number; height: number; width: number } | { type: 'close' }) => {
      if (message.type === 'close') {
        clearTimeout(idleTimer);
        await (await current).close();
        port.close();
        return;
      }
      running++;
      clearTimeout(idleTimer);
      try {
        const model = await current;
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
      } finally {
        running--;
        releaseWhenIdle();
      }
    });
    port.postMessage({ type: 'loaded', provider: first.provider, card: first.card, failures: first.failures });
  } catch (error) {
    port.postMessage({ type: 'error', error: serialize(error) });
  }
}
