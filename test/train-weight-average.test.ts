// train/weight-average.ts and its use by the engine: the average follows the formula, the engine
// predicts and saves with the averaged weights, and a state with an average resumes exactly.
import { describe, expect, it } from 'vitest';
import { WeightAverage } from '../train/weight-average.ts';
import { createTrainingEngine } from '../train/engine.ts';
import type { TrainBatch } from '../train/batch.ts';

describe('weight average', () => {
  it('folds weights in with decay min(d, (1 + t) / (10 + t))', () => {
    const average = new WeightAverage(0.9, [Float32Array.of(0, 10)]);
    expect(average.decayAt(1)).toBeCloseTo(2 / 11, 12);
    expect(average.decayAt(1000)).toBe(0.9);
    average.update([Float32Array.of(11, 0)], 1);
    const d = 2 / 11;
    expect(average.values[0]![0]).toBeCloseTo((1 - d) * 11, 5);
    expect(average.values[0]![1]).toBeCloseTo(d * 10, 5);
    // Constant weights are a fixed point.
    const constant = new WeightAverage(0.99, [Float32Array.of(3)]);
    for (let t = 1; t < 50; t++) constant.update([Float32Array.of(3)], t);
    expect(constant.values[0]![0]).toBeCloseTo(3, 5);
  });

  it('checks its arguments', () => {
    expect(() => new WeightAverage(1, [])).toThrow(/decay: expected a number in \(0, 1\), found 1/);
    const average = new WeightAverage(0.5, [new Float32Array(2)]);
    expect(() => average.update([new Float32Array(3)], 1)).toThrow(/weights\[0\]: expected 2 values, found 3/);
  });
});

function batch(step: number, size = 32): TrainBatch {
  let a = (step + 3) * 104729;
  const images = Float32Array.from({ length: 2 * size * size }, () => {
    a = (Math.imul(a, 1664525) + 1013904223) >>> 0;
    return (a / 2 ** 32) * 2 - 1;
  });
  return { images, labels: images.map((v) => (v > 0 ? 1 : 0)), n: 2, height: size, width: size };
}

describe('training engine with a weight average', () => {
  it('predicts with the averaged weights, saves them in its state, and resumes exactly', async () => {
    const model = { depth: 2, baseFilters: 4 };
    const averaged = await createTrainingEngine({ backend: 'wasm', workers: 1, model, seed: 3, emaDecay: 0.9 });
    const plain = await createTrainingEngine({ backend: 'wasm', workers: 1, model, seed: 3 });
    const resumed = await createTrainingEngine({ backend: 'wasm', workers: 1, model, seed: 3, emaDecay: 0.9 });
    try {
      for (let s = 0; s < 4; s++) {
        const [a, b] = [await averaged.step(batch(s), 1e-2), await plain.step(batch(s), 1e-2)];
        // The steps train the raw weights: the same losses with or without an average.
        expect(a.loss).toBe(b.loss);
      }
      const probe = batch(99);
      const withAverage = await averaged.predict(probe.images, 2, 32, 32);
      const raw = await plain.predict(probe.images, 2, 32, 32);
      expect(withAverage).not.toEqual(raw);
      const state = await averaged.saveState();
      expect(state.meta.ema).toEqual({ decay: 0.9 });
      const emaEntries = state.meta.buffers.filter((b) => b.name.startsWith('ema:'));
      expect(emaEntries.length).toBe(state.meta.buffers.filter((b) => b.name.startsWith('weight:')).length);
      await resumed.loadState({ meta: JSON.parse(JSON.stringify(state.meta)), buffers: state.buffers.map((b) => new Float32Array(b)) });
      expect(await resumed.predict(probe.images, 2, 32, 32)).toEqual(withAverage);
      await averaged.step(batch(4), 1e-2);
      await resumed.step(batch(4), 1e-2);
      expect(await resumed.predict(probe.images, 2, 32, 32)).toEqual(await averaged.predict(probe.images, 2, 32, 32));
      // A state saved without an average does not load into an engine that averages with another decay.
      const other = await createTrainingEngine({ backend: 'wasm', workers: 1, model, seed: 3, emaDecay: 0.5 });
      await expect(other.loadState(state)).rejects.toThrow(/weight average of decay 0.9, but this engine averages with decay 0.5/);
      await other.dispose();
    } finally {
      await Promise.all([averaged.dispose(), plain.dispose(), resumed.dispose()]);
    }
  });

  it('refuses a decay outside [0, 1)', async () => {
    await expect(createTrainingEngine({ backend: 'wasm', workers: 1, model: { depth: 2, baseFilters: 4 }, seed: 1, emaDecay: 1 })).rejects.toThrow(/emaDecay: expected a number in \[0, 1\), found 1/);
  });
});
