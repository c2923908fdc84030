/**
 * The U-Net (Ronneberger et al. 2015) as a tfjs Layers functional model.
 *
 * Input `[null, null, 1]` (NHWC inside tfjs; the ONNX export turns it into the contract's NCHW),
 * so any height and width that are multiples of 2^depth work. Two 3x3 'same' convolutions per
 * level, max-pooling down, Conv2DTranspose (2x2, stride 2) up, skip connections by
 * concatenation, optional batch norm after each convolution, optional dropout at the
 * bottleneck, and a 1x1 convolution with a sigmoid: the probability of cell interior.
 *
 * Layer names are stable (`enc1_conv1`, `bottleneck_conv2`, `dec1_up`, `head`, ...) so that
 * logs, checkpoints and the exporter can refer to them.
 */
import type * as tfType from '@tensorflow/tfjs';
import { definedFields } from '../core/defined.ts';

export interface UNetOptions {
  /** Number of down-sampling steps; inputs must be multiples of 2^depth. Default 4. */
  depth?: number;
  /** Filters of the first level, doubled at each level down. Default 16. */
  baseFilters?: number;
  /** Batch normalization after each convolution. Default false. */
  batchNorm?: boolean;
  /** Dropout rate at the bottleneck, 0 for none. Default 0. */
  dropout?: number;
  /** Seed for the weight initializers, so that a run is reproducible. Default 42. */
  seed?: number;
}

export type ResolvedUNetOptions = Required<UNetOptions>;

export const UNET_DEFAULTS: ResolvedUNetOptions = { depth: 4, baseFilters: 16, batchNorm: false, dropout: 0, seed: 42 };

export function resolveUNetOptions(options: UNetOptions = {}): ResolvedUNetOptions {
  const resolved = { ...UNET_DEFAULTS, ...definedFields(options) };
  if (!Number.isInteger(resolved.depth) || resolved.depth < 1 || resolved.depth > 6) {
    throw new RangeError(`depth: expected an integer from 1 to 6, found ${resolved.depth}`);
  }
  if (!Number.isInteger(resolved.baseFilters) || resolved.baseFilters < 1) {
    throw new RangeError(`baseFilters: expected a positive integer, found ${resolved.baseFilters}`);
  }
  if (!(resolved.dropout >= 0 && resolved.dropout < 1)) {
    throw new RangeError(`dropout: expected a rate in [0, 1), found ${resolved.dropout}`);
  }
  return resolved;
}


/** Builds the model with `tf` passed in, so that the caller chooses the backend first. */
export function buildUNet(tf: typeof tfType, options: UNetOptions = {}): tfType.LayersModel {
  const { depth, baseFilters, batchNorm, dropout, seed } = resolveUNetOptions(options);
  let seedCounter = seed;
  const initializer = () => tf.initializers.heNormal({ seed: seedCounter++ });

  const convBlock = (input: tfType.SymbolicTensor, filters: number, prefix: string): tfType.SymbolicTensor => {
    let x = input;
    for (const index of [1, 2]) {
      x = tf.layers
        .conv2d({
          name: `${prefix}_conv${index}`,
          filters,
          kernelSize: 3,
          padding: 'same',
          useBias: !batchNorm,
          activation: batchNorm ? 'linear' : 'relu',
          kernelInitializer: initializer(),
        })
        .apply(x) as tfType.SymbolicTensor;
      if (batchNorm) {
        x = tf.layers.batchNormalization({ name: `${prefix}_bn${index}`, axis: -1 }).apply(x) as tfType.SymbolicTensor;
        x = tf.layers.activation({ name: `${prefix}_relu${index}`, activation: 'relu' }).apply(x) as tfType.SymbolicTensor;
      }
    }
    return x;
  };

  const input = tf.input({ name: 'image', shape: [null, null, 1] });
  const skips: tfType.SymbolicTensor[] = [];
  let x: tfType.SymbolicTensor = input;
  for (let level = 1; level <= depth; level++) {
    x = convBlock(x, baseFilters * 2 ** (level - 1), `enc${level}`);
    skips.push(x);
    x = tf.layers.maxPooling2d({ name: `pool${level}`, poolSize: 2, strides: 2 }).apply(x) as tfType.SymbolicTensor;
  }
  x = convBlock(x, baseFilters * 2 ** depth, 'bottleneck');
  if (dropout > 0) {
    x = tf.layers.dropout({ name: 'bottleneck_dropout', rate: dropout, seed: seedCounter++ }).apply(x) as tfType.SymbolicTensor;
  }
  for (let level = depth; level >= 1; level--) {
    const filters = baseFilters * 2 ** (level - 1);
    x = tf.layers
      .conv2dTranspose({
        name: `dec${level}_up`,
        filters,
        kernelSize: 2,
        strides: 2,
        padding: 'same',
        kernelInitializer: initializer(),
      })
      .apply(x) as tfType.SymbolicTensor;
    x = tf.layers.concatenate({ name: `dec${level}_concat`, axis: -1 }).apply([skips[level - 1]!, x]) as tfType.SymbolicTensor;
    x = convBlock(x, filters, `dec${level}`);
  }
  const probability = tf.layers
    .conv2d({ name: 'head', filters: 1, kernelSize: 1, activation: 'sigmoid', kernelInitializer: tf.initializers.glorotUniform({ seed: seedCounter++ }) })
    .apply(x) as tfType.SymbolicTensor;
  return tf.model({ name: 'unet', inputs: input, outputs: probability });
}
