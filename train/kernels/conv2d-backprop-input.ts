/**
 * A faster Conv2DBackpropInput for the wasm backend. tfjs 4.22's wasm kernel is a scalar loop
 * (about 12x slower than the XNNPACK forward convolution of the same size), and it is on the
 * critical path twice in a U-Net: in the backward pass of every convolution and in the forward
 * pass of every Conv2DTranspose.
 *
 * - stride 1: dx is the convolution of dy with the kernel rotated by 180 degrees and its channel
 *   axes swapped, padded by (k - 1 - pad) on each side: one XNNPACK Conv2D.
 * - stride equal to the kernel size, no padding (the U-Net's 2x2 stride-2 up-convolution): the
 *   output blocks do not overlap, so dx = depthToSpace(dy [P, Cout] x W^T [Cout, kh*kw*Cin]):
 *   one XNNPACK matrix product, then a depth-to-space copy done here (wasm's DepthToSpace is a
 *   slow element-wise loop).
 * - anything else (dilations, other strides, padding larger than the kernel): tfjs's own kernel.
 */
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import {
  convInfoFor,
  disposeInfo,
  heapView,
  reshapeInfo,
  runWasmKernel,
  type KernelFunc as AnyKernelFunc,
  type NamedAttrMap,
  type ProjectKernelConfig,
  type TensorInfo,
  type Tf,
} from './wasm-kernel-tools.ts';

type KernelFunc = (args: { inputs: Record<string, TensorInfo>; backend: BackendWasm; attrs: NamedAttrMap }) => TensorInfo;

export function conv2dBackpropInputWasm(
  tf: Tf,
  backend: BackendWasm,
  dy: TensorInfo,
  filter: TensorInfo,
  attrs: NamedAttrMap,
  fallback: KernelFunc,
): TensorInfo {
  const inputShape = attrs['inputShape'] as [number, number, number, number];
  const filterShape = filter.shape as [number, number, number, number];
  const info = convInfoFor(tf, inputShape, filterShape, attrs, 'Conv2DBackpropInput');
  const { filterHeight: kh, filterWidth: kw, inChannels, outChannels, strideHeight, strideWidth } = info;
  const { top, bottom, left, right } = info.padInfo;
  const undilated = info.dilationHeight === 1 && info.dilationWidth === 1;
  if (undilated && strideHeight === 1 && strideWidth === 1 && Math.max(top, bottom) < kh && Math.max(left, right) < kw) {
    // Rotated, channel-swapped kernel: flipped[a, b, co, ci] = W[kh-1-a, kw-1-b, ci, co].
    const flipped = backend.makeOutput([kh, kw, outChannels, inChannels], 'float32');
    const w = heapView(backend, filter);
    const f = heapView(backend, flipped);
    for (let a = 0; a < kh; a++) {
      for (let b = 0; b < kw; b++) {
        const src = ((kh - 1 - a) * kw + (kw - 1 - b)) * inChannels * outChannels;
        const dst = (a * kw + b) * outChannels * inChannels;
        for (let ci = 0; ci < inChannels; ci++) {
          for (let co = 0; co < outChannels; co++) f[dst + co * inChannels + ci] = w[src + ci * outChannels + co]!;
        }
      }
    }
    const pad = [
      [0, 0],
      [kh - 1 - top, kh - 1 - bottom],
      [kw - 1 - left, kw - 1 - right],
      [0, 0],
    ];
    const dx = runWasmKernel(tf, backend, 'Conv2D', { x: dy, filter: flipped }, { strides: 1, pad, dilations: 1, dataFormat: 'NHWC', dimRoundingMode: undefined });
    disposeInfo(backend, flipped);
    return dx;
  }
  const nonOverlapping =
    undilated &&
    strideHeight === kh &&
    strideWidth === kw &&
    kh === kw &&
    top === 0 &&
    left === 0 &&
    info.outHeight * kh === info.inHeight &&
    info.outWidth * kw === info.inWidth;
  if (nonOverlapping) {
    // wT[co, (a*kw + b)*Cin + ci] = W[a, b, ci, co]
    const blockChannels = kh * kw * inChannels;
    const wT = backend.makeOutput([1, outChannels, blockChannels], 'float32');
    const w = heapView(backend, filter);
    const t = heapView(backend, wT);
    for (let k = 0; k < blockChannels; k++) {
      for (let co = 0; co < outChannels; co++) t[co * blockChannels + k] = w[k * outChannels + co]!;
    }
    const { batchSize, outHeight, outWidth, inHeight, inWidth } = info;
    const pixels = batchSize * outHeight * outWidth;
    const dy3 = reshapeInfo(tf, backend, dy, [1, pixels, outChannels]);
    const blocks = runWasmKernel(tf, backend, 'BatchMatMul', { a: dy3, b: wT }, { transposeA: false, transposeB: false });
    disposeInfo(backend, wT, dy3);
    // Depth to space: block row a of pixel (n, i, j) is kw*Cin contiguous values of output row i*kh + a.
    const dx = backend.makeOutput(inputShape, 'float32');
    const src = heapView(backend, blocks);
    const dst = heapView(backend, dx);
    const run = kw * inChannels;
    let from = 0;
    for (let n = 0; n < batchSize; n++) {
      for (let i = 0; i < outHeight; i++) {
        for (let j = 0; j < outWidth; j++) {
          for (let a = 0; a < kh; a++) {
            let to = ((n * inHeight + i * kh + a) * inWidth + j * kw) * inChannels;
            const end = from + run;
            while (from < end) dst[to++] = src[from++]!;
          }
        }
      }
    }
    disposeInfo(backend, blocks);
    return dx;
  }
  return fallback({ inputs: { dy, filter }, backend, attrs });
}

/** Replaces tfjs's wasm Conv2DBackpropInput, keeping it as the fallback for the cases above. */
export const conv2dBackpropInputConfig: ProjectKernelConfig = {
  kernelName: 'Conv2DBackpropInput',
  requiresFallback: true,
  setup: (tf: Tf, fallback: AnyKernelFunc | undefined): AnyKernelFunc => ({ inputs, backend, attrs }) => {
    const { dy, filter } = inputs as { dy: TensorInfo; filter: TensorInfo };
    return conv2dBackpropInputWasm(tf, backend, dy, filter, attrs, fallback as KernelFunc);
  },
};
