/**
 * The seeded watershed (Meyer's flooding, Beucher and Meyer 1993) with one-pixel watershed
 * lines, 4-connectivity: each seed grows into its neighbours in the order of an elevation map,
 * lowest first (elevations compared as float32 numbers), first in first out among equal
 * elevations; a pixel that would touch a differently labelled region stays 0 (a line), so
 * different labels are never 4-neighbours and every region is 4-connected to its seed. Pixels
 * outside `mask` are never flooded and stay 0. Platform-neutral.
 *
 * A pixel enters the queue once, when the first of its neighbours is labelled, and takes that
 * neighbour's label if it is not a line when it comes out. (Queuing it again from later
 * neighbours, at the same elevation and so behind the first entry, would change nothing.)
 *
 *   const labels = seededWatershed(membraneProbability, seeds, width, height, { mask });
 */
import { PixelQueue, priorityKey } from './pixel-queue.ts';

/** The largest label a seed may carry (labels are Int32, and CLOSED is below every -label). */
const MAX_LABEL = 0x7fffffff;
const CLOSED = -0x80000000;

export interface WatershedOptions {
  /** Pixels that may be flooded (non-zero). Default: every pixel. */
  mask?: ArrayLike<number> | null;
  /**
   * Flood 1 - elevation instead, e.g. given a cell-interior probability: the same labels as
   * flooding a Float32Array of 1 - elevation, without the caller's copy.
   */
  invert?: boolean;
  /**
   * Where to write the labels (width x height): e.g. `seeds` itself when the caller no longer needs
   * them (they are read before any label is written). Default: a new array.
   */
  into?: Int32Array;
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
  const invert = options.invert === true;
  if (mask !== null && mask.length !== n) throw new RangeError(`mask: expected ${n} pixels for ${width}x${height}, found ${mask.length}`);
  if (options.into !== undefined && options.into.length !== n) throw new RangeError(`into: expected ${n} pixels for ${width}x${height}, found ${options.into.length}`);

  // The work happens on a copy with a one-pixel frame (padded width W), so that every pixel has
  // four neighbours and the loop needs no bounds checks, and with each pixel's state and key side
  // by side (cell[2P], cell[2P + 1]): the flooding visits pixels in elevation order, all over the
  // image, and one memory access then brings both. A pixel's state: > 0 labelled, CLOSED neither
  // labelled nor ever to be queued (the frame, outside the mask, a watershed line), < 0 otherwise
  // queued with the label of the neighbour that queued it, 0 open (may still be queued). Its key:
  // its elevation's priorityKey (pixel-queue.ts).
  const W = width + 2;
  const cell = new Int32Array(2 * W * (height + 2)).fill(CLOSED);
  let openCount = 0;
  for (let y = 0, p = 0; y < height; y++) {
    for (let x = 0, P = (y + 1) * W + 1; x < width; x++, p++, P++) {
      const seed = seeds[p]!;
      if (seed !== 0) {
        if (!Number.isInteger(seed) || seed < 0 || seed > MAX_LABEL) throw new RangeError(`seeds: expected integer labels 0-${MAX_LABEL}, found ${seed} at pixel ${p}`);
        cell[2 * P] = seed;
      } else if (mask === null || mask[p] !== 0) {
        const e = invert ? 1 - elevation[p]! : elevation[p]!;
        if (Number.isNaN(e)) throw new RangeError(`elevation: expected numbers, found NaN at pixel ${p}`);
        cell[2 * P] = 0;
        cell[2 * P + 1] = priorityKey(e);
        openCount++;
      }
    }
  }
  const queue = new PixelQueue(Math.min(openCount, 1 << 16));
  // Queues pixel Q (at cell[2Q]) if it is open, with `label`.
  const queueOpen = (Q: number, label: number): void => {
    if (cell[2 * Q] === 0) {
      cell[2 * Q] = -label;
      queue.pushKey(cell[2 * Q + 1]! >>> 0, Q);
    }
  };
  for (let y = 0; y < height; y++) {
    for (let P = (y + 1) * W + 1, end = P + width; P < end; P++) {
      const label = cell[2 * P]!;
      if (label > 0) {
        // left, up, right, down
        queueOpen(P - 1, label);
        queueOpen(P - W, label);
        queueOpen(P + 1, label);
        queueOpen(P + W, label);
      }
    }
  }

  for (let P = queue.pop(); P >= 0; P = queue.pop()) {
    const label = -cell[2 * P]!;
    // a watershed line: a labelled 4-neighbour of another label
    let l: number;
    if (
      ((l = cell[2 * P - 2]!) > 0 && l !== label) ||
      ((l = cell[2 * (P - W)]!) > 0 && l !== label) ||
      ((l = cell[2 * P + 2]!) > 0 && l !== label) ||
      ((l = cell[2 * (P + W)]!) > 0 && l !== label)
    ) {
      cell[2 * P] = CLOSED;
      continue;
    }
    cell[2 * P] = label;
    queueOpen(P - 1, label);
    queueOpen(P - W, label);
    queueOpen(P + 1, label);
    queueOpen(P + W, label);
  }

  const out = options.into ?? new Int32Array(n);
  for (let y = 0, p = 0; y < height; y++) {
    for (let P = (y + 1) * W + 1, end = P + width; P < end; P++, p++) {
      const label = cell[2 * P]!;
      out[p] = label > 0 ? label : 0;
    }
  }
  return out;
}
