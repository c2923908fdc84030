/**
 * The seeded watershed (Meyer's flooding, Beucher and Meyer 1993) with one-pixel watershed
 * lines, 4-connectivity: each seed grows into its neighbours in the order of an elevation map,
 * lowest first, first in first out among equal elevations; a pixel that would touch a
 * differently labelled region stays 0 (a line), so different labels are never 4-neighbours and
 * every region is 4-connected to its seed. Pixels outside `mask` are never flooded and stay 0.
 * Platform-neutral.
 *
 * A pixel enters the queue once, when the first of its neighbours is labelled, and takes that
 * neighbour's label if it is not a line when it comes out. (Queuing it again from later
 * neighbours, at the same elevation and so behind the first entry, would change nothing.)
 *
 *   const labels = seededWatershed(membraneProbability, seeds, width, height, { mask });
 */
import { PixelQueue } from './pixel-queue.ts';

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

  // Per pixel: > 0 labelled, < 0 queued with the label of the neighbour that queued it, 0 neither.
  const labels = new Int32Array(n);
  // Pixels that may still be queued: in the mask, not a seed, not queued yet.
  const open = new Uint8Array(n);
  let openCount = 0;
  for (let p = 0; p < n; p++) {
    const seed = seeds[p]!;
    if (seed !== 0) {
      if (!Number.isInteger(seed) || seed < 0) throw new RangeError(`seeds: expected non-negative integer labels, found ${seed} at pixel ${p}`);
      labels[p] = seed;
    } else if (mask === null || mask[p] !== 0) {
      if (Number.isNaN(elevation[p])) throw new RangeError(`elevation: expected numbers, found NaN at pixel ${p}`);
      open[p] = 1;
      openCount++;
    }
  }
  const heap = new PixelQueue(Math.min(openCount, 1 << 16));
  const queue = (q: number, label: number): void => {
    open[q] = 0;
    labels[q] = -label;
    heap.push(elevation[q]!, q);
  };
  const queueNeighbours = (p: number, label: number): void => {
    const x = p % width;
    if (x > 0 && open[p - 1] === 1) queue(p - 1, label);
    if (p >= width && open[p - width] === 1) queue(p - width, label);
    if (x < width - 1 && open[p + 1] === 1) queue(p + 1, label);
    if (p + width < n && open[p + width] === 1) queue(p + width, label);
  };
  for (let p = 0; p < n; p++) if (labels[p]! > 0) queueNeighbours(p, labels[p]!);

  for (let p = heap.pop(); p >= 0; p = heap.pop()) {
    const label = -labels[p]!;
    const x = p % width;
    // a watershed line: a labelled 4-neighbour of another label
    let l: number;
    if (
      (x > 0 && (l = labels[p - 1]!) > 0 && l !== label) ||
      (p >= width && (l = labels[p - width]!) > 0 && l !== label) ||
      (x < width - 1 && (l = labels[p + 1]!) > 0 && l !== label) ||
      (p + width < n && (l = labels[p + width]!) > 0 && l !== label)
    ) {
      labels[p] = 0;
      continue;
    }
    labels[p] = label;
    queueNeighbours(p, label);
  }
  return labels;
}
