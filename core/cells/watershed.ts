/**
 * The seeded watershed (Meyer's flooding, Beucher and Meyer 1993) with one-pixel watershed
 * lines, 4-connectivity: each seed grows into its neighbours in the order of an elevation map,
 * lowest first, first in first out among equal elevations; a pixel that would touch a
 * differently labelled region stays 0 (a line), so different labels are never 4-neighbours and
 * every region is 4-connected to its seed. Pixels outside `mask` are never flooded and stay 0.
 * Platform-neutral.
 *
 *   const labels = seededWatershed(membraneProbability, seeds, width, height, { mask });
 */
import { PixelHeap } from './pixel-heap.ts';

export interface WatershedOptions {
  /** Pixels that may be flooded (non-zero). Default: every pixel. */
  mask?: ArrayLike<number> | null;
}

/**
 * Floods `elevation` from `seeds` (per pixel: 0 = no seed, else the seed's label; seed pixels keep
 * their label). Returns the labels: the seeds' labels, or 0 on watershed lines, outside the mask
 * and where no seed reaches.
 */
export function seededWatershed(
  elevation: ArrayLike<number>,
  seeds: ArrayLike<number>,
  width: number,
  height: number,
  options: WatershedOptions = {},
): Int32Array {
  const n = width * height;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
    throw new RangeError(`size: expected positive integers, found ${width}x${height}`);
  }
  if (elevation.length !== n) throw new RangeError(`elevation: expected ${n} pixels for ${width}x${height}, found ${elevation.length}`);
  if (seeds.length !== n) throw new RangeError(`seeds: expected ${n} pixels for ${width}x${height}, found ${seeds.length}`);
  const mask = options.mask ?? null;
  if (mask !== null && mask.length !== n) throw new RangeError(`mask: expected ${n} pixels for ${width}x${height}, found ${mask.length}`);

  const labels = new Int32Array(n);
  const done = new Uint8Array(n); // labelled or a line
  const heap = new PixelHeap(n);
  const floodable = (q: number): boolean => done[q] === 0 && (mask === null || mask[q] !== 0);
  const pushNeighbours = (p: number, label: number): void => {
    const x = p % width;
    if (x > 0 && floodable(p - 1)) heap.push(elevation[p - 1]!, p - 1, label);
    if (p >= width && floodable(p - width)) heap.push(elevation[p - width]!, p - width, label);
    if (x < width - 1 && floodable(p + 1)) heap.push(elevation[p + 1]!, p + 1, label);
    if (p + width < n && floodable(p + width)) heap.push(elevation[p + width]!, p + width, label);
  };
  const touchesOther = (p: number, label: number): boolean => {
    const x = p % width;
    const other = (q: number): boolean => labels[q] !== 0 && labels[q] !== label;
    return (x > 0 && other(p - 1)) || (p >= width && other(p - width)) || (x < width - 1 && other(p + 1)) || (p + width < n && other(p + width));
  };

  for (let p = 0; p < n; p++) {
    const seed = seeds[p]!;
    if (seed === 0) continue;
    if (!Number.isInteger(seed) || seed < 0) throw new RangeError(`seeds: expected non-negative integer labels, found ${seed} at pixel ${p}`);
    labels[p] = seed;
    done[p] = 1;
  }
  for (let p = 0; p < n; p++) if (labels[p] !== 0) pushNeighbours(p, labels[p]!);

  while (heap.pop()) {
    const p = heap.poppedPixel;
    if (done[p] !== 0) continue;
    done[p] = 1;
    const label = heap.poppedValue;
    if (touchesOther(p, label)) continue; // a watershed line: stays 0
    labels[p] = label;
    pushNeighbours(p, label);
  }
  return labels;
}
