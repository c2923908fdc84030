/**
 * Label chunks: the squares of `chunkSize` pixels (cell-params.ts) an image is labelled in, each
 * from its probability with `chunkHalo` pixels of context around it (clipped to the image). An
 * image that fits in one chunk is labelled whole, with no context to cut: exactly the cells of
 * cell-regions.ts. Larger images are labelled chunk by chunk (the in-memory path, cell-labels.ts,
 * and the large-image path, volume-labels.ts, the same way) and the chunks' cells are joined
 * across their borders by chunk-merge.ts from what each chunk records here:
 *
 * - its core labels: the cells of its context restricted to its core, numbered 1..pieces in
 *   row-major order of their first core pixel (a piece: one cell as this chunk sees it);
 * - per piece: area, first pixel, first pixel off the core's top row and left column (as
 *   row-major indices in the slice, y * width + x);
 * - its edges: the labels of the core's outermost rows and columns, and of the rows and columns
 *   just outside the core as this chunk labelled them (from its context), with BEYOND_OTHER for a
 *   cell that has no pixel in the core.
 *
 * Platform-neutral.
 */
import type { Box } from '../padding.ts';
import type { CellParams } from './cell-params.ts';
import { cellRegions } from './cell-regions.ts';

export const SIDES = ['top', 'bottom', 'left', 'right'] as const;
export type Side = (typeof SIDES)[number];

/** In a chunk's `beyond` edges: a pixel of a cell that has no pixel in the chunk's core. */
export const BEYOND_OTHER = 0xffffffff;

/** The label chunks of one width x height slice. */
export interface LabelChunkGrid {
  width: number;
  height: number;
  /** Side of a chunk's core (cropped at the right and bottom edges). */
  size: number;
  /** Context around a core (clipped to the slice). */
  halo: number;
  columns: number;
  rows: number;
}

export function labelChunkGrid(width: number, height: number, params: Pick<CellParams, 'chunkSize' | 'chunkHalo'>): LabelChunkGrid {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
    throw new RangeError(`size: expected positive integers, found ${width}x${height}`);
  }
  const size = params.chunkSize;
  const halo = params.chunkHalo;
  if (!Number.isInteger(size) || size < 1) throw new RangeError(`chunkSize: expected a positive integer, found ${size}`);
  if (!Number.isInteger(halo) || halo < 1) throw new RangeError(`chunkHalo: expected an integer >= 1, found ${halo}`);
  return { width, height, size, halo, columns: Math.ceil(width / size), rows: Math.ceil(height / size) };
}

/** The pixels chunk (lx, ly) labels for the output. */
export function labelChunkCore(grid: LabelChunkGrid, lx: number, ly: number): Box {
  if (!(Number.isInteger(lx) && Number.isInteger(ly) && lx >= 0 && ly >= 0 && lx < grid.columns && ly < grid.rows)) {
    throw new RangeError(`label chunk: expected column 0-${grid.columns - 1} and row 0-${grid.rows - 1}, found ${lx}, ${ly}`);
  }
  const x = lx * grid.size;
  const y = ly * grid.size;
  return { x, y, width: Math.min(grid.size, grid.width - x), height: Math.min(grid.size, grid.height - y) };
}

/** The pixels chunk (lx, ly) sees: its core and `halo` pixels around it, clipped to the slice; the whole slice for a 1 x 1 grid. */
export function labelChunkContext(grid: LabelChunkGrid, lx: number, ly: number): Box {
  const core = labelChunkCore(grid, lx, ly);
  if (grid.columns === 1 && grid.rows === 1) return core;
  const x0 = Math.max(0, core.x - grid.halo);
  const y0 = Math.max(0, core.y - grid.halo);
  const x1 = Math.min(grid.width, core.x + core.width + grid.halo);
  const y1 = Math.min(grid.height, core.y + core.height + grid.halo);
  return { x: x0, y: y0, width: x1 - x0, height: y1 - y0 };
}

export interface LabelChunkRecord {
  lx: number;
  ly: number;
  core: Box;
  pieces: number;
  /** Per piece 1..pieces (index 0 unused): pixels in the core. */
  area: Float64Array;
  /** Per piece: its first core pixel in row-major order, as y * width + x of the slice. */
  first: Float64Array;
  /** Per piece: its first core pixel off the core's top row and left column; Infinity if none. */
  innerFirst: Float64Array;
  /** The core's top and bottom rows (left to right) and left and right columns (top to bottom). */
  edge: Record<Side, Uint32Array>;
  /** The row or column just outside the core on each side, as this chunk labelled it; null at the slice's edge. */
  beyond: Record<Side, Uint32Array | null>;
}

export interface LabelledChunk {
  /** The core's pixels (core.width x core.height, row-major): 0 or the piece 1..pieces. */
  labels: Uint32Array;
  record: LabelChunkRecord;
}

/** Labels chunk (lx, ly) from the probability of its context (labelChunkContext, row-major). */
export function labelChunk(probability: ArrayLike<number>, grid: LabelChunkGrid, lx: number, ly: number, params: CellParams): LabelledChunk {
  const core = labelChunkCore(grid, lx, ly);
  const context = labelChunkContext(grid, lx, ly);
  if (probability.length !== context.width * context.height) {
    throw new RangeError(`probability of label chunk ${lx}, ${ly}: expected ${context.width * context.height} pixels (${context.width}x${context.height}), found ${probability.length}`);
  }
  const regions = cellRegions(probability, context.width, context.height, params);
  let maxRegion = 0;
  for (const v of regions) if (v > maxRegion) maxRegion = v;
  // Pieces in row-major order of their first core pixel.
  const pieceOf = new Uint32Array(maxRegion + 1);
  const area = new Float64Array(maxRegion + 1);
  const first = new Float64Array(maxRegion + 1);
  const innerFirst = new Float64Array(maxRegion + 1).fill(Infinity);
  const labels = new Uint32Array(core.width * core.height);
  let pieces = 0;
  const dx = core.x - context.x;
  const dy = core.y - context.y;
  for (let y = 0; y < core.height; y++) {
    const from = (y + dy) * context.width + dx;
    for (let x = 0; x < core.width; x++) {
      const region = regions[from + x]!;
      if (region === 0) continue;
      let piece = pieceOf[region]!;
      if (piece === 0) {
        piece = pieceOf[region] = ++pieces;
        first[piece] = (core.y + y) * grid.width + core.x + x;
      }
      labels[y * core.width + x] = piece;
      area[piece]!++;
      if (x > 0 && y > 0 && innerFirst[piece] === Infinity) innerFirst[piece] = (core.y + y) * grid.width + core.x + x;
    }
  }
  const coreLine = (x0: number, y0: number, stepX: number, stepY: number, length: number): Uint32Array => {
    const out = new Uint32Array(length);
    for (let k = 0; k < length; k++) out[k] = labels[(y0 + k * stepY) * core.width + x0 + k * stepX]!;
    return out;
  };
  // A line of the context just outside the core (slice coordinates of its first pixel), or null outside the slice.
  const beyondLine = (x0: number, y0: number, stepX: number, stepY: number, length: number): Uint32Array | null => {
    if (x0 < 0 || y0 < 0 || x0 + stepX * (length - 1) >= grid.width || y0 + stepY * (length - 1) >= grid.height) return null;
    const out = new Uint32Array(length);
    for (let k = 0; k < length; k++) {
      const region = regions[(y0 + k * stepY - context.y) * context.width + x0 + k * stepX - context.x]!;
      out[k] = region === 0 ? 0 : pieceOf[region] || BEYOND_OTHER;
    }
    return out;
  };
  const { x, y, width: w, height: h } = core;
  const record: LabelChunkRecord = {
    lx,
    ly,
    core,
    pieces,
    area: area.slice(0, pieces + 1),
    first: first.slice(0, pieces + 1),
    innerFirst: innerFirst.slice(0, pieces + 1),
    edge: { top: coreLine(0, 0, 1, 0, w), bottom: coreLine(0, h - 1, 1, 0, w), left: coreLine(0, 0, 0, 1, h), right: coreLine(w - 1, 0, 0, 1, h) },
    beyond: {
      top: beyondLine(x, y - 1, 1, 0, w),
      bottom: beyondLine(x, y + h, 1, 0, w),
      left: beyondLine(x - 1, y, 0, 1, h),
      right: beyondLine(x + w, y, 0, 1, h),
    },
  };
  return { labels, record };
}
