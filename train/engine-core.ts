/**
 * One model on one tfjs backend in one thread: computes the loss and gradients of a batch,
 * predicts, and hands out its weights. It owns no optimizer state: the engine (train/engine.ts)
 * keeps the weights and Adam's moments as plain Float32Arrays and hands them to one or more cores
 * (in this thread, or one per worker thread for data parallelism).
 */
import type * as tfType from '@tensorflow/tfjs';
import { buildUNet, resolveUNetOptions, type ResolvedUNetOptions, type UNetOptions } from './unet.ts';
import { resolveLossOptions, segmentationLoss, type LossOptions, type ResolvedLossOptions } from './loss.ts';
import { concatBytes } from '../core/bytes.ts';

/** A weight of the model, in the order of `model.weights`. */
export interface WeightSpec {
  /** The weight's name without tfjs's uniquifying suffix, e.g. 'enc1_conv1/kernel'. */
  name: string;
  shape: number[];
  /** false for batch norm's moving mean and variance. */
  trainable: boolean;
}

export interface GradientResult {
  /** Loss of this (sub-)batch, the mean over its images. */
  loss: number;
  /** Gradients of the trainable weights, in the order of the trainable specs. */
  grads: Float32Array[];
  /** Values of the non-trainable weights after this forward pass (batch norm moving statistics). */
  nonTrainable: Float32Array[];
}

/** model.json content pieces and the concatenated weights, as tfjs's save handlers receive them. */
export interface LayersArtifacts {
  modelTopology: object;
  weightSpecs: tfType.io.WeightsManifestEntry[];
  weightData: ArrayBuffer;
}

export interface SubBatch {
  images: Float32Array;
  labels: Float32Array;
  weights?: Float32Array | undefined;
  n: number;
  height: number;
  width: number;
}

export class GradientCore {
  readonly specs: WeightSpec[];
  readonly modelOptions: ResolvedUNetOptions;
  readonly lossOptions: ResolvedLossOptions;
  private readonly model: tfType.LayersModel;
  private readonly trainableVariables: tfType.Variable[];

  constructor(
    private readonly tf: typeof tfType,
    modelOptions: UNetOptions,
    lossOptions: LossOptions = {},
  ) {
    this.modelOptions = resolveUNetOptions(modelOptions);
    this.lossOptions = resolveLossOptions(lossOptions);
    this.model = buildUNet(tf, this.modelOptions);
    this.specs = this.model.weights.map((w) => ({
      name: (w as unknown as { originalName: string }).originalName ?? w.name,
      shape: [...w.shape] as number[],
      trainable: w.trainable,
    }));
    this.trainableVariables = this.model.weights.filter((w) => w.trainable).map((w) => w.read() as tfType.Variable);
  }

  getWeights(): Float32Array[] {
    return this.model.weights.map((w) => new Float32Array(w.read().dataSync() as Float32Array));
  }

  setWeights(values: readonly Float32Array[]): void {
    const { tf } = this;
    if (values.length !== this.specs.length) throw new Error(`setWeights: expected ${this.specs.length} arrays, found ${values.length}`);
    const tensors = values.map((v, i) => tf.tensor(v, this.specs[i]!.shape, 'float32'));
    this.model.setWeights(tensors);
    tf.dispose(tensors);
  }

  computeGradients(batch: SubBatch): GradientResult {
    const { tf } = this;
    const shape: [number, number, number, number] = [batch.n, batch.height, batch.width, 1];
    const { value, grads } = tf.tidy(() => {
      const x = tf.tensor4d(batch.images, shape);
      const t = tf.tensor4d(batch.labels, shape);
      const w = batch.weights === undefined ? undefined : tf.tensor4d(batch.weights, shape);
      return tf.variableGrads(() => {
        const p = this.model.apply(x, { training: true }) as tfType.Tensor;
        return segmentationLoss(tf, p, t, w, this.lossOptions);
      }, this.trainableVariables);
    });
    const loss = value.dataSync()[0]!;
    const gradArrays = this.trainableVariables.map((v) => {
      const g = grads[v.name];
      if (g === undefined) throw new Error(`no gradient for ${v.name}`);
      return new Float32Array(g.dataSync() as Float32Array);
    });
    tf.dispose([value, ...Object.values(grads)]);
    const nonTrainable = this.model.weights.filter((w) => !w.trainable).map((w) => new Float32Array(w.read().dataSync() as Float32Array));
    return { loss, grads: gradArrays, nonTrainable };
  }

  /** Probabilities (NHWC, C = 1) in inference mode, `chunk` images at a time. */
  predict(images: Float32Array, n: number, height: number, width: number, chunk = 2): Float32Array {
    const { tf } = this;
    const out = new Float32Array(n * height * width);
    const size = height * width;
    for (let start = 0; start < n; start += chunk) {
      const count = Math.min(chunk, n - start);
      const result = tf.tidy(() => {
        const x = tf.tensor4d(images.subarray(start * size, (start + count) * size), [count, height, width, 1]);
        return this.model.predict(x) as tfType.Tensor;
      });
      out.set(result.dataSync() as Float32Array, start * size);
      result.dispose();
    }
    return out;
  }

  async artifacts(): Promise<LayersArtifacts> {
    const { tf } = this;
    let saved: tfType.io.ModelArtifacts | undefined;
    await this.model.save(
      tf.io.withSaveHandler(async (artifacts) => {
        saved = artifacts;
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
      }),
    );
    if (saved?.modelTopology === undefined || saved.weightSpecs === undefined || saved.weightData === undefined) {
      throw new Error('the model produced no artifacts to save');
    }
    const data = saved.weightData;
    const weightData = Array.isArray(data) ? concatBuffers(data) : data;
    return { modelTopology: saved.modelTopology as object, weightSpecs: saved.weightSpecs, weightData };
  }

  dispose(): void {
    this.model.dispose();
  }
}

function concatBuffers(buffers: ArrayBuffer[]): ArrayBuffer {
  return concatBytes(buffers).buffer;
}
