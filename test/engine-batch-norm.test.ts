// train/engine.ts with batch normalization and two data-parallel workers: the moving statistics
// (computed per worker part, averaged in worker order) are trained, saved in the state, and used
// by predict in inference mode; a batch not divisible by the worker count works.
import { describe, expect, it } from 'vitest';
import { createTrainingEngine } from '../train/engine.ts';

describe('training engine with batch norm, 2 workers', () => {
  it('updates and saves the moving statistics and predicts with them', async () => {
    const engine = await createTrainingEngine({ backend: 'wasm', workers: 2, model: { depth: 2, baseFilters: 4, batchNorm: true }, seed: 2 });
    try {
      const size = 32;
      const n = 3; // split 2 + 1
      const images = Float32Array.from({ length: n * size * size }, (_, i) => 3 + Math.cos(i / 5));
      const batch = { images, labels: images.map((v) => (v > 3 ? 1 : 0)), n, height: size, width: size };
      const movingMean = async () => {
        const state = await engine.saveState();
        const index = state.meta.buffers.findIndex((b) => b.name === 'weight:enc1_bn1/moving_mean');
        expect(index).toBeGreaterThanOrEqual(0);
        return [...state.buffers[index]!];
      };
      const before = await movingMean();
      expect(before.every((v) => v === 0)).toBe(true);
      const { loss } = await engine.step(batch, 1e-3);
      expect(Number.isFinite(loss)).toBe(true);
      const after = await movingMean();
      expect(after.some((v) => v !== 0)).toBe(true);
      const p = await engine.predict(images, n, size, size);
      expect(p.length).toBe(n * size * size);
      expect(p.every((v) => v >= 0 && v <= 1)).toBe(true);
      // Inference mode: an image's prediction does not depend on the other images of the call
      // (batch statistics would make it depend on them)...
      const alone = await engine.predict(images.slice(0, size * size), 1, size, size);
      const inBatch = p.slice(0, size * size);
      expect(Math.max(...alone.map((v, i) => Math.abs(v - inBatch[i]!)))).toBeLessThan(1e-5);
      // ...and it does depend on the moving statistics.
      const state = await engine.saveState();
      const index = state.meta.buffers.findIndex((b) => b.name === 'weight:enc1_bn1/moving_mean');
      const shifted = { ...state, buffers: state.buffers.map((b, i) => (i === index ? b.map((v) => v + 5) : b)) };
      await engine.loadState(shifted);
      const moved = await engine.predict(images.slice(0, size * size), 1, size, size);
      expect(Math.max(...moved.map((v, i) => Math.abs(v - alone[i]!)))).toBeGreaterThan(1e-3);
    } finally {
      await engine.dispose();
    }
  });
});
