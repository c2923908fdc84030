// train/engine.ts: a run is a deterministic function of seed and batches, and saving the state
// mid-way then continuing in a fresh engine gives bit-identical losses and weights. Tiny model:
// depth 2, 4 filters, 32x32 crops. In this thread and with two worker threads.
import { describe, expect, it } from 'vitest';
import { createTrainingEngine, type EngineState, type TrainingEngine } from '../train/engine.ts';
import type { TrainBatch } from '../train/batch.ts';

function batchFor(step: number, n = 2, size = 32): TrainBatch {
  let a = (step + 1) * 7919;
  const random = () => {
    a = (Math.imul(a, 1664525) + 1013904223) >>> 0;
    return a / 2 ** 32;
  };
  const images = Float32Array.from({ length: n * size * size }, () => random() * 2 - 1);
  const labels = images.map((v) => (v > 0 ? 1 : 0));
  const weights = images.map((v) => 1 + Math.abs(v));
  return { images, labels, weights, n, height: size, width: size };
}

const model = { depth: 2, baseFilters: 4 };

async function run(engine: TrainingEngine, from: number, to: number): Promise<number[]> {
  const losses: number[] = [];
  for (let s = from; s < to; s++) losses.push((await engine.step(batchFor(s), 1e-2 / (1 + s))).loss);
  return losses;
}

function expectSameState(a: EngineState, b: EngineState): void {
  expect(b.meta).toEqual(a.meta);
  expect(b.buffers.length).toBe(a.buffers.length);
  a.buffers.forEach((buffer, i) => expect(Buffer.from(b.buffers[i]!.buffer).equals(Buffer.from(buffer.buffer))).toBe(true));
}

for (const workers of [1, 2]) {
  describe(`training engine, wasm, ${workers} worker(s)`, () => {
    it('repeats a run exactly and resumes from a saved state bit-identically', async () => {
      const create = () => createTrainingEngine({ backend: 'wasm', workers, model, seed: 5 });
      const straight = await create();
      const resumedFirst = await create();
      const resumedSecond = await create();
      try {
        expect(straight.workers).toBe(workers);
        const all = await run(straight, 0, 6);
        const firstHalf = await run(resumedFirst, 0, 3);
        expect(firstHalf).toEqual(all.slice(0, 3));
        const state = await resumedFirst.saveState();
        expect(state.meta.step).toBe(3);
        // A JSON round trip of the metadata, as a checkpoint file would do.
        await resumedSecond.loadState({ meta: JSON.parse(JSON.stringify(state.meta)), buffers: state.buffers.map((b) => new Float32Array(b)) });
        expect(resumedSecond.stepCount).toBe(3);
        const secondHalf = await run(resumedSecond, 3, 6);
        expect(secondHalf).toEqual(all.slice(3));
        expectSameState(await straight.saveState(), await resumedSecond.saveState());
      } finally {
        await Promise.all([straight.dispose(), resumedFirst.dispose(), resumedSecond.dispose()]);
      }
    });
  });
}

describe('training engine state', () => {
  it('refuses a state of another architecture, naming the difference', async () => {
    const small = await createTrainingEngine({ backend: 'wasm', workers: 1, model, seed: 1 });
    const wider = await createTrainingEngine({ backend: 'wasm', workers: 1, model: { depth: 2, baseFilters: 8 }, seed: 1 });
    try {
      await expect(wider.loadState(await small.saveState())).rejects.toThrow(/baseFilters is 4/);
    } finally {
      await Promise.all([small.dispose(), wider.dispose()]);
    }
  });
});
