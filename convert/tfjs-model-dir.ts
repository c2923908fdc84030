/**
 * Reading and writing a tfjs Layers model folder (model.json + weight shards) with plain file
 * I/O and tfjs' own in-memory IO handlers (tf.io.fromMemory / withSaveHandler), so no
 * tfjs-node is needed. Node-only.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type * as tfType from '@tensorflow/tfjs';
import { EmsegError } from '../core/errors.ts';
import { writeFileAtomic } from '../node/atomic-write.ts';
import { concatBytes } from '../core/bytes.ts';

interface ModelJson {
  format?: string;
  generatedBy?: string;
  convertedBy?: string | null;
  modelTopology?: unknown;
  weightsManifest?: Array<{ paths: string[]; weights: tfType.io.WeightsManifestEntry[] }>;
  trainingConfig?: tfType.io.TrainingConfig;
  userDefinedMetadata?: Record<string, object>;
}

/** `dir` may be the folder or its model.json. Returns the model.json path. */
export function modelJsonPath(dir: string): string {
  if (!existsSync(dir)) throw new EmsegError('E_NOT_FOUND', `${dir}: no such tfjs model folder`);
  const path = statSync(dir).isDirectory() ? join(dir, 'model.json') : dir;
  if (!existsSync(path)) throw new EmsegError('E_NOT_FOUND', `${dir}: no model.json in this folder (expected a tfjs Layers model: model.json and weight files)`);
  return path;
}

/** Reads model.json and its weight shards into tfjs ModelArtifacts. */
export function readTfjsArtifacts(dir: string): tfType.io.ModelArtifacts {
  const jsonPath = modelJsonPath(dir);
  const folder = join(jsonPath, '..');
  let json: ModelJson;
  try {
    json = JSON.parse(readFileSync(jsonPath, 'utf8')) as ModelJson;
  } catch (error) {
    throw new EmsegError('E_MODEL', `${jsonPath}: not valid JSON (${(error as Error).message})`, { cause: error });
  }
  if (!json.modelTopology || typeof json.modelTopology !== 'object') {
    throw new EmsegError('E_MODEL', `${jsonPath}: no modelTopology; expected a tfjs Layers model (format layers-model)`);
  }
  if (json.format !== undefined && json.format !== 'layers-model') {
    throw new EmsegError('E_MODEL', `${jsonPath}: format '${json.format}' is not a tfjs Layers model (graph models are not supported; export the Keras/tfjs Layers model)`);
  }
  const manifest = json.weightsManifest ?? [];
  const shards: Uint8Array[] = [];
  for (const group of manifest) {
    for (const path of group.paths) {
      const shardPath = join(folder, path);
      if (!existsSync(shardPath)) throw new EmsegError('E_NOT_FOUND', `${jsonPath}: weight file ${path} is missing`);
      shards.push(readFileSync(shardPath));
    }
  }
  const weightData = concatBytes(shards);
  const weightSpecs = manifest.flatMap((group) => group.weights);
  return {
    modelTopology: json.modelTopology as object,
    weightSpecs,
    weightData: weightData.buffer as ArrayBuffer,
    format: json.format ?? 'layers-model',
    ...(json.generatedBy !== undefined ? { generatedBy: json.generatedBy } : {}),
    ...(json.convertedBy ? { convertedBy: json.convertedBy } : {}),
    ...(json.trainingConfig ? { trainingConfig: json.trainingConfig } : {}),
    ...(json.userDefinedMetadata ? { userDefinedMetadata: json.userDefinedMetadata } : {}),
  };
}

/** Loads a tfjs Layers model folder with the given tfjs (its backend already chosen). */
export async function loadTfjsModelDir(tf: typeof tfType, dir: string): Promise<tfType.LayersModel> {
  const artifacts = readTfjsArtifacts(dir);
  try {
    return await tf.loadLayersModel(tf.io.fromMemory(artifacts));
  } catch (error) {
    throw new EmsegError('E_MODEL', `${modelJsonPath(dir)}: tfjs cannot load this model (${(error as Error).message.split('\n')[0]})`, { cause: error });
  }
}

/** Saves a tfjs Layers model as `dir`/model.json + `dir`/weights.bin (each written atomically). */
export async function saveTfjsModelDir(tf: typeof tfType, model: tfType.LayersModel, dir: string): Promise<void> {
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      const weightData = artifacts.weightData;
      const bytes = weightData instanceof ArrayBuffer ? new Uint8Array(weightData) : new Uint8Array(await new Blob(weightData as ArrayBuffer[]).arrayBuffer());
      await writeFileAtomic(join(dir, 'weights.bin'), bytes);
      const modelJson = {
        format: 'layers-model',
        generatedBy: artifacts.generatedBy,
        convertedBy: artifacts.convertedBy ?? null,
        modelTopology: artifacts.modelTopology,
        weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs }],
      };
      await writeFileAtomic(join(dir, 'model.json'), JSON.stringify(modelJson));
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
}
