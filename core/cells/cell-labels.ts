/**
 * Instance labels from a cell-interior probability map: the cells of cell-regions.ts (seeds,
 * seeded watershed of 1 - p, size filters), numbered 1..count in row-major order of each cell's
 * first pixel. 0 = boundary (watershed line), membrane below `maskThreshold`, or no cell.
 *
 * An image with a side above `chunkSize` is labelled in label chunks, each with `chunkHalo` pixels
 * of context, and the chunks' cells joined across their borders (label-chunk.ts, chunk-merge.ts):
 * the same algorithm, chunk for chunk, as the large-image path (volume-labels.ts), so both give
 * the same labels for the same probabilities. An image that fits in one chunk is labelled whole.
 * Platform-neutral.
 *
 *   const { labels, count } = labelCells(probability, width, height, DEFAULT_CELL_PARAMS);
 */
import type { Box } from '../padding.ts';
import type { CellParams } from './cell-params.ts';
import { assertCellInput } from './cell-regions.ts';
import { finalChunkLabels, resolveLabelChunks } from './chunk-merge.ts';
import { labelChunk, labelChunkContext, labelChunkGrid, type LabelledChunk } from './label-chunk.ts';

export interface CellLabels {
  width: number;
  height: number;
  /** Per pixel: 0 = boundary or no cell, 1..count = cell. */
  labels: Uint32Array;
  count: number;
}

/** The pixels of `box` of a width-wide image, row-major (the image itself when the box is all of it). */
function region(data: ArrayLike<number>, width: number, box: Box): ArrayLike<number> {
  if (box.x === 0 && box.y === 0 && box.width === width && box.width * box.height === data.length) return data;
  const out = new Float32Array(box.width * box.height);
  for (let y = 0; y < box.height; y++) {
    for (let x = 0; x < box.width; x++) out[y * box.width + x] = data[(box.y + y) * width + box.x + x]!;
  }
  return out;
}

/** Partitions one slice into cells (see the module comment). */
export function labelCells(probability: ArrayLike<number>, width: number, height: number, params: CellParams): CellLabels {
  assertCellInput(probability, width, height, params);
  const n = width * height;
  const grid = labelChunkGrid(width, height, params);
  const chunks: LabelledChunk[] = [];
  for (let ly = 0; ly < grid.rows; ly++) {
    for (let lx = 0; lx < grid.columns; lx++) {
      chunks.push(labelChunk(region(probability, width, labelChunkContext(grid, lx, ly)), grid, lx, ly, params));
    }
  }
  const resolution = resolveLabelChunks(grid, chunks.map((chunk) => chunk.record));
  const labels = new Uint32Array(n);
  for (const chunk of chunks) {
    const { core } = chunk.record;
    const cells = finalChunkLabels(resolution, chunk.record, chunk.labels);
    for (let y = 0; y < core.height; y++) labels.set(cells.subarray(y * core.width, (y + 1) * core.width), (core.y + y) * width + core.x);
  }
  return { width, height, labels, count: resolution.count };
}
