/**
 * Writes a tfjs Layers model folder (model.json + weights.bin, the format tf.loadLayersModel and
 * the ONNX exporter read) atomically with node/atomic-dir.ts: a reader never sees a half-written
 * model, and a crash at any moment leaves a complete one (the previous copy, which the next
 * run's `recoverInterruptedWrites` puts back).
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { replaceDirAtomic } from '../node/atomic-dir.ts';
import type { LayersArtifacts } from './engine-core.ts';

export async function writeLayersModelFolder(dir: string, artifacts: LayersArtifacts): Promise<void> {
  const modelJson = {
    format: 'layers-model',
    generatedBy: 'emseg (TensorFlow.js 4.22)',
    convertedBy: null,
    modelTopology: artifacts.modelTopology,
    weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs }],
  };
  await replaceDirAtomic(dir, async (temp) => {
    await writeFile(join(temp, 'weights.bin'), new Uint8Array(artifacts.weightData));
    await writeFile(join(temp, 'model.json'), JSON.stringify(modelJson));
  });
}
