/**
 * The contract's preprocessing (CONVENTIONS.md, core/contract.ts CONTRACT_PREPROCESSING): the pixel
 * values of one 2D slice as float, shifted and scaled to zero mean and unit variance over the whole
 * slice. Training, evaluation, the server and the browser all call this one function, before any
 * padding, tiling or cropping, so that every tile of an image sees the same statistics.
 *
 *   out[i] = (x[i] - mean) / std,   mean = sum(x) / N,   std = sqrt(sum((x - mean)^2) / N)
 *
 * - The statistics are accumulated in float64, the output is float32. The variance is the
 *   population variance (divided by N, not N - 1). 8- and 16-bit slices are counted into a
 *   histogram (the sum of integers is exact in float64; the squared deviations are summed per
 *   value), so their statistics need one pass over the pixels; float slices take two passes (mean,
 *   then squared deviations).
 * - 8-bit, 16-bit and float32 inputs are all taken at face value: no division by 255 first (it would
 *   cancel out anyway).
 * - A constant slice (every pixel equal, detected exactly by min === max) has std 0: it maps to all
 *   zeros instead of NaN, i.e. (x - mean) / 1.
 */
import type { GreyImage } from './image.ts';

/**
 * The statistics of one slice, fed in the pixel order of the slice (row-major), whole or in pieces
 * (rows, bands of rows): `addPixels` over every pixel, then, only when `needsSecondPass` (float
 * pixels were added), `addSquaredDeviations` over every pixel again in the same order. Integer
 * pixels go into a histogram and float pixels into running float64 sums, so feeding the pixels in
 * pieces gives exactly the same figures as feeding them at once: a slice read band by band from disk
 * (core/stream-inference.ts) normalizes exactly like one in memory.
 */
export class SliceStatistics {
  count = 0;
  /** Sum and squared deviations of the float pixels (the running sums of the two passes). */
  private floatSum = 0;
  private floatSquares = 0;
  private floatPixels = false;
  private floatMin = Infinity;
  private floatMax = -Infinity;
  /** Pixels per value of the 8- or 16-bit pixels (float64 counts: exact up to 2^53 pixels). */
  private histogram: Float64Array | undefined;

  /** First pass: count, sum, min and max of some pixels, in order. */
  addPixels(data: ArrayLike<number>): void {
    const n = data.length;
    if (data instanceof Uint8Array || data instanceof Uint16Array) {
      const bins = data instanceof Uint8Array && (this.histogram?.length ?? 256) === 256 ? 256 : 65536;
      if (!this.histogram || this.histogram.length < bins) {
        const wider = new Float64Array(bins);
        if (this.histogram) wider.set(this.histogram);
        this.histogram = wider;
      }
      const histogram = this.histogram;
      for (let i = 0; i < n; i++) histogram[data[i]!]!++;
      this.count += n;
      return;
    }
    let { floatSum: sum, floatMin: min, floatMax: max } = this;
    for (let i = 0; i < n; i++) {
      const v = data[i]!;
      sum += v;
      if (v < min) min = v;
      if (v > max) max = v;
    }
    this.floatSum = sum;
    this.floatMin = min;
    this.floatMax = max;
    this.count += n;
    this.floatPixels ||= n > 0;
  }

  /** The histogram's lowest and highest value, sum and squared deviations from `mean`. */
  private histogramFigures(mean?: number): { min: number; max: number; sum: number; squares: number } {
    const histogram = this.histogram;
    let min = Infinity;
    let max = -Infinity;
    let sum = 0;
    let squares = 0;
    if (histogram) {
      for (let v = 0; v < histogram.length; v++) {
        const count = histogram[v]!;
        if (count === 0) continue;
        if (v < min) min = v;
        max = v;
        sum += count * v;
        if (mean !== undefined) squares += count * (v - mean) * (v - mean);
      }
    }
    return { min, max, sum, squares };
  }

  /** The sum of every pixel added. */
  get sum(): number {
    return this.histogramFigures().sum + this.floatSum;
  }

  /** The mean, after the first pass. */
  get mean(): number {
    return this.sum / this.count;
  }

  /** True when every pixel is equal (the slice then normalizes to zeros); after the first pass. */
  get constant(): boolean {
    const { min, max } = this.histogramFigures();
    return Math.min(min, this.floatMin) === Math.max(max, this.floatMax);
  }

  /** True when float pixels were added: their squared deviations need `addSquaredDeviations`. */
  get needsSecondPass(): boolean {
    return this.floatPixels;
  }

  /** Second pass (float pixels only): the squared deviations from `mean` of the same pixels, in the same order. */
  addSquaredDeviations(data: ArrayLike<number>): void {
    if (data instanceof Uint8Array || data instanceof Uint16Array) return; // counted in the histogram
    const mean = this.mean;
    let squares = this.floatSquares;
    const n = data.length;
    for (let i = 0; i < n; i++) {
      const d = data[i]! - mean;
      squares += d * d;
    }
    this.floatSquares = squares;
  }

  /** What normalizing needs: out = (x - mean) * scale; scale 0 for a constant slice (all zeros). */
  normalization(): SliceNormalization {
    if (this.count === 0) throw new RangeError('slice statistics: no pixels were added');
    const mean = this.mean;
    if (this.constant) return { mean, scale: 0 };
    const squares = this.histogramFigures(mean).squares + this.floatSquares;
    return { mean, scale: 1 / Math.sqrt(squares / this.count) };
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

/**
 * The normalization of an image of the opposite contrast polarity (bright membranes): the same
 * mean and scale, negated, so that out = (mean - x) * scale, exactly the negative of the plain
 * normalization. Any inversion c - x of the intensities normalizes to the same values, so
 * `--invert` on an inverted image gives the model what the original image gives it.
 */
export function invertedNormalization({ mean, scale }: SliceNormalization): SliceNormalization {
  return { mean, scale: scale === 0 ? 0 : -scale };
}

export interface NormalizeOptions {
  /** Invert the contrast (invertedNormalization). Default false. */
  invert?: boolean;
}

/** Normalizes one slice to zero mean and unit variance; returns `width * height` float32 values. */
export function normalizeSlice(image: GreyImage, options: NormalizeOptions = {}): Float32Array {
  const { data, width, height } = image;
  const n = data.length;
  if (n === 0 || n !== width * height) {
    throw new RangeError(`image: expected ${width}x${height} = ${width * height} pixels (at least one), found ${n}`);
  }
  const statistics = new SliceStatistics();
  statistics.addPixels(data);
  if (statistics.constant) return new Float32Array(n); // constant slice: zero mean, no scale to undo
  if (statistics.needsSecondPass) statistics.addSquaredDeviations(data);
  const normalization = statistics.normalization();
  return applyNormalization(data, options.invert ? invertedNormalization(normalization) : normalization);
}

/** The same as a GreyImage, for callers that carry images around. */
export function normalizedImage(image: GreyImage): GreyImage<Float32Array> {
  return { width: image.width, height: image.height, data: normalizeSlice(image) };
}
