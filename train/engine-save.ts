/**
 * Writes a tfjs Layers model folder (model.json + weights.bin, the format tf.loadLayersModel and
 * the ONNX exporter read) atomically: everything goes to a temp folder next to the target, which
 * then replaces the target with renames, so a reader never sees a half-written model and a crash
 * leaves the previous one intact.
 */
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { LayersArtifacts } from './engine-core.ts';

export async function writeLayersModelFolder(dir: string, artifacts: LayersArtifacts): Promise<void> {
  const modelJson = {
    format: 'layers-model',
    generatedBy: 'emseg (TensorFlow.js 4.22)',
    convertedBy: null,
    modelTopology: artifacts.modelTopology,
    weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs }],
  };
  await mkdir(dirname(dir), { recursive: true });
  const temp = join(dirname(dir), `.${basename(dir)}.tmp-${process.pid}-${Date.now()}`);
  await mkdir(temp, { recursive: true });
  try {
    await writeFile(join(temp, 'weights.bin'), new Uint8Array(artifacts.weightData));
    await writeFile(join(temp, 'model.json'), JSON.stringify(modelJson));
    const old = `${temp}.old`;
    let moved = false;
    try {
      await rename(dir, old);
      moved = true;
    } catch (error) {
      if ((error as { code?: string }).code !== 'ENOENT') throw error;
    }
    await rename(temp, dir);
    if (moved) await rm(old, { recursive: true, force: true });
  } catch (error) {
    await rm(temp, { recursive: true, force: true });
    throw error;
  }
}
