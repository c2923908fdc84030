// train/engine.ts writes a tfjs Layers model (model.json + weights.bin) that tfjs loads back and
// that predicts what the engine predicts; the folder is replaced atomically.
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { createTrainingEngine } from '../train/engine.ts';

let dir: string | undefined;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('training engine saveLayersModel', () => {
  it('writes model.json and weights.bin that load back and predict the same', async () => {
    dir = await mkdtemp(join(tmpdir(), 'emseg-engine-'));
    const out = join(dir, 'model');
    const engine = await createTrainingEngine({ backend: 'wasm', workers: 1, model: { depth: 2, baseFilters: 4 }, seed: 9 });
    try {
      const size = 32;
      const images = Float32Array.from({ length: size * size }, (_, i) => Math.sin(i / 7));
      await engine.step({ images, labels: images.map((v) => (v > 0 ? 1 : 0)), n: 1, height: size, width: size }, 1e-2);
      await engine.saveLayersModel(out);
      await engine.saveLayersModel(out); // replacing an existing folder works too
      expect((await readdir(out)).sort()).toEqual(['model.json', 'weights.bin']);
      expect((await readdir(dir)).sort()).toEqual(['model']); // no temp folders left behind
      const modelJson = JSON.parse(await readFile(join(out, 'model.json'), 'utf8'));
      expect(modelJson.format).toBe('layers-model');
      expect(modelJson.weightsManifest[0].paths).toEqual(['weights.bin']);
      const weightData = new Uint8Array(await readFile(join(out, 'weights.bin'))).buffer;
      const expected = await engine.predict(images, 1, size, size);
      await tf.setBackend('cpu');
      const loaded = await tf.loadLayersModel(tf.io.fromMemory({ modelTopology: modelJson.modelTopology, weightSpecs: modelJson.weightsManifest[0].weights, weightData }));
      const actual = tf.tidy(() => (loaded.predict(tf.tensor4d(images, [1, size, size, 1])) as tf.Tensor).dataSync());
      let diff = 0;
      for (let i = 0; i < actual.length; i++) diff = Math.max(diff, Math.abs(actual[i]! - expected[i]!));
      expect(diff).toBeLessThan(1e-4);
    } finally {
      await engine.dispose();
    }
  });
});
