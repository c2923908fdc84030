/**
 * Augmentations that mimic other microscopes and labs (the "shift" augmentations of `emseg train`,
 * on by default, `--no-shift-augment` turns them off): what differs between ISBI's ssTEM slices
 * and another lab's images once both are normalized per slice as the model contract says.
 *
 * A global brightness or contrast change is cancelled by that normalization, so what is left to
 * learn is the shape of the intensity distribution and the texture:
 * - pixel size: the crop is sampled at a scale drawn log-uniformly in [1 / maxScale, maxScale]
 *   (train/augment.ts applies it with the flips and the elastic field);
 * - blur (focus, resolution): Gaussian, sigma uniform in `blurSigma`;
 * - noise (detector, dose): Gaussian, sigma a fraction (`noise`) of the crop's standard deviation;
 * - gamma (detector response, display curves): gamma drawn log-uniformly in [1 / maxGamma, maxGamma];
 * - saturation (over-exposed or clipped acquisitions): contrast raised by up to `saturation`, the
 *   intensities clipped to the range;
 * - JPEG artefacts (images stored lossy): JPEG's 8x8 DCT quantization (core/image-filters.ts) at a
 *   quality uniform in `jpegQuality`;
 * - section defects: a missing strip (filled with the crop's mean) or a fold (a dark band across the
 *   crop); the labels under a defect are ignored (no loss there), since no one can see them.
 * Each applies with its own probability. The appearance changes work on the crop mapped to [0, 1]
 * by its own minimum and maximum, and the result is brought back to the crop's mean and standard
 * deviation before it (moment matching: what the per-slice normalization does to a whole slice),
 * before the intensity jitter of train/augment.ts.
 *
 * All randomness comes from the caller's seeded generator, in a fixed order (the per-pixel noise
 * from a generator seeded by one draw), so a batch stays a pure function of the generator's state.
 */
import { IGNORED_TARGET } from './batch.ts';
import { Rng } from '../core/random.ts';
import { gaussianBlur, jpegArtefacts } from '../core/image-filters.ts';

export interface ShiftOptions {
  /** Largest pixel-size factor: the scale is drawn log-uniformly in [1 / maxScale, maxScale]. Default 1.25. */
  maxScale: number;
  /** Probability and sigma range (pixels) of the Gaussian blur. Default 0.25, [0.4, 1.5]. */
  blur: { p: number; sigma: [number, number] };
  /** Probability and range of the noise sigma, as a fraction of the crop's standard deviation. Default 0.25, [0.05, 0.4]. */
  noise: { p: number; fraction: [number, number] };
  /** Probability and largest factor of the gamma curve (drawn log-uniformly in [1 / max, max]). Default 0.5, 1.6. */
  gamma: { p: number; max: number };
  /** Probability and largest contrast gain before clipping to the range. Default 0.2, 1.4. */
  saturation: { p: number; maxGain: number };
  /** Probability and quality range of the JPEG-like artefacts. Default 0.2, [30, 85]. */
  jpeg: { p: number; quality: [number, number] };
  /** Probability of a section defect (strip or fold, even odds) and its width range in pixels. Default 0.1, [3, 20]. */
  defect: { p: number; width: [number, number] };
}

export const SHIFT_DEFAULTS: ShiftOptions = {
  maxScale: 1.25,
  blur: { p: 0.25, sigma: [0.4, 1.5] },
  noise: { p: 0.25, fraction: [0.05, 0.4] },
  gamma: { p: 0.5, max: 1.6 },
  saturation: { p: 0.2, maxGain: 1.4 },
  jpeg: { p: 0.2, quality: [30, 85] },
  defect: { p: 0.1, width: [3, 20] },
};

/** One crop's draw of the shifts; 0 / 1 / null where a shift does not apply. */
export interface CropShift {
  /** Pixel-size factor: the crop covers `scale` times as many slice pixels per side. */
  scale: number;
  blurSigma: number;
  noiseFraction: number;
  /** Seed of the per-pixel noise. */
  noiseSeed: number;
  gamma: number;
  /** Contrast gain about the crop's mid-grey before clipping to [0, 1]; 1 = none. */
  saturationGain: number;
  /** JPEG quality 1-100, 0 = none. */
  jpegQuality: number;
  defect: null | { kind: 'strip' | 'fold'; width: number; position: number; angle: number };
}

/** Checks the options; throws a RangeError naming the first bad value. */
export function checkShiftOptions(options: ShiftOptions): ShiftOptions {
  const probability = (name: string, p: number) => {
    if (!(p >= 0 && p <= 1)) throw new RangeError(`augment.shifts.${name}.p: expected a probability in [0, 1], found ${p}`);
  };
  const range = (name: string, [a, b]: [number, number], min: number) => {
    if (!(Number.isFinite(a) && Number.isFinite(b) && a >= min && b >= a)) throw new RangeError(`augment.shifts.${name}: expected [low, high] with ${min} <= low <= high, found [${a}, ${b}]`);
  };
  if (!(options.maxScale >= 1 && options.maxScale <= 4)) throw new RangeError(`augment.shifts.maxScale: expected a number in [1, 4], found ${options.maxScale}`);
  probability('blur', options.blur.p);
  range('blur.sigma', options.blur.sigma, 0);
  probability('noise', options.noise.p);
  range('noise.fraction', options.noise.fraction, 0);
  probability('gamma', options.gamma.p);
  if (!(options.gamma.max >= 1 && options.gamma.max <= 10)) throw new RangeError(`augment.shifts.gamma.max: expected a number in [1, 10], found ${options.gamma.max}`);
  probability('saturation', options.saturation.p);
  if (!(options.saturation.maxGain >= 1 && options.saturation.maxGain <= 10)) throw new RangeError(`augment.shifts.saturation.maxGain: expected a number in [1, 10], found ${options.saturation.maxGain}`);
  probability('jpeg', options.jpeg.p);
  range('jpeg.quality', options.jpeg.quality, 1);
  if (options.jpeg.quality[1] > 100) throw new RangeError(`augment.shifts.jpeg.quality: expected qualities up to 100, found ${options.jpeg.quality[1]}`);
  probability('defect', options.defect.p);
  range('defect.width', options.defect.width, 1);
  return options;
}

const logUniform = (rng: Rng, max: number) => (max === 1 ? 1 : Math.exp(rng.uniform(-Math.log(max), Math.log(max))));

/** Draws one crop's shifts, always in the same order and number of draws. */
export function drawCropShift(rng: Rng, options: ShiftOptions): CropShift {
  const scale = logUniform(rng, options.maxScale);
  const blur = rng.bool(options.blur.p);
  const blurSigma = rng.uniform(...options.blur.sigma);
  const noise = rng.bool(options.noise.p);
  const noiseFraction = rng.uniform(...options.noise.fraction);
  const noiseSeed = rng.int(0, 2 ** 31);
  const gammaOn = rng.bool(options.gamma.p);
  const gamma = logUniform(rng, options.gamma.max);
  const saturation = rng.bool(options.saturation.p);
  const saturationGain = rng.uniform(1, options.saturation.maxGain);
  const jpeg = rng.bool(options.jpeg.p);
  const jpegQuality = Math.round(rng.uniform(...options.jpeg.quality));
  const defectOn = rng.bool(options.defect.p);
  const kind = rng.bool(0.5) ? 'strip' : 'fold';
  const width = rng.uniform(...options.defect.width);
  const position = rng.float();
  const angle = rng.uniform(0, Math.PI);
  return {
    scale,
    blurSigma: blur ? blurSigma : 0,
    noiseFraction: noise ? noiseFraction : 0,
    noiseSeed,
    gamma: gammaOn ? gamma : 1,
    saturationGain: saturation ? saturationGain : 1,
    jpegQuality: jpeg ? jpegQuality : 0,
    defect: defectOn ? { kind, width, position, angle } : null,
  };
}

/** True when the shift changes the crop's pixels (not only its scale). */
export function changesAppearance(shift: CropShift): boolean {
  return changesIntensities(shift) || shift.defect !== null;
}

function meanAndStd(values: Float32Array): [number, number] {
  let sum = 0;
  let sumSq = 0;
  for (let i = 0; i < values.length; i++) {
    sum += values[i]!;
    sumSq += values[i]! * values[i]!;
  }
  const mean = sum / values.length;
  return [mean, Math.sqrt(Math.max(0, sumSq / values.length - mean * mean))];
}

/**
 * Applies the appearance part of `shift` to one size x size crop in place: `image` (normalized
 * intensities) and `label` (targets; defects set IGNORED_TARGET) are that crop's own views.
 */
export function applyCropShift(image: Float32Array, label: Float32Array, size: number, shift: CropShift): void {
  if (image.length !== size * size || label.length !== size * size) throw new RangeError(`applyCropShift: expected ${size * size} values, found ${image.length} and ${label.length}`);
  if (!changesAppearance(shift)) return;
  const [mean, std] = meanAndStd(image);
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < image.length; i++) {
    lo = Math.min(lo, image[i]!);
    hi = Math.max(hi, image[i]!);
  }
  // A constant crop has no intensities to change (a defect still applies).
  if (hi > lo && changesIntensities(shift)) changeIntensities(image, size, shift, mean, std, lo, hi);
  if (shift.defect) applyDefect(image, label, size, shift.defect, mean, lo);
}

function changesIntensities(shift: CropShift): boolean {
  return shift.blurSigma > 0 || shift.noiseFraction > 0 || shift.gamma !== 1 || shift.saturationGain !== 1 || shift.jpegQuality > 0;
}

/** Blur, noise, saturation, gamma and JPEG on the crop mapped to [0, 1], then back to its mean and standard deviation. */
function changeIntensities(image: Float32Array, size: number, shift: CropShift, mean: number, std: number, lo: number, hi: number): void {
  const u = Float32Array.from(image, (v) => (v - lo) / (hi - lo));
  if (shift.blurSigma > 0) gaussianBlur(u, size, size, shift.blurSigma);
  if (shift.noiseFraction > 0) {
    const sigma = (shift.noiseFraction * std) / (hi - lo);
    const noise = Rng.fromSeed(shift.noiseSeed);
    for (let i = 0; i < u.length; i++) u[i] = clamp01(u[i]! + noise.normal(0, sigma));
  }
  if (shift.saturationGain !== 1) {
    for (let i = 0; i < u.length; i++) u[i] = clamp01(0.5 + (u[i]! - 0.5) * shift.saturationGain);
  }
  if (shift.gamma !== 1) {
    for (let i = 0; i < u.length; i++) u[i] = u[i]! ** shift.gamma;
  }
  if (shift.jpegQuality > 0) jpegArtefacts(u, size, size, shift.jpegQuality);
  // Back to the crop's own mean and standard deviation.
  const [m, s] = meanAndStd(u);
  const gain = s > 0 ? std / s : 0;
  for (let i = 0; i < u.length; i++) image[i] = mean + (u[i]! - m) * gain;
}

const clamp01 = (v: number) => (v < 0 ? 0 : v > 1 ? 1 : v);

/** A missing strip (the crop's mean) or a fold (its darkest value), straight across the crop; labels there ignored. */
function applyDefect(image: Float32Array, label: Float32Array, size: number, defect: NonNullable<CropShift['defect']>, mean: number, darkest: number): void {
  // The band: points whose distance to a line through the crop is below width / 2. The line passes
  // through (position across the crop, centre) at `angle`; strips run along a row or a column.
  const angle = defect.kind === 'strip' ? (defect.angle < Math.PI / 2 ? 0 : Math.PI / 2) : defect.angle;
  const nx = -Math.sin(angle);
  const ny = Math.cos(angle);
  const cx = defect.position * (size - 1);
  const cy = defect.position * (size - 1);
  const value = defect.kind === 'strip' ? mean : darkest;
  const half = defect.width / 2;
  for (let y = 0, i = 0; y < size; y++) {
    for (let x = 0; x < size; x++, i++) {
      if (Math.abs((x - cx) * nx + (y - cy) * ny) < half) {
        image[i] = value;
        label[i] = IGNORED_TARGET;
      }
    }
  }
}
