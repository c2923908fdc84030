/**
 * Per-cell measurements of one slice of instance labels (cell-labels.ts): area, centroid,
 * bounding box, equivalent diameter, and the mean membrane probability (1 - cell-interior
 * probability) on the cell's border. In pixels; physical units are the table's (cell-table.ts).
 * One pass over the labels, whole (measureCells) or window by window (CellMeasurer). Platform-neutral.
 *
 *   const cells = measureCells(cellLabels, { slice: 3, probability });
 */
import type { Box } from '../padding.ts';
import type { CellLabels } from './cell-labels.ts';

export interface CellMeasurement {
  label: number;
  slice: number;
  /** The 3D object the cell belongs to, when the sections were linked (section-links.ts); else absent. */
  object?: number;
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

/** The labels just outside a window on each side (its neighbours' pixels), null where the window meets the slice's edge. */
export interface WindowSurroundings {
  top: ArrayLike<number> | null;
  bottom: ArrayLike<number> | null;
  left: ArrayLike<number> | null;
  right: ArrayLike<number> | null;
}

/** A window of a slice's labels: its place in the slice, its labels, its probabilities and what lies around it. */
export interface LabelWindow {
  box: Box;
  labels: ArrayLike<number>;
  /** The cell-interior probability of the window's pixels, for the border's membrane probability. */
  probability?: ArrayLike<number> | undefined;
  /** Required on every side where the window does not meet the slice's edge. */
  surroundings?: WindowSurroundings | undefined;
}

/**
 * Measures the cells of one slice window by window (windows that tile the slice, in any order):
 * measureCells for a whole slice, the large-image path (volume-labels.ts) label chunk by label
 * chunk with the labels just outside each chunk. Sums are exact for areas and coordinates.
 */
export class CellMeasurer {
  private readonly area: Float64Array;
  private readonly sumX: Float64Array;
  private readonly sumY: Float64Array;
  private readonly xMin: Int32Array;
  private readonly yMin: Int32Array;
  private readonly xMax: Int32Array;
  private readonly yMax: Int32Array;
  private readonly borderPixels: Float64Array;
  private readonly borderMembrane: Float64Array;
  private withProbability = false;

  constructor(
    readonly count: number,
    readonly width: number,
    readonly height: number,
  ) {
    this.area = new Float64Array(count + 1);
    this.sumX = new Float64Array(count + 1);
    this.sumY = new Float64Array(count + 1);
    this.xMin = new Int32Array(count + 1).fill(width);
    this.yMin = new Int32Array(count + 1).fill(height);
    this.xMax = new Int32Array(count + 1).fill(-1);
    this.yMax = new Int32Array(count + 1).fill(-1);
    this.borderPixels = new Float64Array(count + 1);
    this.borderMembrane = new Float64Array(count + 1);
  }

  add(window: LabelWindow): void {
    const { box, labels, probability, surroundings } = window;
    const { width: w, height: h } = box;
    if (labels.length !== w * h) throw new RangeError(`labels: expected ${w * h} values for ${w}x${h}, found ${labels.length}`);
    if (probability !== undefined && probability.length !== w * h) {
      throw new RangeError(`probability: expected ${w * h} values for ${w}x${h} like the labels, found ${probability.length}`);
    }
    if (probability !== undefined) this.withProbability = true;
    const around = (side: keyof WindowSurroundings, atEdge: boolean, length: number): ArrayLike<number> | null => {
      if (atEdge) return null;
      const line = surroundings?.[side];
      if (!line || line.length !== length) {
        throw new RangeError(`surroundings.${side} of the window at (${box.x}, ${box.y}): expected ${length} labels, found ${line ? line.length : 'none'}`);
      }
      return line;
    };
    const top = around('top', box.y === 0, w);
    const bottom = around('bottom', box.y + h === this.height, w);
    const left = around('left', box.x === 0, h);
    const right = around('right', box.x + w === this.width, h);
    const { count } = this;
    for (let y = 0, p = 0; y < h; y++) {
      for (let x = 0; x < w; x++, p++) {
        const k = labels[p]!;
        if (k === 0) continue;
        const sx = box.x + x;
        const sy = box.y + y;
        if (k > count) throw new RangeError(`labels: expected values 0..${count}, found ${k} at (${sx}, ${sy})`);
        this.area[k]!++;
        this.sumX[k]! += sx;
        this.sumY[k]! += sy;
        if (sx < this.xMin[k]!) this.xMin[k] = sx;
        if (sx > this.xMax[k]!) this.xMax[k] = sx;
        if (sy < this.yMin[k]!) this.yMin[k] = sy;
        if (sy > this.yMax[k]!) this.yMax[k] = sy;
        // a neighbour inside the slice that is not of this cell (the slice's edge is no border)
        const onBorder =
          (x > 0 ? labels[p - 1] !== k : left !== null && left[y] !== k) ||
          (x < w - 1 ? labels[p + 1] !== k : right !== null && right[y] !== k) ||
          (y > 0 ? labels[p - w] !== k : top !== null && top[x] !== k) ||
          (y < h - 1 ? labels[p + w] !== k : bottom !== null && bottom[x] !== k);
        if (onBorder) {
          this.borderPixels[k]!++;
          if (probability !== undefined) this.borderMembrane[k]! += 1 - probability[p]!;
        }
      }
    }
  }

  /** One measurement per cell, in label order (1..count); labels without pixels are left out. */
  rows(slice: number): CellMeasurement[] {
    const rows: CellMeasurement[] = [];
    for (let k = 1; k <= this.count; k++) {
      const a = this.area[k]!;
      if (a === 0) continue;
      const border = this.borderPixels[k]!;
      rows.push({
        label: k,
        slice,
        area: a,
        centroidX: this.sumX[k]! / a,
        centroidY: this.sumY[k]! / a,
        xMin: this.xMin[k]!,
        yMin: this.yMin[k]!,
        xMax: this.xMax[k]!,
        yMax: this.yMax[k]!,
        equivalentDiameter: Math.sqrt((4 * a) / Math.PI),
        borderPixels: border,
        borderMembraneProbability: this.withProbability && border > 0 ? this.borderMembrane[k]! / border : Number.NaN,
      });
    }
    return rows;
  }
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
  const measurer = new CellMeasurer(count, width, height);
  measurer.add({ box: { x: 0, y: 0, width, height }, labels, probability });
  return measurer.rows(options.slice ?? 0);
}
