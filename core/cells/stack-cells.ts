/**
 * Cells of every page of a segmented stack: instance labels (cell-labels.ts) and their
 * measurements (cell-measurements.ts), page k measured as slice k. Labels restart at 1 on each
 * page: a cell is named by (slice, label); linking cells across sections is not done here.
 * Platform-neutral.
 */
import type { ImageStack } from '../image.ts';
import type { LabelStack } from '../tiff-write.ts';
import { labelCells } from './cell-labels.ts';
import { measureCells, type CellMeasurement } from './cell-measurements.ts';
import type { CellParams } from './cell-params.ts';

export interface StackCells {
  labels: LabelStack;
  /** The cells of every page, page by page, each in label order. */
  cells: CellMeasurement[];
}

export function labelStackCells(probability: ImageStack<Float32Array>, params: CellParams): StackCells {
  const pages: LabelStack['pages'][number][] = [];
  const cells: CellMeasurement[] = [];
  probability.pages.forEach((page, slice) => {
    const labelled = labelCells(page.data, page.width, page.height, params);
    pages.push({ width: page.width, height: page.height, data: labelled.labels });
    // one by one: spreading a page of 100000+ cells into push() overflows the call stack
    for (const cell of measureCells(labelled, { slice, probability: page.data })) cells.push(cell);
  });
  return { labels: { width: probability.width, height: probability.height, pages }, cells };
}
