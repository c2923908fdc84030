/**
 * The real parts of the training loop: the stacks read with node/image-files.ts, the dataset
 * (train/dataset.ts) with its sfc32 generator (core/random.ts), the compute engine
 * (train/engine.ts), and validation on whole slices (core/tiling.ts around engine.predict, which
 * for a 512x512 slice and depth 4 is one call on the whole slice, then core/evaluation.ts's
 * scoring with core/metrics).
 */
import { sizeMultipleFor } from '../core/contract.ts';
import { EmsegError } from '../core/errors.ts';
import { scoreProbabilities } from '../core/evaluation.ts';
import { roundUpToMultiple } from '../core/padding.ts';
import { createRng } from '../core/random.ts';
import { slidingWindowInference } from '../core/stitch.ts';
import { readLabelledData, rescaleLabelledData } from '../node/labelled-sources.ts';
import { pixelScale } from '../core/pixel-size.ts';
import { fineTuneStepOptions } from './fine-tune.ts';
import { loadParentWeights, readParentModel } from './init-from-onnx.ts';
import { optionLabel, type TrainConfig } from './config.ts';
import { createDataset, type SegmentationDataset } from './dataset.ts';
import { createTrainingEngine } from './engine.ts';
import type { TrainingParts, ValidationScores } from './loop-parts.ts';

/** Threshold of the "at threshold" validation figures: the contract's default. */
const VALIDATION_THRESHOLD = 0.5;

export async function openRealTrainingParts(config: TrainConfig): Promise<TrainingParts> {
  // Sources (node/labelled-sources.ts) and the parent model (train/init-from-onnx.ts) are read and checked
  // before the engine starts and before the loop writes anything.
  const data = await readLabelledData(config.images, config.labels, { ignore: config.ignore, invert: config.invertLabels });
  const parent = config.init === null ? undefined : readParentModel(config.init, config.model);
  // --pixel-size: the data is rescaled to the parent's training pixel size; without a parent the
  // model learns at the data's own pixel size.
  const trainingPixelSize = parent && config.pixelSize !== null ? parent.info.trainingPixelSize : config.pixelSize ?? parent?.info.trainingPixelSize;
  const scale = parent && config.pixelSize !== null ? pixelScale(config.pixelSize, trainingPixelSize, `the card of --init ${config.init}`) : 1;
  const { images, labels } = scale === 1 ? data : rescaleLabelledData(data, scale);
  let dataset: SegmentationDataset;
  try {
    dataset = createDataset(images, labels, {
      trainSlices: config.trainSlices,
      validationSlices: config.validationSlices,
      cropSize: config.cropSize,
      batchSize: config.batchSize,
      augment: config.augment && (config.shiftAugment ? { shifts: true } : true),
      borderWeights: config.borderWeights.enabled ? { w0: config.borderWeights.w0, sigma: config.borderWeights.sigma } : false,
      ignore: config.ignore,
    });
  } catch (error) {
    if (error instanceof RangeError) {
      // The dataset names its option (trainSlices, cropSize, ...); add the CLI flag and the files.
      const name = error.message.split(':')[0] ?? '';
      throw new EmsegError('E_BAD_ARGUMENT', `${optionLabel(name)}${error.message.slice(name.length)} (${config.images})`);
    }
    throw error;
  }
  const engine = await createTrainingEngine({
    backend: config.backend,
    ...(config.workers > 0 ? { workers: config.workers } : {}),
    model: config.model,
    loss: { bceWeight: config.loss.bce, diceWeight: config.loss.dice },
    seed: config.seed,
    emaDecay: config.emaDecay,
  });
  if (parent) {
    try {
      await loadParentWeights(engine, parent);
    } catch (error) {
      await engine.dispose();
      throw error;
    }
  }
  const multiple = sizeMultipleFor(config.model.depth);
  const predictor = (tiles: Float32Array, n: number, height: number, width: number) => engine.predict(tiles, n, height, width);

  async function scoreValidation(): Promise<ValidationScores> {
    const probabilities: Float32Array[] = [];
    const slices = dataset.validation;
    const { width, height } = slices[0]!.image;
    if (width % multiple === 0 && height % multiple === 0) {
      // The usual case (ISBI: 512x512, depth 4): all slices in one call, which the engine shares
      // out among its workers.
      const batch = dataset.validationBatch();
      const output = await engine.predict(batch.images, batch.n, height, width);
      for (let i = 0; i < batch.n; i++) probabilities.push(output.slice(i * width * height, (i + 1) * width * height));
    } else {
      for (const slice of slices) {
        // One tile covering the whole slice, mirror-padded to the size multiple.
        const tile = roundUpToMultiple(Math.max(slice.image.width, slice.image.height), multiple);
        const image = { width: slice.image.width, height: slice.image.height, data: slice.normalized };
        probabilities.push((await slidingWindowInference(image, predictor, { tile, halo: 0, tileBatch: 1, sizeMultiple: multiple })).data);
      }
    }
    const { vRandBest, vInfoBest, bestThreshold, threshold, vRand, vInfo, pixelError, dice, iou } = scoreProbabilities(dataset.validation, probabilities, VALIDATION_THRESHOLD, undefined, config.ignore);
    return { vRandBest, vInfoBest, bestThreshold, threshold, vRand, vInfo, pixelError, dice, iou };
  }

  return {
    engine,
    dataset,
    createRng,
    scoreValidation,
    stepOptions: (step) => fineTuneStepOptions(config, step),
    provenance: {
      ...(parent ? { parent: parent.info } : {}),
      ...(trainingPixelSize !== undefined && trainingPixelSize !== null ? { trainingPixelSize } : {}),
      data: { sources: data.sources, slices: data.origins.length, ignore: config.ignore, invertLabels: config.invertLabels },
    },
    dispose: () => engine.dispose(),
  };
}
