/**
 * Conv2DBackpropFilter for the wasm backend, which has none in tfjs 4.22 ("Kernel
 * 'Conv2DBackpropFilter' not registered for backend 'wasm'").
 *
 * dW[a, b, ci, co] = sum over n, i, j of x[n, i*sh - top + a*dh, j*sw - left + b*dw, ci] * dy[n, i, j, co]
 *
 * as matrix products that wasm's BatchMatMul sends to XNNPACK (only the untransposed product is
 * fast there: with transposeA or transposeB it falls back to a scalar loop ten times slower):
 *
 * - stride 1, large images: x and dy laid out on a zero-padded grid, then one product per kernel
 *   tap, [Cin, L] x [L, Cout], whose left side is a view of the padded x shifted by the tap's
 *   offset: no im2col copy at all (filterGradientStride1Views);
 * - stride 1, small images: one product colT [kh*kw*Cin, L] x dyGrid [L, Cout], colT built from
 *   contiguous copies of the padded x (filterGradientStride1Im2col);
 * - other strides and dilations: the same with colT gathered row by row from x transposed to
 *   channels-first (filterGradientGeneral).
 *
 * colT's row order (a, b, ci) is the filter's own layout, so no transpose follows. im2col is
 * built in chunks of images so that it stays under COLUMN_BUDGET floats; chunk results are added
 * in a fixed order (deterministic).
 */
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import {
  convInfoFor,
  disposeInfo,
  heapView,
  reshapeInfo,
  runWasmKernel,
  type KernelFunc,
  type NamedAttrMap,
  type ProjectKernelConfig,
  type TensorInfo,
  type Tf,
} from './wasm-kernel-tools.ts';

/** Largest im2col buffer built at once, in floats (default 48M floats, 192 MiB). */
export let COLUMN_BUDGET = 48 * 1024 * 1024;

/**
 * Stride 1 with at least this many grid columns (images x padded pixels) uses one product per
 * kernel tap on views of the padded input (no im2col copy): 1.5-1.9x faster for the U-Net's top
 * levels; below it, the per-product overhead makes one im2col product faster.
 */
export let VIEW_MIN_COLUMNS = 4096;

/** Changes the view threshold (tests force each path). */
export function setViewMinColumns(columns: number): void {
  VIEW_MIN_COLUMNS = columns;
}

/** Changes the im2col budget (tests use a tiny one to exercise chunking). */
export function setColumnBudget(floats: number): void {
  if (!(Number.isInteger(floats) && floats > 0)) throw new RangeError(`im2col budget: expected a positive integer, found ${floats}`);
  COLUMN_BUDGET = floats;
}

export function conv2dBackpropFilterWasm(tf: Tf, backend: BackendWasm, x: TensorInfo, dy: TensorInfo, attrs: NamedAttrMap): TensorInfo {
  const filterShape = attrs['filterShape'] as [number, number, number, number];
  const info = convInfoFor(tf, x.shape as [number, number, number, number], filterShape, attrs, 'Conv2DBackpropFilter');
  const unitSteps = info.strideHeight === 1 && info.strideWidth === 1 && info.dilationHeight === 1 && info.dilationWidth === 1;
  const gridColumns = info.batchSize * (info.outHeight + info.filterHeight - 1) * (info.outWidth + info.filterWidth - 1);
  const result = !unitSteps
    ? filterGradientGeneral(tf, backend, x, dy, info)
    : gridColumns >= VIEW_MIN_COLUMNS
      ? filterGradientStride1Views(tf, backend, x, dy, info)
      : filterGradientStride1Im2col(tf, backend, x, dy, info);
  const reshaped = reshapeInfo(tf, backend, result, filterShape);
  disposeInfo(backend, result);
  return reshaped;
}

/**
 * Stride 1, large images (the top levels), without im2col: x is laid out channels-first on a zero-padded grid of
 * Hp x Wp = (Ho + kh - 1) x (Wo + kw - 1) per image, xGrid [Cin, N*Hp*Wp], and dy on the same grid
 * (zero outside Ho x Wo), dyGrid [N*Hp*Wp, Cout]. On that grid tap (a, b) of an output pixel is the
 * pixel s = a*Wp + b further on, so dW[a, b] = xGrid[:, s : s + L] x dyGrid, and
 * xGrid[:, s : s + L] with rows L apart is simply xGrid's buffer read from s on: a view, not a
 * copy. The columns a view reads past the end of a channel's plane (the next channel's first
 * values) meet only zeros of dyGrid (the padding rows of the last image). kh*kw XNNPACK products of
 * [Cin, L] x [L, Cout], all with the same right-hand side.
 */
function filterGradientStride1Views(tf: Tf, backend: BackendWasm, x: TensorInfo, dy: TensorInfo, info: ConvInfo): TensorInfo {
  const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth, outChannels, filterHeight, filterWidth } = info;
  const { top, left } = info.padInfo;
  const gridHeight = outHeight + filterHeight - 1;
  const gridWidth = outWidth + filterWidth - 1;
  const plane = gridHeight * gridWidth;
  const columns = batchSize * plane;
  const maxShift = (filterHeight - 1) * gridWidth + filterWidth - 1;

  const xGrid = backend.makeOutput([inChannels * columns + maxShift], 'float32');
  const dyGrid = backend.makeOutput([1, columns, outChannels], 'float32');
  {
    const xs = heapView(backend, x);
    const grid = heapView(backend, xGrid);
    grid.fill(0);
    for (let n = 0; n < batchSize; n++) {
      for (let y = 0; y < inHeight; y++) {
        const gy = y + top;
        if (gy < 0 || gy >= gridHeight) continue;
        for (let xx = 0; xx < inWidth; xx++) {
          const gx = xx + left;
          if (gx < 0 || gx >= gridWidth) continue;
          const src = ((n * inHeight + y) * inWidth + xx) * inChannels;
          let dst = n * plane + gy * gridWidth + gx;
          for (let ci = 0; ci < inChannels; ci++, dst += columns) grid[dst] = xs[src + ci]!;
        }
      }
    }
    const dys = heapView(backend, dy);
    const dyg = heapView(backend, dyGrid);
    dyg.fill(0);
    const rowLength = outWidth * outChannels;
    for (let n = 0; n < batchSize; n++) {
      for (let i = 0; i < outHeight; i++) {
        const src = (n * outHeight + i) * rowLength;
        dyg.set(dys.subarray(src, src + rowLength), (n * plane + i * gridWidth) * outChannels);
      }
    }
  }
  const result = backend.makeOutput([filterHeight, filterWidth, inChannels, outChannels], 'float32');
  const base = backend.dataIdMap.get(xGrid.dataId)!.memoryOffset;
  const tapSize = inChannels * outChannels;
  for (let a = 0; a < filterHeight; a++) {
    for (let b = 0; b < filterWidth; b++) {
      const shift = a * gridWidth + b;
      const view = backend.makeOutput([1, inChannels, columns], 'float32', base + 4 * shift);
      const product = runWasmKernel(tf, backend, 'BatchMatMul', { a: view, b: dyGrid }, { transposeA: false, transposeB: false });
      disposeView(backend, view);
      heapView(backend, result).set(heapView(backend, product), (a * filterWidth + b) * tapSize);
      disposeInfo(backend, product);
    }
  }
  disposeInfo(backend, xGrid, dyGrid);
  return result;
}

/**
 * Stride 1, small images (the deep levels): one product colT x dyGrid. x is laid out channels-first on a zero-padded grid of
 * (Ho + kh - 1) x (Wo + kw - 1) per image, and dy on the same grid (zero outside Ho x Wo). On
 * that grid, tap (a, b) of every output pixel is the pixel a*Wp + b further on, so each row
 * (a, b, ci) of colT is ONE contiguous copy of the padded plane of ci. The few extra columns
 * (the padding) meet zeros in dy and add nothing.
 */
function filterGradientStride1Im2col(tf: Tf, backend: BackendWasm, x: TensorInfo, dy: TensorInfo, info: ConvInfo): TensorInfo {
  const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth, outChannels, filterHeight, filterWidth } = info;
  const { top, left } = info.padInfo;
  const gridHeight = outHeight + filterHeight - 1;
  const gridWidth = outWidth + filterWidth - 1;
  const plane = gridHeight * gridWidth;
  const rows = filterHeight * filterWidth * inChannels;
  const imagesPerChunk = Math.max(1, Math.min(batchSize, Math.floor(COLUMN_BUDGET / (rows * plane))));

  // xGrid[ci][n][y][x], zero-padded (a fresh Float32Array is zeros).
  const xGrid = new Float32Array(inChannels * batchSize * plane);
  const channelStride = batchSize * plane;
  {
    const xs = heapView(backend, x);
    for (let n = 0; n < batchSize; n++) {
      for (let y = 0; y < inHeight; y++) {
        const gy = y + top;
        if (gy < 0 || gy >= gridHeight) continue;
        for (let xx = 0; xx < inWidth; xx++) {
          const gx = xx + left;
          if (gx < 0 || gx >= gridWidth) continue;
          const src = ((n * inHeight + y) * inWidth + xx) * inChannels;
          let dst = n * plane + gy * gridWidth + gx;
          for (let ci = 0; ci < inChannels; ci++, dst += channelStride) xGrid[dst] = xs[src + ci]!;
        }
      }
    }
  }
  let total: TensorInfo | undefined;
  for (let n0 = 0; n0 < batchSize; n0 += imagesPerChunk) {
    const chunk = Math.min(imagesPerChunk, batchSize - n0);
    const columns = chunk * plane;
    const colT = backend.makeOutput([1, rows, columns], 'float32');
    const dyGrid = backend.makeOutput([1, columns, outChannels], 'float32');
    const col = heapView(backend, colT);
    const dyg = heapView(backend, dyGrid);
    const dys = heapView(backend, dy);
    dyg.fill(0);
    const rowLength = outWidth * outChannels;
    for (let n = 0; n < chunk; n++) {
      for (let i = 0; i < outHeight; i++) {
        const src = ((n0 + n) * outHeight + i) * rowLength;
        dyg.set(dys.subarray(src, src + rowLength), (n * plane + i * gridWidth) * outChannels);
      }
    }
    let row = 0;
    for (let a = 0; a < filterHeight; a++) {
      for (let b = 0; b < filterWidth; b++) {
        for (let ci = 0; ci < inChannels; ci++, row++) {
          const start = ci * channelStride + n0 * plane + a * gridWidth + b;
          const available = Math.min(columns, (ci + 1) * channelStride - start);
          const out = row * columns;
          col.set(xGrid.subarray(start, start + available), out);
          if (available < columns) col.fill(0, out + available, out + columns);
        }
      }
    }
    const product = runWasmKernel(tf, backend, 'BatchMatMul', { a: colT, b: dyGrid }, { transposeA: false, transposeB: false });
    disposeInfo(backend, colT, dyGrid);
    total = accumulate(tf, backend, total, product);
  }
  return total!;
}

/** Forgets a tensor made by makeOutput over memory it does not own, without freeing that memory. */
function disposeView(backend: BackendWasm, view: TensorInfo): void {
  const data = backend.dataIdMap.get(view.dataId);
  if (data === undefined) return;
  backend.wasm.tfjs.disposeData(data.id);
  backend.dataIdMap.delete(view.dataId);
}

function accumulate(tf: Tf, backend: BackendWasm, total: TensorInfo | undefined, product: TensorInfo): TensorInfo {
  if (total === undefined) return product;
  const sum = runWasmKernel(tf, backend, 'Add', { a: total, b: product });
  disposeInfo(backend, total, product);
  return sum;
}

type ConvInfo = ReturnType<typeof convInfoFor>;

/** Any stride and dilation: colT built row by row from x transposed to channels-first. */
function filterGradientGeneral(tf: Tf, backend: BackendWasm, x: TensorInfo, dy: TensorInfo, info: ConvInfo): TensorInfo {
  const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth, outChannels, filterHeight, filterWidth } = info;
  const { strideHeight, strideWidth, dilationHeight, dilationWidth } = info;
  const top = info.padInfo.top;
  const left = info.padInfo.left;
  const rows = filterHeight * filterWidth * inChannels;
  const pixelsPerImage = outHeight * outWidth;
  const imagesPerChunk = Math.max(1, Math.min(batchSize, Math.floor(COLUMN_BUDGET / (rows * pixelsPerImage))));

  // x as channels-first [Cin, N, H, W]: each (ci, n, row) is contiguous.
  const xT = runWasmKernel(tf, backend, 'Transpose', { x }, { perm: [3, 0, 1, 2] });
  let total: TensorInfo | undefined;
  for (let n0 = 0; n0 < batchSize; n0 += imagesPerChunk) {
    const chunk = Math.min(imagesPerChunk, batchSize - n0);
    const columnCount = chunk * pixelsPerImage;
    const colT = backend.makeOutput([1, rows, columnCount], 'float32');
    const dy3 = dyRows(tf, backend, dy, batchSize, n0, chunk, [1, columnCount, outChannels]);
    const xData = heapView(backend, xT);
    const col = heapView(backend, colT);
    let row = 0;
    for (let a = 0; a < filterHeight; a++) {
      for (let b = 0; b < filterWidth; b++) {
        for (let ci = 0; ci < inChannels; ci++, row++) {
          let out = row * columnCount;
          for (let n = n0; n < n0 + chunk; n++) {
            const plane = (ci * batchSize + n) * inHeight * inWidth;
            for (let i = 0; i < outHeight; i++) {
              const y = i * strideHeight - top + a * dilationHeight;
              if (y < 0 || y >= inHeight) {
                col.fill(0, out, out + outWidth);
                out += outWidth;
                continue;
              }
              const rowStart = plane + y * inWidth;
              const x0 = -left + b * dilationWidth; // input column of output column 0
              if (strideWidth === 1) {
                // Output columns j with 0 <= j + x0 < inWidth copy a contiguous run.
                const jFirst = Math.max(0, -x0);
                const jEnd = Math.min(outWidth, inWidth - x0);
                if (jFirst > 0) col.fill(0, out, out + Math.min(jFirst, outWidth));
                if (jEnd > jFirst) col.set(xData.subarray(rowStart + jFirst + x0, rowStart + jEnd + x0), out + jFirst);
                if (jEnd < outWidth) col.fill(0, out + Math.max(jEnd, 0), out + outWidth);
              } else {
                for (let j = 0; j < outWidth; j++) {
                  const xc = j * strideWidth + x0;
                  col[out + j] = xc >= 0 && xc < inWidth ? xData[rowStart + xc]! : 0;
                }
              }
              out += outWidth;
            }
          }
        }
      }
    }
    const product = runWasmKernel(tf, backend, 'BatchMatMul', { a: colT, b: dy3 }, { transposeA: false, transposeB: false });
    disposeInfo(backend, colT, dy3);
    total = accumulate(tf, backend, total, product);
  }
  disposeInfo(backend, xT);
  return total!;
}

/** Images n0 .. n0+count-1 of dy as a tensor of `shape` (a view when that is all of dy). */
function dyRows(tf: Tf, backend: BackendWasm, dy: TensorInfo, batchSize: number, n0: number, count: number, shape: number[]): TensorInfo {
  if (count === batchSize) return reshapeInfo(tf, backend, dy, shape);
  const flat = reshapeInfo(tf, backend, dy, [batchSize, -1]);
  const perImage = flat.shape[1]!;
  const rows = runWasmKernel(tf, backend, 'Slice', { x: flat }, { begin: [n0, 0], size: [count, perImage] });
  const result = reshapeInfo(tf, backend, rows, shape);
  disposeInfo(backend, flat, rows);
  return result;
}

/** tfjs 4.22's wasm backend has no Conv2DBackpropFilter: this one is the only one. */
export const conv2dBackpropFilterConfig: ProjectKernelConfig = {
  kernelName: 'Conv2DBackpropFilter',
  requiresFallback: false,
  setup: (tf: Tf): KernelFunc => ({ inputs, backend, attrs }) => {
    const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
    return conv2dBackpropFilterWasm(tf, backend, x, dy, attrs);
  },
};
