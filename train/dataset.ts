/**
 * The training data: an image stack and its label stack, split by slice index into training and
 * validation slices, prepared once, then sampled into augmented random-crop batches.
 *
 * Preparation (once, when the dataset is made):
 * - every slice is normalized with core/normalize.ts on the whole slice, before any cropping, as
 *   the model contract says (so training sees exactly the statistics inference will use);
 * - labels become 0/1 (value != 0 = cell interior);
 * - with border weights on, the U-Net border weight map (train/weight-map.ts) of each training
 *   slice is computed, then cropped and deformed together with image and label.
 *
 * Sampling (`sampleBatch(rng)`): for each crop, a training slice uniformly at random, then a crop
 * transform (train/augment.ts: position, flip/rotation, elastic deformation, intensity jitter). All
 * randomness comes from the generator passed in, in a fixed order, so a batch is a pure function of
 * the generator's state: the same seed gives the same batches, and restoring a saved state
 * (`rng.setState`) gives the same next batch as an uninterrupted run.
 */
import { assertSameShape, type GreyImage, type ImageStack } from '../core/image.ts';
import { normalizeSlice } from '../core/normalize.ts';
import type { Rng } from '../core/random.ts';
import type { TrainBatch } from './batch.ts';
import { drawCropTransform, renderCrop, resolveAugmentOptions, type AugmentOptions, type CropSource, type ResolvedAugmentOptions } from './augment.ts';
import { borderWeightMap, resolveWeightMapOptions, type WeightMapOptions } from './weight-map.ts';
import { ISBI_SPLIT } from '../core/isbi-data.ts';


export interface BorderWeightOptions extends WeightMapOptions {
  /** Compute the border weight map and put it in the batches. Default true. */
  enabled?: boolean;
}

export interface DatasetOptions {
  /** Slice indices to train on. Default 0-24. */
  trainSlices?: readonly number[];
  /** Slice indices to validate on (whole slices); may be empty. Default 25-29. */
  validationSlices?: readonly number[];
  /** Side of the square crops. Default 256. */
  cropSize?: number;
  /** Crops per batch. Default 4. */
  batchSize?: number;
  /** Augmentation: true (defaults), false (plain crops) or detailed options. Default true. */
  augment?: boolean | AugmentOptions;
  /** Border weight map options, or false for none. Default enabled, w0 10, sigma 5. */
  borderWeights?: BorderWeightOptions | false;
}

export const DATASET_DEFAULTS = {
  trainSlices: [...ISBI_SPLIT.train],
  validationSlices: [...ISBI_SPLIT.validation],
  cropSize: 256,
  batchSize: 4,
} as const;

/** A training slice, prepared. */
export interface TrainSlice extends CropSource {
  index: number;
}

/** A validation slice: the original image (for predictors that normalize themselves), its normalized pixels and its label. */
export interface ValidationSlice {
  index: number;
  image: GreyImage;
  normalized: Float32Array;
  label: GreyImage;
}

/** Checks a training/validation split against the stack size; throws a RangeError naming the option. */
export function checkSplit(trainSlices: readonly number[], validationSlices: readonly number[], sliceCount: number): void {
  const check = (name: string, list: readonly number[]) => {
    const seen = new Set<number>();
    for (const index of list) {
      if (!Number.isInteger(index) || index < 0 || index >= sliceCount) {
        throw new RangeError(`${name}: slice ${index} is out of range, expected integers 0-${sliceCount - 1} (the stack has ${sliceCount} slices)`);
      }
      if (seen.has(index)) throw new RangeError(`${name}: slice ${index} is listed twice`);
      seen.add(index);
    }
    return seen;
  };
  const train = check('trainSlices', trainSlices);
  check('validationSlices', validationSlices);
  if (train.size === 0) throw new RangeError('trainSlices: expected at least one slice, found none');
  const shared = validationSlices.filter((i) => train.has(i));
  if (shared.length > 0) throw new RangeError(`validationSlices: slice${shared.length > 1 ? 's' : ''} ${shared.join(', ')} also in trainSlices; the two must not overlap`);
}

function positiveInteger(name: string, value: number): number {
  if (!Number.isInteger(value) || value <= 0) throw new RangeError(`${name}: expected a positive integer, found ${value}`);
  return value;
}

export class SegmentationDataset {
  readonly train: readonly TrainSlice[];
  readonly validation: readonly ValidationSlice[];
  readonly cropSize: number;
  readonly batchSize: number;
  readonly augment: ResolvedAugmentOptions;
  readonly borderWeights: boolean;

  constructor(images: ImageStack, labels: ImageStack, options: DatasetOptions = {}) {
    assertSameShape(images, 'images', labels, 'labels');
    const { trainSlices = DATASET_DEFAULTS.trainSlices, validationSlices = DATASET_DEFAULTS.validationSlices } = options;
    checkSplit(trainSlices, validationSlices, images.pages.length);
    this.cropSize = positiveInteger('cropSize', options.cropSize ?? DATASET_DEFAULTS.cropSize);
    this.batchSize = positiveInteger('batchSize', options.batchSize ?? DATASET_DEFAULTS.batchSize);
    if (this.cropSize > images.width || this.cropSize > images.height) {
      throw new RangeError(`cropSize: expected at most ${Math.min(images.width, images.height)} (slices are ${images.width}x${images.height}), found ${this.cropSize}`);
    }
    this.augment = resolveAugmentOptions(options.augment ?? true);
    const weightOptions = options.borderWeights === false ? null : options.borderWeights ?? {};
    this.borderWeights = weightOptions !== null && weightOptions.enabled !== false;
    const resolvedWeights = this.borderWeights ? resolveWeightMapOptions(weightOptions ?? {}) : null;

    this.train = trainSlices.map((index) => {
      const image = images.pages[index]!;
      const label = labels.pages[index]!;
      const slice: TrainSlice = {
        index,
        width: image.width,
        height: image.height,
        image: normalizeSlice(image),
        label: Uint8Array.from(label.data, (v) => (v !== 0 ? 1 : 0)),
      };
      if (resolvedWeights) slice.weights = borderWeightMap(label, resolvedWeights);
      return slice;
    });
    this.validation = validationSlices.map((index) => ({
      index,
      image: images.pages[index]!,
      normalized: normalizeSlice(images.pages[index]!),
      label: labels.pages[index]!,
    }));
  }

  /** A batch of `batchSize` augmented random crops (NHWC, one channel), drawn from `rng`. */
  sampleBatch(rng: Rng): TrainBatch {
    const size = this.cropSize;
    const n = this.batchSize;
    const pixels = size * size;
    const images = new Float32Array(n * pixels);
    const labels = new Float32Array(n * pixels);
    const weights = this.borderWeights ? new Float32Array(n * pixels) : undefined;
    for (let k = 0; k < n; k++) {
      const slice = this.train[rng.int(0, this.train.length)]!;
      const transform = drawCropTransform(rng, slice.width, slice.height, size, this.augment);
      renderCrop(slice, transform, { image: images, label: labels, weights, offset: k * pixels });
    }
    return weights ? { images, labels, weights, n, height: size, width: size } : { images, labels, n, height: size, width: size };
  }

  /** Validation images as one NHWC batch of whole normalized slices, with their labels. */
  validationBatch(): { images: Float32Array; n: number; height: number; width: number; labels: GreyImage[] } {
    const first = this.validation[0];
    if (!first) throw new RangeError('validationSlices: the dataset has no validation slices');
    const { width, height } = first.image;
    const images = new Float32Array(this.validation.length * width * height);
    this.validation.forEach((slice, i) => images.set(slice.normalized, i * width * height));
    return { images, n: this.validation.length, height, width, labels: this.validation.map((s) => s.label) };
  }
}

/** Builds the dataset from an image stack and a label stack (decoded already: see node/image-files.ts). */
export function createDataset(images: ImageStack, labels: ImageStack, options: DatasetOptions = {}): SegmentationDataset {
  return new SegmentationDataset(images, labels, options);
}
