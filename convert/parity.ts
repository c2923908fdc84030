/**
 * Parity check: the tfjs model (the oracle) and the exported ONNX file run by onnxruntime-node
 * (CPU provider) on the same inputs; the figure is the largest absolute difference of the
 * outputs. Inputs are NCHW float32 like the contract; the tfjs side gets them transposed to NHWC.
 */
import type * as tfType from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-node';
import { INPUT_NAME, OUTPUT_NAME } from '../core/contract.ts';
import { EmsegError } from '../core/errors.ts';
import { createRng } from '../core/random.ts';

/** Default tolerance of the built-in check (contract: 1e-4). */
export const PARITY_TOLERANCE = 1e-4;

export interface ParityInput {
  /** Shown in reports, e.g. 'isbi train-volume slice 0 (512x512)' or 'random 64x96'. */
  label: string;
  /** NCHW data. */
  data: Float32Array;
  /** [N, C, H, W]. */
  shape: [number, number, number, number];
}

export interface ParityResult {
  label: string;
  maxAbsDiff: number;
}

export interface ParityReport {
  maxAbsDiff: number;
  results: ParityResult[];
}

/** NCHW <-> NHWC on typed arrays (no tfjs needed on the ONNX side). */
export function nchwToNhwc(data: Float32Array, [n, c, h, w]: readonly number[]): Float32Array {
  const out = new Float32Array(data.length);
  for (let b = 0; b < n!; b++)
    for (let ch = 0; ch < c!; ch++)
      for (let y = 0; y < h!; y++)
        for (let x = 0; x < w!; x++) out[((b * h! + y) * w! + x) * c! + ch] = data[((b * c! + ch) * h! + y) * w! + x]!;
  return out;
}

export function nhwcToNchw(data: Float32Array, [n, h, w, c]: readonly number[]): Float32Array {
  const out = new Float32Array(data.length);
  for (let b = 0; b < n!; b++)
    for (let y = 0; y < h!; y++)
      for (let x = 0; x < w!; x++)
        for (let ch = 0; ch < c!; ch++) out[((b * c! + ch) * h! + y) * w! + x] = data[((b * h! + y) * w! + x) * c! + ch]!;
  return out;
}

/** Runs the tfjs model on NCHW input; returns the NCHW output and its shape. */
export function runTfjsNchw(tf: typeof tfType, model: tfType.LayersModel, input: ParityInput): { data: Float32Array; shape: number[] } {
  const [n, c, h, w] = input.shape;
  return tf.tidy(() => {
    const x = tf.tensor4d(nchwToNhwc(input.data, input.shape), [n, h, w, c]);
    const y = model.predict(x) as tfType.Tensor;
    const shape = y.shape;
    const data = nhwcToNchw(y.dataSync() as Float32Array, shape);
    return { data, shape: [shape[0]!, shape[3]!, shape[1]!, shape[2]!] };
  });
}

export async function createCpuSession(onnx: Uint8Array | string): Promise<ort.InferenceSession> {
  const options: ort.InferenceSession.SessionOptions = { executionProviders: ['cpu'], intraOpNumThreads: 1, interOpNumThreads: 1 };
  try {
    return typeof onnx === 'string' ? await ort.InferenceSession.create(onnx, options) : await ort.InferenceSession.create(onnx, options);
  } catch (error) {
    throw new EmsegError('E_MODEL', `${typeof onnx === 'string' ? onnx : 'ONNX bytes'}: onnxruntime cannot load the model (${(error as Error).message.split('\n')[0]})`, { cause: error });
  }
}

/** Runs the ONNX session on NCHW input; returns the first output. */
export async function runOnnx(
  session: ort.InferenceSession,
  input: ParityInput,
  names: { input?: string; output?: string } = {},
): Promise<{ data: Float32Array; shape: number[] }> {
  const inputName = names.input ?? INPUT_NAME;
  const outputName = names.output ?? OUTPUT_NAME;
  const feeds = { [inputName]: new ort.Tensor('float32', input.data, input.shape) };
  const results = await session.run(feeds);
  const output = results[outputName];
  if (!output) throw new EmsegError('E_MODEL', `the ONNX model has no output named ${outputName} (found ${Object.keys(results).join(', ')})`);
  const data = output.data as Float32Array;
  const shape = [...output.dims];
  output.dispose();
  return { data, shape };
}

export function maxAbsDifference(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return Number.POSITIVE_INFINITY;
  let max = 0;
  for (let index = 0; index < a.length; index++) {
    const diff = Math.abs(a[index]! - b[index]!);
    if (!(diff <= max)) max = Number.isNaN(diff) ? Number.POSITIVE_INFINITY : diff;
  }
  return max;
}

/** Compares tfjs and onnxruntime on every input; shapes must agree too. */
export async function compareModels(
  tf: typeof tfType,
  model: tfType.LayersModel,
  session: ort.InferenceSession,
  inputs: ParityInput[],
  names: { input?: string; output?: string } = {},
): Promise<ParityReport> {
  const results: ParityResult[] = [];
  for (const input of inputs) {
    const expected = runTfjsNchw(tf, model, input);
    const actual = await runOnnx(session, input, names);
    const sameShape = expected.shape.join('x') === actual.shape.join('x');
    results.push({ label: input.label, maxAbsDiff: sameShape ? maxAbsDifference(expected.data, actual.data) : Number.POSITIVE_INFINITY });
  }
  return { maxAbsDiff: Math.max(0, ...results.map((result) => result.maxAbsDiff)), results };
}

/** Seeded standard-normal NCHW input (core/random.ts), for reproducible checks. */
export function randomInput(label: string, shape: [number, number, number, number], seed = 1): ParityInput {
  const rng = createRng(seed);
  const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
  for (let index = 0; index < data.length; index++) data[index] = rng.normal(0, 1);
  return { label, data, shape };
}

/** Throws E_MODEL when the report exceeds the tolerance, naming the worst input. */
export function assertParity(report: ParityReport, tolerance = PARITY_TOLERANCE): void {
  if (report.maxAbsDiff <= tolerance) return;
  const worst = report.results.reduce((a, b) => (b.maxAbsDiff > a.maxAbsDiff ? b : a));
  throw new EmsegError(
    'E_MODEL',
    `parity check failed: tfjs and onnxruntime differ by up to ${worst.maxAbsDiff.toExponential(3)} on ${worst.label} (tolerance ${tolerance})`,
  );
}
