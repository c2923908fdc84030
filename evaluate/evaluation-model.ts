/**
 * Opens the model `emseg evaluate` scores as a slice predictor, whatever it is:
 * - an `.onnx` file: onnxruntime-node through node/load-onnx-model.ts (its model card gives threshold,
 *   tile, halo, size multiple and training pixel size);
 * - a tfjs Layers model folder (e.g. `runs/x/model`): TensorFlow.js on the chosen backend
 *   (train/backend.ts), loaded with convert/tfjs-model-dir.ts; depth from its pooling layers; the
 *   training pixel size from its run's config.json (node/training-run-file.ts), when it records one.
 * Both go through the same pipeline as every other part, core/inference.ts's segmentImage
 * (contract normalization, padding, tiling, optional 8-fold TTA, rescaling to the model's pixel
 * size, inverted contrast), so the figures are those the served model gives.
 */
import { statSync } from 'node:fs';
import { segmentOptionsFromCard, trainingPixelSizeOf } from '../core/card-options.ts';
import { DEFAULT_HALO, DEFAULT_THRESHOLD, DEFAULT_TILE, sizeMultipleFor, type ModelCard } from '../core/contract.ts';
import { EmsegError } from '../core/errors.ts';
import type { GreyImage } from '../core/image.ts';
import { segmentImage } from '../core/inference.ts';
import type { TilePredictor } from '../core/tiling.ts';
import { readTrainingRun } from '../node/training-run-file.ts';
import { findTrainingRun } from './training-run.ts';

/** How a slice is run: plain or with TTA, rescaled by `scale` to the model's pixel size (default 1), contrast inverted (default no). */
export interface SliceRun {
  tta: boolean;
  scale?: number;
  invert?: boolean;
}

export interface EvaluationModel {
  /** The path it was opened from. */
  path: string;
  /** What runs the model, e.g. 'ONNX, onnxruntime-node cpu' or 'tfjs Layers model, wasm backend'. */
  kind: string;
  card?: ModelCard;
  /** The model card's threshold, else the contract's 0.5. */
  threshold: number;
  /** Pixel size in nm of the images the model learned on (its card's, or its run's), when recorded. */
  trainingPixelSize?: number;
  /** Probability of cell interior per pixel of `image` (a slice as read), at the image's size. */
  predictSlice(image: GreyImage, run: SliceRun): Promise<Float32Array>;
  dispose(): Promise<void>;
}

export interface OpenModelOptions {
  /** tfjs backend for a tfjs folder: auto, gpu, native, wasm or cpu. Default auto. */
  backend?: string;
  /** onnxruntime execution providers for an .onnx file (node/onnx-providers.ts). Default EMSEG_EP, else auto (cuda if it starts, else cpu). */
  providers?: string;
  /** Warnings (provider fallbacks, missing model card). Default: stderr. */
  log?: (message: string) => void;
}

export async function openEvaluationModel(path: string, options: OpenModelOptions = {}): Promise<EvaluationModel> {
  const log = options.log ?? ((message: string) => process.stderr.write(`${message}\n`));
  let isFolder: boolean;
  try {
    isFolder = statSync(path).isDirectory();
  } catch {
    throw new EmsegError('E_NOT_FOUND', `<model> ${path}: no such file or folder`);
  }
  return isFolder || path.endsWith('model.json') ? openTfjsFolder(path, options.backend ?? 'auto', log) : openOnnxFile(path, log, options.providers);
}

async function openOnnxFile(path: string, log: (message: string) => void, providers?: string): Promise<EvaluationModel> {
  const { loadOnnxModel } = await import('../node/load-onnx-model.ts');
  const model = await loadOnnxModel(path, { log, ...(providers ? { providers } : {}) });
  const { card } = model;
  const trainingPixelSize = trainingPixelSizeOf(card);
  return {
    path,
    kind: `ONNX, onnxruntime-node ${model.provider}${model.cardSource === 'default' ? ', no model card' : ''}`,
    card,
    threshold: card.threshold,
    ...(trainingPixelSize !== undefined ? { trainingPixelSize } : {}),
    predictSlice: async (image, run) =>
      (await segmentImage(image, model.predictor, { ...segmentOptionsFromCard(card, { tta: run.tta, invert: run.invert === true }), scale: run.scale ?? 1 })).probability.data,
    dispose: () => model.close(),
  };
}

async function openTfjsFolder(path: string, backend: string, log: (message: string) => void): Promise<EvaluationModel> {
  const tf = await (await import('../node/tfjs.ts')).importTfjs();
  const [{ selectBackend }, { loadTfjsModelDir }] = await Promise.all([import('../train/backend.ts'), import('../convert/tfjs-model-dir.ts')]);
  const selected = await selectBackend(tf, backend as never, log);
  const model = await loadTfjsModelDir(tf, path);
  const depth = model.layers.filter((layer) => layer.getClassName() === 'MaxPooling2D').length;
  if (depth < 1) throw new EmsegError('E_MODEL', `${path}: no MaxPooling2D layers; expected an emseg U-Net (train/unet.ts)`);
  const predictor: TilePredictor = async (tiles, n, height, width) => {
    const output = tf.tidy(() => model.predict(tf.tensor4d(tiles, [n, height, width, 1])) as import('@tensorflow/tfjs').Tensor);
    try {
      return (await output.data()) as Float32Array;
    } finally {
      output.dispose();
    }
  };
  const tiling = { tile: DEFAULT_TILE, halo: DEFAULT_HALO, sizeMultiple: sizeMultipleFor(depth), tileBatch: 1 };
  const runRecord = findTrainingRun(path).config;
  const trainingPixelSize = runRecord ? readTrainingRun(runRecord).trainingPixelSize : undefined;
  return {
    path,
    kind: `tfjs Layers model, ${selected.name} backend`,
    threshold: DEFAULT_THRESHOLD,
    ...(trainingPixelSize !== undefined ? { trainingPixelSize } : {}),
    predictSlice: async (image, run) =>
      (await segmentImage(image, predictor, { ...tiling, tta: run.tta, scale: run.scale ?? 1, invert: run.invert === true, threshold: DEFAULT_THRESHOLD })).probability.data,
    dispose: async () => {
      model.dispose();
    },
  };
}
