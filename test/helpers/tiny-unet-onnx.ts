/**
 * A tiny U-Net as an ONNX file for tests of every part (inference, server, web demo): built with
 * train/unet.ts on the tfjs cpu backend, all weights (biases and batch-norm statistics
 * included) replaced by seeded random values so that every path of the graph matters, exported
 * by the project's converter with a model card in the metadata, and written to a temp file.
 *
 *   const { path, bytes, model, card } = await tinyUNetOnnx({ depth: 2, baseFilters: 4 });
 *
 * The returned tfjs `model` is the oracle: model.predict on NHWC input equals the ONNX output
 * (NCHW) within 1e-5.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { ModelCard } from '../../core/contract.ts';
import { buildModelCard, modelCardMetadata } from '../../convert/model-card.ts';
import { exportLayersModel } from '../../convert/tfjs-to-onnx.ts';
import { buildUNet } from '../../train/unet.ts';
import { tempDir } from './temp-dir.ts';

export interface TinyUNetOptions {
  /** U-Net depth; inputs must be multiples of 2^depth. Default 2. */
  depth?: number;
  /** Filters of the first level. Default 4. */
  baseFilters?: number;
  /** Batch normalization after each convolution. Default false. */
  batchNorm?: boolean;
  /** Seed of the weights. Default 7. */
  seed?: number;
  /** Bottleneck dropout rate (removed at export). Default 0. */
  dropout?: number;
  /** Model name in the card and file name. Default `tiny-unet-d{depth}-f{baseFilters}[-bn]`. */
  name?: string;
  /** The card's trainingPixelSize in nm. Default: none. */
  trainingPixelSize?: number;
}

export interface TinyUNetOnnx {
  /** Path of the ONNX file in a fresh temp folder (a models/<name>.json card lies beside it). */
  path: string;
  bytes: Uint8Array;
  /** The tfjs model the file was exported from. */
  model: tf.LayersModel;
  /** The model card (also in the ONNX metadata under `emseg.model_card`, without sha256). */
  card: ModelCard;
}

/** Replaces every weight with seeded random values (variances kept positive). */
export function randomizeWeights(model: tf.LayersModel, seed: number): void {
  let counter = seed;
  for (const layer of model.layers) {
    if (layer.weights.length === 0) continue;
    const values = layer.weights.map((variable) => {
      const kind = variable.originalName.split('/').pop() ?? '';
      const next = counter++;
      if (kind === 'moving_variance' || kind === 'gamma') return tf.randomUniform(variable.shape as number[], 0.5, 1.5, 'float32', next);
      if (kind === 'kernel') return variable.read().clone();
      return tf.randomUniform(variable.shape as number[], -0.5, 0.5, 'float32', next);
    });
    layer.setWeights(values);
    tf.dispose(values);
  }
}

export async function tinyUNetOnnx(options: TinyUNetOptions = {}): Promise<TinyUNetOnnx> {
  const depth = options.depth ?? 2;
  const baseFilters = options.baseFilters ?? 4;
  const batchNorm = options.batchNorm ?? false;
  const seed = options.seed ?? 7;
  const name = options.name ?? `tiny-unet-d${depth}-f${baseFilters}${batchNorm ? '-bn' : ''}`;
  if (tf.getBackend() !== 'cpu') await tf.setBackend('cpu');
  await tf.ready();
  const model = buildUNet(tf, { depth, baseFilters, batchNorm, seed, dropout: options.dropout ?? 0 });
  randomizeWeights(model, seed * 1000 + 1);
  const card = buildModelCard(model, {
    name,
    description: 'Tiny U-Net with random weights, for tests only.',
    ...(options.trainingPixelSize !== undefined ? { trainingPixelSize: options.trainingPixelSize } : {}),
  });
  const bytes = exportLayersModel(model, { graphName: name, metadata: modelCardMetadata(card) });
  const folder = tempDir('emseg-tiny-unet-');
  const path = join(folder, `${name}.onnx`);
  writeFileSync(path, bytes);
  writeFileSync(join(folder, `${name}.json`), `${JSON.stringify(card, null, 2)}\n`);
  return { path, bytes, model, card };
}
