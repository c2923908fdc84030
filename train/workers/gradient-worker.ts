/**
 * A training worker thread: one GradientCore on its own tfjs backend (its own wasm instance),
 * serving the requests of a WorkerRunner (train/engine-runner.ts): init, gradients, predict,
 * artifacts. Replies carry the request id; results are transferred, not copied.
 */
import { parentPort } from 'node:worker_threads';
import type { GradientCore } from '../engine-core.ts';
import type { WorkerReply, WorkerRequest } from '../engine-runner.ts';

if (parentPort === null) throw new Error('gradient-worker.ts must run in a worker thread');
const port = parentPort;
let core: GradientCore | undefined;

function ready(weights: Float32Array[] | undefined): GradientCore {
  if (core === undefined) throw new Error('worker used before init');
  if (weights !== undefined) core.setWeights(weights);
  return core;
}

async function handle(message: WorkerRequest): Promise<{ result: unknown; transfer: ArrayBuffer[] }> {
  switch (message.type) {
    case 'init': {
      const tf = await (await import('../../node/tfjs.ts')).importTfjs();
      const { selectBackend } = await import('../backend.ts');
      const { GradientCore } = await import('../engine-core.ts');
      // The engine logs the main thread's selection; a worker's own report is returned, not logged.
      const selected = await selectBackend(tf, message.options.backend);
      core = new GradientCore(tf, message.options.model, message.options.loss);
      const initialWeights = core.getWeights();
      return { result: { backend: selected.name, report: selected.report, specs: core.specs, initialWeights }, transfer: initialWeights.map((w) => w.buffer as ArrayBuffer) };
    }
    case 'gradients': {
      const result = ready(message.weights).computeGradients(message.batch);
      return { result, transfer: [...result.grads, ...result.nonTrainable].map((a) => a.buffer as ArrayBuffer) };
    }
    case 'predict': {
      const result = ready(message.weights).predict(message.images, message.n, message.height, message.width);
      return { result, transfer: [result.buffer as ArrayBuffer] };
    }
    case 'artifacts': {
      const result = await ready(message.weights).artifacts();
      return { result, transfer: [result.weightData] };
    }
  }
}

port.on('message', (message: WorkerRequest) => {
  handle(message).then(
    ({ result, transfer }) => port.postMessage({ id: message.id, ok: true, result } satisfies WorkerReply, transfer),
    (error: unknown) => {
      const e = error as { message?: string; code?: string };
      port.postMessage({ id: message.id, ok: false, error: { message: e.message ?? String(error), ...(e.code ? { code: e.code } : {}) } } satisfies WorkerReply);
    },
  );
});
