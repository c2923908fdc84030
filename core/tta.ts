/**
 * 8-fold test-time augmentation over the dihedral group D4 (identity, the two flips, the three
 * rotations by multiples of 90 degrees, and the two transposes): every tile is transformed 8
 * ways, predicted, transformed back, and the 8 predictions are averaged (in float64).
 *
 * It wraps a TilePredictor as a TilePredictor, so the tiler (core/tiling.ts) does not know about
 * it and every tile position is the same for all 8 views; blending is linear, so averaging per
 * tile and then blending equals blending each view and then averaging.
 *
 * Non-square tiles: the transforms that swap axes (transpose, rotations by 90 and 270 degrees,
 * anti-transpose) turn an H x W tile into W x H. Both sizes are multiples of the size multiple,
 * so the model takes them; the wrapper sends the 4 views of each shape in separate predictor
 * calls (tiles of one call share a shape). Square tiles: all 8 views can share calls.
 *
 * A pointwise predictor (e.g. x + 1) is invariant: each output pixel lands back where it came
 * from, so TTA returns exactly its plain prediction.
 * Platform-neutral.
 */
import type { TilePredictor } from './tiling.ts';

/** The 8 elements of D4, by name. */
export const DIHEDRAL_TRANSFORMS = [
  'identity',
  'flip-x',
  'flip-y',
  'rotate-180',
  'transpose',
  'rotate-90',
  'rotate-270',
  'anti-transpose',
] as const;

export type DihedralTransform = (typeof DIHEDRAL_TRANSFORMS)[number];

/** Whether a transform swaps height and width. */
export function swapsAxes(transform: DihedralTransform): boolean {
  return DIHEDRAL_TRANSFORMS.indexOf(transform) >= 4;
}

/**
 * For a transform of an `height` x `width` image: the source index, in the input, of every pixel
 * of the output (which is `width` x `height` when the transform swaps axes).
 * out[i] = in[map[i]]; the inverse is in[map[i]] = out[i].
 */
export function sourceIndexMap(transform: DihedralTransform, height: number, width: number): Int32Array {
  const key = `${transform}:${height}x${width}`;
  const cached = mapCache.get(key);
  if (cached) return cached;
  const map = buildSourceIndexMap(transform, height, width);
  if (mapCache.size >= MAP_CACHE_SIZE) mapCache.delete(mapCache.keys().next().value!);
  mapCache.set(key, map);
  return map;
}

/** The maps of the most recent tile shapes (8 views of 2 shapes fit), reused across calls. */
const MAP_CACHE_SIZE = 16;
const mapCache = new Map<string, Int32Array>();

function buildSourceIndexMap(transform: DihedralTransform, height: number, width: number): Int32Array {
  const map = new Int32Array(height * width);
  const swap = swapsAxes(transform);
  const outHeight = swap ? width : height;
  const outWidth = swap ? height : width;
  let i = 0;
  for (let y = 0; y < outHeight; y++) {
    for (let x = 0; x < outWidth; x++) {
      let row: number;
      let col: number;
      switch (transform) {
        case 'identity': row = y; col = x; break;
        case 'flip-x': row = y; col = width - 1 - x; break;
        case 'flip-y': row = height - 1 - y; col = x; break;
        case 'rotate-180': row = height - 1 - y; col = width - 1 - x; break;
        case 'transpose': row = x; col = y; break;
        case 'rotate-90': row = x; col = width - 1 - y; break; // counter-clockwise
        case 'rotate-270': row = height - 1 - x; col = y; break;
        case 'anti-transpose': row = height - 1 - x; col = width - 1 - y; break;
      }
      map[i++] = row * width + col;
    }
  }
  return map;
}

/** Applies a transform to `n` tiles of `height` x `width`; the result has the transformed shape. */
export function transformTiles(tiles: Float32Array, n: number, height: number, width: number, transform: DihedralTransform): Float32Array {
  const map = sourceIndexMap(transform, height, width);
  const pixels = height * width;
  const out = new Float32Array(n * pixels);
  for (let k = 0; k < n; k++) {
    const base = k * pixels;
    for (let i = 0; i < pixels; i++) out[base + i] = tiles[base + map[i]!]!;
  }
  return out;
}

/** Undoes `transform` on `n` transformed tiles, giving `height` x `width` tiles (the original shape). */
export function inverseTransformTiles(tiles: Float32Array, n: number, height: number, width: number, transform: DihedralTransform): Float32Array {
  const map = sourceIndexMap(transform, height, width);
  const pixels = height * width;
  const out = new Float32Array(n * pixels);
  for (let k = 0; k < n; k++) {
    const base = k * pixels;
    for (let i = 0; i < pixels; i++) out[base + map[i]!] = tiles[base + i]!;
  }
  return out;
}

export interface TtaOptions {
  /** Most tiles in one call of the wrapped predictor. Default 8 (one tile's 8 views of a square tile). */
  maxTilesPerCall?: number;
  /** The views to average. Default all 8 of DIHEDRAL_TRANSFORMS. */
  transforms?: readonly DihedralTransform[];
}

/** Wraps a predictor so that each tile is predicted in every view of `transforms` and the results averaged. */
export function withTta(predictor: TilePredictor, options: TtaOptions = {}): TilePredictor {
  const maxTilesPerCall = options.maxTilesPerCall ?? 8;
  const transforms = options.transforms ?? DIHEDRAL_TRANSFORMS;
  if (!Number.isInteger(maxTilesPerCall) || maxTilesPerCall < 1) {
    throw new RangeError(`maxTilesPerCall: expected a positive integer, found ${maxTilesPerCall}`);
  }
  if (transforms.length === 0) throw new RangeError('transforms: expected at least one transform, found none');
  return async (tiles, n, height, width) => {
    const pixels = height * width;
    // Views grouped by the shape the predictor sees.
    const groups = new Map<string, { height: number; width: number; views: DihedralTransform[] }>();
    for (const transform of transforms) {
      const h = swapsAxes(transform) ? width : height;
      const w = swapsAxes(transform) ? height : width;
      const key = `${h}x${w}`;
      const group = groups.get(key) ?? { height: h, width: w, views: [] };
      group.views.push(transform);
      groups.set(key, group);
    }
    const sum = new Float64Array(n * pixels);
    for (const group of groups.values()) {
      const count = group.views.length * n;
      const batch = new Float32Array(count * pixels);
      group.views.forEach((view, v) => batch.set(transformTiles(tiles, n, height, width, view), v * n * pixels));
      const predicted = new Float32Array(count * pixels);
      for (let first = 0; first < count; first += maxTilesPerCall) {
        const size = Math.min(maxTilesPerCall, count - first);
        // A copy unless the call takes the whole batch: predictors may hand the buffer to a runtime as is.
        const input = size === count ? batch : batch.slice(first * pixels, (first + size) * pixels);
        const output = await predictor(input, size, group.height, group.width);
        if (output.length !== size * pixels) {
          throw new RangeError(`predictor: expected ${size * pixels} values for ${size} tile(s) of ${group.width}x${group.height}, found ${output.length}`);
        }
        predicted.set(output, first * pixels);
      }
      group.views.forEach((view, v) => {
        const back = inverseTransformTiles(predicted.subarray(v * n * pixels, (v + 1) * n * pixels), n, height, width, view);
        for (let i = 0; i < back.length; i++) sum[i]! += back[i]!;
      });
    }
    const out = new Float32Array(n * pixels);
    for (let i = 0; i < out.length; i++) out[i] = sum[i]! / transforms.length;
    return out;
  };
}
