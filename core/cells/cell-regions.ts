/**
 * The cells of one image in one piece, before numbering: seeds (cell-params.ts: the seed rule and
 * the seed size filter), a seeded watershed of the membrane probability 1 - p from them
 * (watershed.ts: one-pixel lines, 4-connectivity), and the cell size filter. Each cell keeps the
 * number of its seed; 0 = boundary (watershed line), membrane below `maskThreshold`, or no cell.
 * label-chunk.ts runs it on each label chunk with its context; cell-labels.ts numbers the cells.
 * Platform-neutral.
 */
import { labelComponents4 } from '../metrics/components.ts';
import { validateCellParams, type CellParams } from './cell-params.ts';
import { distanceTransform } from './distance-transform.ts';
import { seededWatershed } from './watershed.ts';

/** Seeds of the parameters' rule, numbered 1..; seeds of fewer than `minSeedArea` pixels dropped. */
export function findSeeds(probability: ArrayLike<number>, width: number, height: number, params: CellParams): Int32Array {
  const n = width * height;
  const interior = new Uint8Array(n);
  for (let i = 0; i < n; i++) interior[i] = probability[i]! >= params.seedThreshold ? 1 : 0;
  if (params.seedRule === 'distance' && params.seedDistance > 0) {
    const distance = distanceTransform(interior, width, height);
    for (let i = 0; i < n; i++) if (distance[i]! <= params.seedDistance) interior[i] = 0;
  }
  const components = labelComponents4(interior, width, height);
  return keepLarge(components.labels, components.sizes, params.minSeedArea);
}

/** `labels` with the regions of fewer than `minArea` pixels set to 0, the others renumbered 1.. in order: in place. */
function keepLarge(labels: Int32Array, sizes: ArrayLike<number>, minArea: number): Int32Array {
  const renumber = new Int32Array(sizes.length);
  let next = 0;
  for (let k = 1; k < sizes.length; k++) if (sizes[k]! >= minArea) renumber[k] = ++next;
  for (let i = 0; i < labels.length; i++) labels[i] = renumber[labels[i]!]!;
  return labels;
}

/** Sizes of labels 1..max, index 0 unused. */
function labelSizes(labels: Int32Array): Int32Array {
  let max = 0;
  for (const v of labels) if (v > max) max = v;
  const sizes = new Int32Array(max + 1);
  for (const v of labels) if (v !== 0) sizes[v]!++;
  return sizes;
}

/** Checks the arguments every labelling entry point takes: the size, the probability's length, the parameters. */
export function assertCellInput(probability: ArrayLike<number>, width: number, height: number, params: CellParams): void {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
    throw new RangeError(`size: expected positive integers, found ${width}x${height}`);
  }
  const n = width * height;
  if (probability.length !== n) throw new RangeError(`probability: expected ${n} pixels for ${width}x${height}, found ${probability.length}`);
  validateCellParams(params);
}

/** The cells of one image (see the module comment), each numbered as its seed. */
export function cellRegions(probability: ArrayLike<number>, width: number, height: number, params: CellParams): Int32Array {
  assertCellInput(probability, width, height, params);
  const n = width * height;
  let mask: Uint8Array | null = null;
  if (params.maskThreshold > 0) {
    mask = new Uint8Array(n);
    for (let i = 0; i < n; i++) mask[i] = probability[i]! >= params.maskThreshold ? 1 : 0;
  }
  const seeds = findSeeds(probability, width, height, params);
  // the elevation is the membrane probability 1 - p; the labels replace the seeds in their array
  let labels = seededWatershed(probability, seeds, width, height, { mask, invert: true, into: seeds });
  if (params.minCellArea > 0) {
    const sizes = labelSizes(labels);
    if (sizes.some((size, k) => k > 0 && size > 0 && size < params.minCellArea)) {
      // the small cells' pixels go to their neighbours: flood again from the cells kept
      const kept = keepLarge(labels, sizes, params.minCellArea);
      labels = seededWatershed(probability, kept, width, height, { mask, invert: true, into: kept });
    }
  }
  return labels;
}
