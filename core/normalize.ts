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

/**
 * The statistics of one slice, accumulated in the pixel order of the slice (row-major) in two
 * passes: `addPixels` over every pixel (sum, min, max), then, once `mean` is known,
 * `addSquaredDeviations` over every pixel again. Feeding the pixels in pieces (rows, bands of
 * rows) in that order gives exactly the same float64 figures as feeding them at once, so a slice
 * read band by band from disk (core/stream-inference.ts) normalizes exactly like one in memory.
 */
export class SliceStatistics {
  count = 0;
  sum = 0;
  min = Infinity;
  max = -Infinity;
  squares = 0;

  /** First pass: sum, min and max of some pixels, in order. */
  addPixels(data: ArrayLike<number>): void {
    let { sum, min, max } = this;
    const n = data.length;
    for (let i = 0; i < n; i++) {
      const v = data[i]!;
      sum += v;
      if (v < min) min = v;
      if (v > max) max = v;
    }
    this.sum = sum;
    this.min = min;
    this.max = max;
    this.count += n;
  }

  /** The mean, after the first pass. */
  get mean(): number {
    return this.sum / this.count;
  }

  /** True when every pixel is equal (the slice then normalizes to zeros); after the first pass. */
  get constant(): boolean {
    return this.min === this.max;
  }

  /** Second pass: the squared deviations from `mean` of the same pixels, in the same order. */
  addSquaredDeviations(data: ArrayLike<number>): void {
    const mean = this.mean;
    let squares = this.squares;
    const n = data.length;
    for (let i = 0; i < n; i++) {
      const d = data[i]! - mean;
      squares += d * d;
    }
    this.squares = squares;
  }

  /** What normalizing needs: out = (x - mean) * scale; scale 0 for a constant slice (all zeros). */
  normalization(): SliceNormalization {
    if (this.count === 0) throw new RangeError('slice statistics: no pixels were added');
    if (this.constant) return { mean: this.mean, scale: 0 };
    return { mean: this.mean, scale: 1 / Math.sqrt(this.squares / this.count) };
  }
}

/** The affine map of a slice's normalization: out = (x - mean) * scale (scale 0: a constant slice). */
export interface SliceNormalization {
  mean: number;
  scale: number;
}

/** Applies a slice's normalization to some of its pixels (float32 out, computed in float64 as normalizeSlice does). */
export function applyNormalization(data: ArrayLike<number>, { mean, scale }: SliceNormalization, out = new Float32Array(data.length), offset = 0): Float32Array {
  if (scale === 0) {
    out.fill(0, offset, offset + data.length);
    return out;
  }
  for (let i = 0; i < data.length; i++) out[offset + i] = (data[i]! - mean) * scale;
  return out;
}

/** Normalizes one slice to zero mean and unit variance; returns `width * height` float32 values. */
export function normalizeSlice(image: GreyImage): Float32Array {
  const { data, width, height } = image;
  const n = data.length;
  if (n === 0 || n !== width * height) {
    throw new RangeError(`image: expected ${width}x${height} = ${width * height} pixels (at least one), found ${n}`);
  }
  const statistics = new SliceStatistics();
  statistics.addPixels(data);
  if (statistics.constant) return new Float32Array(n); // constant slice: zero mean, no scale to undo
  statistics.addSquaredDeviations(data);
  return applyNormalization(data, statistics.normalization());
}

/** The same as a GreyImage, for callers that carry images around. */
export function normalizedImage(image: GreyImage): GreyImage<Float32Array> {
  return { width: image.width, height: image.height, data: normalizeSlice(image) };
}
