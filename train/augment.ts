/**
 * Data augmentation of training crops, all randomness drawn from the caller's seeded generator
 * (core/random.ts), so a batch is a pure function of the generator's state.
 *
 * A crop is described by a `CropTransform` (drawn by `drawCropTransform`) and rendered from a
 * prepared slice by `renderCrop`. Each output pixel (u, v) of the size x size crop is read from the
 * slice at
 *
 *   source = origin + centre + R (u - centre, v - centre) + displacement(u, v)
 *
 * - R: one of the 8 flips / 90-degree rotations of the square (the dihedral group), uniformly;
 * - displacement: elastic deformation as in the U-Net paper: a coarse grid (default 3 x 3) of random
 *   displacement vectors, each component normal with sigma 10 px, spread over the crop and
 *   interpolated bicubically (Catmull-Rom, grid nodes at the crop's corners, edges and centre) into
 *   a smooth dense field;
 * - the image and the border weights are sampled bilinearly, the label bilinearly from its 0/1
 *   values and re-binarized at 0.5, so it stays binary and aligned with the image (without the
 *   elastic part all source positions are integers and every map is an exact permutation of pixels);
 * - outside the slice, positions are mirrored at the edges (no padding value enters the crop);
 * - intensity jitter on the normalized image: image * contrast + brightness, contrast uniform in
 *   [1 - c, 1 + c], brightness uniform in [-b, b] (defaults c = 0.2, b = 0.2, in units of the
 *   slice's standard deviation);
 * - optionally the shifts of other microscopes (train/augment-shifts.ts): a pixel-size factor that
 *   scales R, and appearance changes applied to the rendered crop before the intensity jitter.
 */
import { IGNORED_TARGET } from './batch.ts';
import { applyCropShift, changesAppearance, checkShiftOptions, drawCropShift, SHIFT_DEFAULTS, type CropShift, type ShiftOptions } from './augment-shifts.ts';
import type { Rng } from '../core/random.ts';
import { definedFields } from '../core/defined.ts';

export interface ElasticOptions {
  /** Nodes per side of the coarse displacement grid. Default 3. */
  gridSize?: number;
  /** Standard deviation of each displacement component, in pixels. Default 10. */
  sigma?: number;
}

export interface IntensityOptions {
  /** Contrast factor drawn from [1 - contrast, 1 + contrast]. Default 0.2. */
  contrast?: number;
  /** Offset drawn from [-brightness, brightness] (normalized units). Default 0.2. */
  brightness?: number;
}

export interface AugmentOptions {
  /** The 8 flips and 90-degree rotations. Default true. */
  flipsAndRotations?: boolean;
  /** Elastic deformation; false turns it off. Default { gridSize: 3, sigma: 10 }. */
  elastic?: ElasticOptions | false;
  /** Brightness/contrast jitter; false turns it off. Default { contrast: 0.2, brightness: 0.2 }. */
  intensity?: IntensityOptions | false;
  /** Shifts of other microscopes (train/augment-shifts.ts): true for their defaults. Default false. */
  shifts?: boolean | Partial<ShiftOptions>;
}

export interface ResolvedAugmentOptions {
  flipsAndRotations: boolean;
  elastic: Required<ElasticOptions> | false;
  intensity: Required<IntensityOptions> | false;
  shifts: ShiftOptions | false;
}

export const AUGMENT_DEFAULTS: ResolvedAugmentOptions = {
  flipsAndRotations: true,
  elastic: { gridSize: 3, sigma: 10 },
  intensity: { contrast: 0.2, brightness: 0.2 },
  shifts: false,
};

/** No augmentation at all: plain random crops. */
export const NO_AUGMENTATION: ResolvedAugmentOptions = { flipsAndRotations: false, elastic: false, intensity: false, shifts: false };

/** Resolves `true`/`false`/partial options to complete ones, checking every value. */
export function resolveAugmentOptions(options: boolean | AugmentOptions | undefined = true): ResolvedAugmentOptions {
  if (options === false) return NO_AUGMENTATION;
  if (options === true) return AUGMENT_DEFAULTS;
  const elastic = options.elastic === false ? false : { ...(AUGMENT_DEFAULTS.elastic as Required<ElasticOptions>), ...definedFields(options.elastic ?? {}) };
  const intensity = options.intensity === false ? false : { ...(AUGMENT_DEFAULTS.intensity as Required<IntensityOptions>), ...definedFields(options.intensity ?? {}) };
  if (elastic) {
    if (!Number.isInteger(elastic.gridSize) || elastic.gridSize < 2) throw new RangeError(`augment.elastic.gridSize: expected an integer >= 2, found ${elastic.gridSize}`);
    if (!Number.isFinite(elastic.sigma) || elastic.sigma < 0) throw new RangeError(`augment.elastic.sigma: expected a finite number >= 0, found ${elastic.sigma}`);
  }
  if (intensity) {
    if (!(intensity.contrast >= 0 && intensity.contrast < 1)) throw new RangeError(`augment.intensity.contrast: expected a number in [0, 1), found ${intensity.contrast}`);
    if (!(intensity.brightness >= 0 && Number.isFinite(intensity.brightness))) throw new RangeError(`augment.intensity.brightness: expected a finite number >= 0, found ${intensity.brightness}`);
  }
  const shifts = !options.shifts ? false : checkShiftOptions(options.shifts === true ? SHIFT_DEFAULTS : { ...SHIFT_DEFAULTS, ...definedFields(options.shifts) });
  return { flipsAndRotations: options.flipsAndRotations ?? true, elastic, intensity, shifts };
}


/** A slice prepared for cropping: normalized image, 0/1 label, optional weights, all width x height. */
export interface CropSource {
  width: number;
  height: number;
  image: Float32Array;
  label: Uint8Array;
  weights?: Float32Array;
  /** 1 where the label is unlabelled (`--ignore`): such pixels get the target IGNORED_TARGET. */
  ignored?: Uint8Array;
}

export interface CropTransform {
  /** Top-left corner of the (undeformed) crop in the slice. */
  x0: number;
  y0: number;
  size: number;
  /** Element of the dihedral group: rotation by 90 degrees * (d8 & 3), after a horizontal flip if d8 >= 4. */
  d8: number;
  /** Displacement grid, gridSize x gridSize (x then y components, row-major), or null. */
  grid: { size: number; dx: Float64Array; dy: Float64Array } | null;
  contrast: number;
  brightness: number;
  /** The shifts of other microscopes drawn for this crop, or null. */
  shift: CropShift | null;
}

/** Draws a crop transform (position, flip/rotation, elastic grid, intensity jitter), in that order. */
export function drawCropTransform(rng: Rng, width: number, height: number, size: number, options: ResolvedAugmentOptions): CropTransform {
  if (size > width || size > height) throw new RangeError(`cropSize: expected at most ${Math.min(width, height)} (the slice is ${width}x${height}), found ${size}`);
  const x0 = rng.int(0, width - size + 1);
  const y0 = rng.int(0, height - size + 1);
  const d8 = options.flipsAndRotations ? rng.int(0, 8) : 0;
  let grid: CropTransform['grid'] = null;
  if (options.elastic && options.elastic.sigma > 0) {
    const g = options.elastic.gridSize;
    const dx = new Float64Array(g * g);
    const dy = new Float64Array(g * g);
    for (let i = 0; i < g * g; i++) {
      dx[i] = rng.normal(0, options.elastic.sigma);
      dy[i] = rng.normal(0, options.elastic.sigma);
    }
    grid = { size: g, dx, dy };
  }
  let contrast = 1;
  let brightness = 0;
  if (options.intensity) {
    contrast = rng.uniform(1 - options.intensity.contrast, 1 + options.intensity.contrast);
    brightness = rng.uniform(-options.intensity.brightness, options.intensity.brightness);
  }
  const shift = options.shifts ? drawCropShift(rng, options.shifts) : null;
  return { x0, y0, size, d8, grid, contrast, brightness, shift };
}

/** The 2x2 matrix of a dihedral element: flip x if d8 >= 4, then rotate (d8 & 3) quarter turns. */
function dihedralMatrix(d8: number): [number, number, number, number] {
  let m00 = d8 >= 4 ? -1 : 1;
  let m01 = 0;
  let m10 = 0;
  let m11 = 1;
  for (let r = 0; r < (d8 & 3); r++) {
    // (a, b) -> (-b, a) applied after the current matrix
    [m00, m01, m10, m11] = [-m10, -m11, m00, m01];
  }
  return [m00, m01, m10, m11];
}

/**
 * Catmull-Rom weights of every coordinate 0..size-1 on `nodes` grid nodes spread from 0 to size-1,
 * with the end nodes repeated beyond the edges: size x nodes, row-major.
 */
function cubicWeights(size: number, nodes: number): Float64Array {
  const w = new Float64Array(size * nodes);
  const span = size > 1 ? (nodes - 1) / (size - 1) : 0;
  for (let u = 0; u < size; u++) {
    const t = u * span;
    const i = Math.min(Math.floor(t), nodes - 2);
    const f = t - i;
    const f2 = f * f;
    const f3 = f2 * f;
    const k = [(-f3 + 2 * f2 - f) / 2, (3 * f3 - 5 * f2 + 2) / 2, (-3 * f3 + 4 * f2 + f) / 2, (f3 - f2) / 2];
    for (let m = 0; m < 4; m++) {
      const node = Math.min(nodes - 1, Math.max(0, i - 1 + m));
      w[u * nodes + node]! += k[m]!;
    }
  }
  return w;
}

/** The dense displacement field of a grid over a size x size crop: [dx, dy], each size*size, row-major. */
export function displacementField(grid: NonNullable<CropTransform['grid']>, size: number): [Float32Array, Float32Array] {
  const g = grid.size;
  const w = cubicWeights(size, g);
  const fx = new Float32Array(size * size);
  const fy = new Float32Array(size * size);
  const rowX = new Float64Array(g);
  const rowY = new Float64Array(g);
  for (let v = 0; v < size; v++) {
    rowX.fill(0);
    rowY.fill(0);
    for (let a = 0; a < g; a++) {
      const wa = w[v * g + a]!;
      if (wa === 0) continue;
      for (let b = 0; b < g; b++) {
        rowX[b]! += wa * grid.dx[a * g + b]!;
        rowY[b]! += wa * grid.dy[a * g + b]!;
      }
    }
    for (let u = 0; u < size; u++) {
      let sx = 0;
      let sy = 0;
      for (let b = 0; b < g; b++) {
        const wb = w[u * g + b]!;
        sx += wb * rowX[b]!;
        sy += wb * rowY[b]!;
      }
      fx[v * size + u] = sx;
      fy[v * size + u] = sy;
    }
  }
  return [fx, fy];
}

/** Mirrors an index into [0, n - 1] (edge pixel not repeated: -1 -> 1, n -> n - 2). */
function mirror(i: number, n: number): number {
  if (i >= 0 && i < n) return i;
  if (n === 1) return 0;
  const period = 2 * (n - 1);
  let j = i % period;
  if (j < 0) j += period;
  return j >= n ? period - j : j;
}

export interface CropTarget {
  image: Float32Array;
  label: Float32Array;
  weights?: Float32Array;
  /** Where the crop starts in the target arrays (crop index * size * size). */
  offset: number;
}

/** Renders one crop of `source` under `transform` into `target` at `target.offset`. */
export function renderCrop(source: CropSource, transform: CropTransform, target: CropTarget): void {
  const { width, height, image, label, weights, ignored } = source;
  const { x0, y0, size, d8, grid, shift } = transform;
  // With an appearance shift the jitter comes after it (below); the pixel-size factor scales R.
  const appearance = shift !== null && changesAppearance(shift);
  const contrast = appearance ? 1 : transform.contrast;
  const brightness = appearance ? 0 : transform.brightness;
  const scale = shift?.scale ?? 1;
  const [m00, m01, m10, m11] = dihedralMatrix(d8).map((m) => m * scale) as [number, number, number, number];
  const centre = (size - 1) / 2;
  const [fx, fy] = grid ? displacementField(grid, size) : [null, null];
  const outWeights = weights && target.weights ? target.weights : null;
  let o = target.offset;
  for (let v = 0, k = 0; v < size; v++) {
    const b = v - centre;
    for (let u = 0; u < size; u++, k++, o++) {
      const a = u - centre;
      let sx = x0 + centre + m00 * a + m01 * b;
      let sy = y0 + centre + m10 * a + m11 * b;
      if (fx) {
        sx += fx[k]!;
        sy += fy![k]!;
      }
      const ix = Math.floor(sx);
      const iy = Math.floor(sy);
      const tx = sx - ix;
      const ty = sy - iy;
      const xa = mirror(ix, width);
      const xb = mirror(ix + 1, width);
      const ya = mirror(iy, height) * width;
      const yb = mirror(iy + 1, height) * width;
      const w00 = (1 - tx) * (1 - ty);
      const w01 = tx * (1 - ty);
      const w10 = (1 - tx) * ty;
      const w11 = tx * ty;
      const p00 = ya + xa;
      const p01 = ya + xb;
      const p10 = yb + xa;
      const p11 = yb + xb;
      const value = w00 * image[p00]! + w01 * image[p01]! + w10 * image[p10]! + w11 * image[p11]!;
      target.image[o] = value * contrast + brightness;
      const cell = w00 * label[p00]! + w01 * label[p01]! + w10 * label[p10]! + w11 * label[p11]!;
      target.label[o] = cell >= 0.5 ? 1 : 0;
      if (ignored && w00 * ignored[p00]! + w01 * ignored[p01]! + w10 * ignored[p10]! + w11 * ignored[p11]! >= 0.5) target.label[o] = IGNORED_TARGET;
      if (outWeights) outWeights[o] = w00 * weights![p00]! + w01 * weights![p01]! + w10 * weights![p10]! + w11 * weights![p11]!;
    }
  }
  if (appearance) {
    const start = target.offset;
    const end = start + size * size;
    const crop = target.image.subarray(start, end);
    applyCropShift(crop, target.label.subarray(start, end), size, shift);
    for (let i = 0; i < crop.length; i++) crop[i] = crop[i]! * transform.contrast + transform.brightness;
  }
}
