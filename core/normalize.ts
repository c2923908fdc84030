/**
 * The contract's preprocessing (CONVENTIONS.md, core/contract.ts CONTRACT_PREPROCESSING): the pixel
 * values of one 2D slice as float, shifted and scaled to zero mean and unit variance over the whole
 * slice. Training, evaluation, the server and the browser all call this one function, before any
 * padding, tiling or cropping, so that every tile of an image sees the same statistics.
 *
 *   out[i] = (x[i] - mean) / std,   mean = sum(x) / N,   std = sqrt(sum((x - mean)^2) / N)
 *
 * - The statistics are accumulated in float64 (two passes: mean, then squared deviations), the output
 *   is float32. The variance is the population variance (divided by N, not N - 1).
 * - 8-bit, 16-bit and float32 inputs are all taken at face value: no division by 255 first (it would
 *   cancel out anyway).
 * - A constant slice (every pixel equal, detected exactly by min === max) has std 0: it maps to all
 *   zeros instead of NaN, i.e. (x - mean) / 1.
 */
import type { GreyImage } from './image.ts';

/** Normalizes one slice to zero mean and unit variance; returns `width * height` float32 values. */
export function normalizeSlice(image: GreyImage): Float32Array {
  const { data, width, height } = image;
  const n = data.length;
  if (n === 0 || n !== width * height) {
    throw new RangeError(`image: expected ${width}x${height} = ${width * height} pixels (at least one), found ${n}`);
  }
  let sum = 0;
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < n; i++) {
    const v = data[i]!;
    sum += v;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const mean = sum / n;
  const out = new Float32Array(n);
  if (min === max) return out; // constant slice: zero mean, no scale to undo
  let squares = 0;
  for (let i = 0; i < n; i++) {
    const d = data[i]! - mean;
    squares += d * d;
  }
  const scale = 1 / Math.sqrt(squares / n);
  for (let i = 0; i < n; i++) out[i] = (data[i]! - mean) * scale;
  return out;
}

/** The same as a GreyImage, for callers that carry images around. */
export function normalizedImage(image: GreyImage): GreyImage<Float32Array> {
  return { width: image.width, height: image.height, data: normalizeSlice(image) };
}
