/**
 * Concat and SplitV for float32 tensors on the wasm backend, as row copies between heap views.
 * The U-Net concatenates each skip connection with the up-sampled path along the channel axis
 * and the backward pass splits the gradient again; tfjs 4.22's wasm Concat reads every input out
 * of the heap (readSync) and copies the result back, and its SplitV is one strided Slice per part,
 * both 3-8x slower than these. Any other dtype goes to tfjs's own kernels.
 *
 * Both views the tensors as [outer, inner] matrices: outer = product of the axes before `axis`,
 * inner = the rest, and copy runs of `inner` values.
 */
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { heapView, sizeOf, type KernelFunc, type ProjectKernelConfig, type TensorInfo, type Tf } from './wasm-kernel-tools.ts';

/** Copies `length` values; a loop for short runs, where TypedArray.set's call overhead dominates. */
function copy(src: Float32Array, from: number, dst: Float32Array, to: number, length: number): void {
  if (length >= 64) {
    dst.set(src.subarray(from, from + length), to);
  } else {
    for (let k = 0; k < length; k++) dst[to + k] = src[from + k]!;
  }
}

function normalizeAxis(axis: number | number[], rank: number): number {
  const a = Array.isArray(axis) ? axis[0]! : axis;
  return a < 0 ? a + rank : a;
}

export function concatWasm(tf: Tf, backend: BackendWasm, inputs: TensorInfo[], axis: number): TensorInfo {
  const nonEmpty = inputs.filter((t) => sizeOf(t.shape) > 0);
  const rank = inputs[0]!.shape.length;
  const outShape = tf.backend_util.computeOutShape(inputs.map((t) => t.shape), axis);
  const out = backend.makeOutput(outShape, 'float32');
  const outer = sizeOf(outShape.slice(0, axis));
  const outInner = sizeOf(outShape.slice(axis));
  const dst = heapView(backend, out);
  let column = 0;
  for (const input of nonEmpty) {
    const inner = sizeOf(input.shape.slice(axis, rank));
    const src = heapView(backend, input);
    for (let r = 0; r < outer; r++) copy(src, r * inner, dst, r * outInner + column, inner);
    column += inner;
  }
  return out;
}

export function splitWasm(tf: Tf, backend: BackendWasm, x: TensorInfo, sizes: number[], axis: number): TensorInfo[] {
  const outer = sizeOf(x.shape.slice(0, axis));
  const after = sizeOf(x.shape.slice(axis + 1));
  const xInner = x.shape[axis]! * after;
  const outputs = sizes.map((s) => {
    const shape = [...x.shape];
    shape[axis] = s;
    return backend.makeOutput(shape, 'float32');
  });
  const src = heapView(backend, x);
  let column = 0;
  outputs.forEach((output, i) => {
    const inner = sizes[i]! * after;
    const dst = heapView(backend, output);
    for (let r = 0; r < outer; r++) copy(src, r * xInner + column, dst, r * inner, inner);
    column += inner;
  });
  return outputs;
}

export const concatConfig: ProjectKernelConfig = {
  kernelName: 'Concat',
  requiresFallback: true,
  setup: (tf: Tf, fallback: KernelFunc | undefined): KernelFunc => (args) => {
    const inputs = args.inputs as unknown as TensorInfo[];
    const { axis } = args.attrs as { axis: number | number[] };
    if (inputs.length < 2 || inputs.some((t) => t.dtype !== 'float32')) return fallback!(args);
    return concatWasm(tf, args.backend, inputs, normalizeAxis(axis, inputs[0]!.shape.length));
  },
};

export const splitVConfig: ProjectKernelConfig = {
  kernelName: 'SplitV',
  requiresFallback: true,
  setup: (tf: Tf, fallback: KernelFunc | undefined): KernelFunc => (args) => {
    const { x } = args.inputs as { x: TensorInfo };
    const { numOrSizeSplits, axis } = args.attrs as { numOrSizeSplits: number | number[]; axis: number | number[] };
    if (x.dtype !== 'float32') return fallback!(args);
    const $axis = normalizeAxis(axis, x.shape.length);
    const sizes = tf.backend_util.prepareSplitSize(x, numOrSizeSplits, $axis);
    return splitWasm(tf, args.backend, x, sizes, $axis);
  },
};
