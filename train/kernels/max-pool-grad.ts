/**
 * MaxPoolGrad for the wasm backend in JavaScript: each dy value goes to the position of its
 * window's maximum (the first one in row-major window order on ties, as tfjs's cpu backend
 * does). tfjs 4.22's wasm kernel is about 3x slower for the U-Net's 2x2 pools. NHWC, any
 * window, stride and padding, no dilation (pooling in tfjs has none).
 */
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { heapView, type KernelFunc, type NamedAttrMap, type ProjectKernelConfig, type TensorInfo, type Tf } from './wasm-kernel-tools.ts';

export function maxPoolGradWasm(tf: Tf, backend: BackendWasm, dy: TensorInfo, input: TensorInfo, attrs: NamedAttrMap): TensorInfo {
  const info = tf.backend_util.computePool2DInfo(
    input.shape as [number, number, number, number],
    attrs['filterSize'] as [number, number] | number,
    attrs['strides'] as [number, number] | number,
    1,
    attrs['pad'] as 'valid' | 'same' | number,
    attrs['dimRoundingMode'] as 'floor' | 'round' | 'ceil' | undefined,
  );
  const { batchSize, inHeight, inWidth, inChannels: channels, outHeight, outWidth, strideHeight, strideWidth } = info;
  const filterHeight = info.effectiveFilterHeight;
  const filterWidth = info.effectiveFilterWidth;
  const { top, left } = info.padInfo;
  const dx = backend.makeOutput(input.shape, 'float32');
  const out = heapView(backend, dx);
  const xs = heapView(backend, input);
  const dys = heapView(backend, dy);
  const tiling =
    filterHeight === 2 && filterWidth === 2 && strideHeight === 2 && strideWidth === 2 && top === 0 && left === 0 && inHeight === 2 * outHeight && inWidth === 2 * outWidth;
  if (tiling) {
    twoByTwo(xs, dys, out, batchSize, outHeight, outWidth, channels);
    return dx;
  }
  out.fill(0);
  for (let n = 0; n < batchSize; n++) {
    const imageBase = n * inHeight * inWidth;
    for (let i = 0; i < outHeight; i++) {
      const y0 = i * strideHeight - top;
      const yStart = Math.max(0, y0);
      const yEnd = Math.min(inHeight, y0 + filterHeight);
      for (let j = 0; j < outWidth; j++) {
        const x0 = j * strideWidth - left;
        const xStart = Math.max(0, x0);
        const xEnd = Math.min(inWidth, x0 + filterWidth);
        const dyBase = ((n * outHeight + i) * outWidth + j) * channels;
        for (let c = 0; c < channels; c++) {
          let best = -Infinity;
          let bestIndex = -1;
          for (let y = yStart; y < yEnd; y++) {
            for (let x = xStart; x < xEnd; x++) {
              const index = (imageBase + y * inWidth + x) * channels + c;
              const value = xs[index]!;
              if (value > best) {
                best = value;
                bestIndex = index;
              }
            }
          }
          if (bestIndex >= 0) out[bestIndex]! += dys[dyBase + c]!;
        }
      }
    }
  }
  return dx;
}

/**
 * The U-Net's case, 2x2 windows that tile the input: every input position belongs to exactly one
 * window, so each one is written once (dy at the window's first maximum, 0 elsewhere).
 */
function twoByTwo(xs: Float32Array, dys: Float32Array, out: Float32Array, batchSize: number, outHeight: number, outWidth: number, channels: number): void {
  const rowStride = 2 * outWidth * channels;
  let d = 0;
  for (let n = 0; n < batchSize; n++) {
    for (let i = 0; i < outHeight; i++) {
      let p00 = (n * outHeight + i) * 2 * rowStride;
      for (let j = 0; j < outWidth; j++, p00 += 2 * channels) {
        for (let c = 0; c < channels; c++, d++) {
          const i00 = p00 + c;
          const i01 = i00 + channels;
          const i10 = i00 + rowStride;
          const i11 = i10 + channels;
          const v00 = xs[i00]!;
          const v01 = xs[i01]!;
          const v10 = xs[i10]!;
          const v11 = xs[i11]!;
          // First maximum in row-major window order (strict >), as tfjs's cpu backend.
          let best = v00;
          let k = 0;
          if (v01 > best) {
            best = v01;
            k = 1;
          }
          if (v10 > best) {
            best = v10;
            k = 2;
          }
          if (v11 > best) k = 3;
          const g = dys[d]!;
          out[i00] = k === 0 ? g : 0;
          out[i01] = k === 1 ? g : 0;
          out[i10] = k === 2 ? g : 0;
          out[i11] = k === 3 ? g : 0;
        }
      }
    }
  }
}

export const maxPoolGradConfig: ProjectKernelConfig = {
  kernelName: 'MaxPoolGrad',
  requiresFallback: false,
  setup: (tf: Tf): KernelFunc => ({ inputs, backend, attrs }) => {
    const { dy, input } = inputs as { dy: TensorInfo; input: TensorInfo };
    return maxPoolGradWasm(tf, backend, dy, input, attrs);
  },
};
