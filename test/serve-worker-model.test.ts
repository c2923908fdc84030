/**
 * The model in worker threads (node/worker-model.ts): the same outputs as the in-process session,
 * the event loop free during inference, errors carried back with their code, a pool spreading
 * concurrent calls over its workers, and the plan of workers and threads per provider.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadOnnxModel } from '../node/load-onnx-model.ts';
import { inferencePlan } from '../node/inference-plan.ts';
import { loadOnnxModelInWorker, loadOnnxModelPool, type WorkerModel, type WorkerPool } from '../node/worker-model.ts';
import { tinyUNetOnnx } from './helpers/tiny-unet-onnx.ts';

let path: string;
let worker: WorkerModel;
let pool: WorkerPool;

beforeAll(async () => {
  path = (await tinyUNetOnnx({ depth: 2, baseFilters: 4 })).path;
  worker = await loadOnnxModelInWorker(path, { providers: 'cpu' });
  pool = await loadOnnxModelPool(path, { providers: 'cpu', workers: 2, sessionOptions: { intraOpNumThreads: 1 } });
});

afterAll(async () => {
  await worker?.close();
  await pool?.close();
});

function tiles(n: number, size: number): Float32Array {
  return Float32Array.from({ length: n * size * size }, (_, i) => Math.sin(i / 97) * 2);
}

describe('loadOnnxModelInWorker', () => {
  it('gives the outputs of the in-process session and the model card', async () => {
    const direct = await loadOnnxModel(path, { providers: 'cpu' });
    const input = tiles(2, 64);
    const expected = await direct.predictor(input, 2, 64, 64);
    const actual = await worker.predictor(input, 2, 64, 64);
    expect(Array.from(actual)).toEqual(Array.from(expected));
    expect(worker.card).toEqual(direct.card);
    expect(worker.provider).toBe('cpu');
    await direct.close();
  });

  it('leaves the event loop free while the session runs', async () => {
    const input = tiles(4, 256);
    let ticks = 0;
    const timer = setInterval(() => (ticks += 1), 1);
    const started = performance.now();
    await worker.predictor(input, 4, 256, 256);
    const elapsed = performance.now() - started;
    clearInterval(timer);
    expect(elapsed).toBeGreaterThan(20); // a call long enough to tell
    // A blocked loop gives ~0 ticks; a free one ~1 per ms idle, fewer when the machine is shared.
    expect(ticks).toBeGreaterThan(elapsed / 50);
  });

  it('carries errors back and keeps working', async () => {
    await expect(worker.predictor(tiles(1, 32), 1, 64, 64)).rejects.toThrow(/expected 1x1x64x64/);
    await expect(worker.predictor(tiles(1, 64), 1, 62, 62)).rejects.toMatchObject({ code: 'E_MODEL' });
    await expect(worker.predictor(tiles(1, 64), 1, 64, 64)).resolves.toHaveLength(64 * 64);
  });

  it('rejects a missing model with the loader error, as an EmsegError', async () => {
    await expect(loadOnnxModelInWorker('/nonexistent/model.onnx', { providers: 'cpu' })).rejects.toMatchObject({ code: 'E_NOT_FOUND' });
  });
});

describe('loadOnnxModelPool', () => {
  it('spreads concurrent calls over its workers with correct results', async () => {
    const inputs = [1, 2, 3, 4].map((k) => tiles(1, 64).map((v) => v * k));
    const direct = await loadOnnxModel(path, { providers: 'cpu' });
    const expected = await Promise.all(inputs.map((input) => direct.predictor(input, 1, 64, 64)));
    const actual = await Promise.all(inputs.map((input) => pool.predictor(input, 1, 64, 64)));
    actual.forEach((output, k) => {
      const reference = expected[k]!;
      let maxDiff = 0;
      for (let i = 0; i < output.length; i += 1) maxDiff = Math.max(maxDiff, Math.abs(output[i]! - reference[i]!));
      expect(maxDiff).toBeLessThan(1e-5); // one thread instead of several: same up to float rounding
    });
    expect(pool.workers).toBe(2);
    await direct.close();
  });

  it('runs a lone call on its wide session and concurrent calls on the narrow ones, same results', async () => {
    const wide = await loadOnnxModelPool(path, { providers: 'cpu', workers: 2, wideThreads: 2, sessionOptions: { intraOpNumThreads: 1 } });
    try {
      const input = tiles(1, 64);
      const alone = await wide.predictor(input, 1, 64, 64);
      expect(wide.runs).toEqual({ wide: 1, narrow: 0 });
      const together = await Promise.all([1, 2, 3].map(() => wide.predictor(input, 1, 64, 64)));
      expect(wide.runs.wide + wide.runs.narrow).toBe(4);
      expect(wide.runs.narrow).toBeGreaterThanOrEqual(2);
      for (const output of together) {
        let maxDiff = 0;
        for (let i = 0; i < output.length; i += 1) maxDiff = Math.max(maxDiff, Math.abs(output[i]! - alone[i]!));
        expect(maxDiff).toBeLessThan(1e-5); // two threads instead of one: same up to float rounding
      }
      expect(wide.wideThreads).toBe(2);
    } finally {
      await wide.close();
    }
  });
});

describe('inferencePlan', () => {
  it('uses two single-threaded sessions and a wide one on the CPU, one default session on a GPU, and obeys settings', () => {
    const auto = { inferenceWorkers: 0, intraOpThreads: 0, loneRequestThreads: 0 };
    expect(inferencePlan('cpu', auto, 2)).toEqual({ workers: 2, intraOpThreads: 1, wideThreads: 2 });
    expect(inferencePlan('cpu', auto, 16)).toEqual({ workers: 2, intraOpThreads: 8, wideThreads: 16 });
    expect(inferencePlan('cpu', auto, 1)).toEqual({ workers: 1, intraOpThreads: 1, wideThreads: 0 });
    expect(inferencePlan('cuda', auto, 16)).toEqual({ workers: 1, intraOpThreads: 0, wideThreads: 0 });
    expect(inferencePlan('cpu', { ...auto, inferenceWorkers: 4 }, 16)).toEqual({ workers: 4, intraOpThreads: 4, wideThreads: 16 });
    expect(inferencePlan('cuda', { ...auto, inferenceWorkers: 2, intraOpThreads: 3 }, 16)).toEqual({ workers: 2, intraOpThreads: 3, wideThreads: 0 });
    expect(inferencePlan('cpu', { ...auto, loneRequestThreads: 1 }, 2)).toEqual({ workers: 2, intraOpThreads: 1, wideThreads: 0 });
    expect(inferencePlan('cpu', { ...auto, loneRequestThreads: 3 }, 2)).toEqual({ workers: 2, intraOpThreads: 1, wideThreads: 3 });
  });
});
