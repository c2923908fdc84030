/**
 * Per-cell measurements of one slice of instance labels (cell-labels.ts): area, centroid,
 * bounding box, equivalent diameter, and the mean membrane probability (1 - cell-interior
 * probability) on the cell's border. In pixels; physical units are the table's (cell-table.ts).
 * One pass over the labels plus one over the border. Platform-neutral.
 *
 *   const cells = measureCells(cellLabels, { slice: 3, probability });
 */
import type { CellLabels } from './cell-labels.ts';

export interface CellMeasurement {
  label: number;
  slice: number;
  /** Pixels of the cell. */
  area: number;
  /** Mean x and y of its pixels (pixel centres at integer coordinates, x right, y down). */
  centroidX: number;
  centroidY: number;
  /** Bounding box, inclusive: the smallest and largest x and y of its pixels. */
  xMin: number;
  yMin: number;
  xMax: number;
  yMax: number;
  /** Diameter of the disc of the same area, sqrt(4 area / pi), in pixels. */
  equivalentDiameter: number;
  /** Cell pixels with a 4-neighbour inside the image that is not of this cell (the image edge is no border). */
  borderPixels: number;
  /** Mean of 1 - probability over those pixels; NaN without a probability map or a border. */
  borderMembraneProbability: number;
}

export interface MeasureOptions {
  /** Index of the slice in its stack, copied into each row. Default 0. */
  slice?: number;
  /** The cell-interior probability the labels came from (`width * height` values), for the border's membrane probability. */
  probability?: ArrayLike<number>;
}

/** One measurement per cell, in label order (1..count); labels without pixels are left out. */
export function measureCells(cells: CellLabels, options: MeasureOptions = {}): CellMeasurement[] {
  const { width, height, labels, count } = cells;
  const n = width * height;
  if (labels.length !== n) throw new RangeError(`labels: expected ${n} values for ${width}x${height}, found ${labels.length}`);
  const probability = options.probability;
  if (probability !== undefined && probability.length !== n) {
    throw new RangeError(`probability: expected ${n} values for ${width}x${height} like the labels, found ${probability.length}`);
  }
  const slice = options.slice ?? 0;
  const area = new Float64Array(count + 1);
  const sumX = new Float64Array(count + 1);
  const sumY = new Float64Array(count + 1);
  const xMin = new Int32Array(count + 1).fill(width);
  const yMin = new Int32Array(count + 1).fill(height);
  const xMax = new Int32Array(count + 1).fill(-1);
  const yMax = new Int32Array(count + 1).fill(-1);
  const borderPixels = new Float64Array(count + 1);
  const borderMembrane = new Float64Array(count + 1);
  for (let y = 0, p = 0; y < height; y++) {
    for (let x = 0; x < width; x++, p++) {
      const k = labels[p]!;
      if (k === 0) continue;
      if (k > count) throw new RangeError(`labels: expected values 0..${count}, found ${k} at (${x}, ${y})`);
      area[k]!++;
      sumX[k]! += x;
      sumY[k]! += y;
      if (x < xMin[k]!) xMin[k] = x;
      if (x > xMax[k]!) xMax[k] = x;
      if (y < yMin[k]!) yMin[k] = y;
      if (y > yMax[k]!) yMax[k] = y;
      const onBorder = (x > 0 && labels[p - 1] !== k) || (x < width - 1 && labels[p + 1] !== k) || (y > 0 && labels[p - width] !== k) || (y < height - 1 && labels[p + width] !== k);
      if (onBorder) {
        borderPixels[k]!++;
        if (probability !== undefined) borderMembrane[k]! += 1 - probability[p]!;
      }
    }
  }
  const rows: CellMeasurement[] = [];
  for (let k = 1; k <= count; k++) {
    const a = area[k]!;
    if (a === 0) continue;
    const border = borderPixels[k]!;
    rows.push({
      label: k,
      slice,
      area: a,
      centroidX: sumX[k]! / a,
      centroidY: sumY[k]! / a,
      xMin: xMin[k]!,
      yMin: yMin[k]!,
      xMax: xMax[k]!,
      yMax: yMax[k]!,
      equivalentDiameter: Math.sqrt((4 * a) / Math.PI),
      borderPixels: border,
      borderMembraneProbability: probability !== undefined && border > 0 ? borderMembrane[k]! / border : Number.NaN,
    });
  }
  return rows;
}
