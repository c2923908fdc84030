// train/engine.ts learns: on a tiny U-Net (depth 2, 4 filters, 32x32 crops) and a target it can
// learn (cell interior = input above zero), the loss falls over a few Adam steps, and the
// predictions get closer to the target.
import { describe, expect, it } from 'vitest';
import { createTrainingEngine } from '../train/engine.ts';
import type { TrainBatch } from '../train/batch.ts';

function batchFor(step: number, n = 4, size = 32): TrainBatch {
  let a = 1000 + step * 31;
  const random = () => {
    a = (Math.imul(a, 1664525) + 1013904223) >>> 0;
    return a / 2 ** 32;
  };
  const images = Float32Array.from({ length: n * size * size }, () => random() * 2 - 1);
  return { images, labels: images.map((v) => (v > 0 ? 1 : 0)), n, height: size, width: size };
}

function meanAbsoluteError(p: Float32Array, t: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < p.length; i++) sum += Math.abs(p[i]! - t[i]!);
  return sum / p.length;
}

describe('training engine learning', () => {
  it('lowers the loss and the prediction error over 15 steps', async () => {
    const engine = await createTrainingEngine({ backend: 'wasm', workers: 1, model: { depth: 2, baseFilters: 4 }, seed: 3 });
    try {
      const probe = batchFor(999, 2);
      const before = meanAbsoluteError(await engine.predict(probe.images, 2, 32, 32), probe.labels);
      const losses: number[] = [];
      for (let s = 0; s < 15; s++) losses.push((await engine.step(batchFor(s), 1e-2)).loss);
      const after = meanAbsoluteError(await engine.predict(probe.images, 2, 32, 32), probe.labels);
      const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
      expect(mean(losses.slice(-3))).toBeLessThan(0.8 * mean(losses.slice(0, 3)));
      expect(after).toBeLessThan(before);
      expect(engine.stepCount).toBe(15);
    } finally {
      await engine.dispose();
    }
  });
});
