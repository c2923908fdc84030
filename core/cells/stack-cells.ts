/**
 * Cells of every page of a segmented stack: instance labels (cell-labels.ts) and their
 * measurements (cell-measurements.ts), page k measured as slice k. Labels restart at 1 on each
 * page, and a cell is named by (slice, label); with `linkSections` the pages are linked into 3D
 * objects (section-links.ts): the label pages then hold object ids, consistent through the stack,
 * and each cell's row its `object` beside its per-page `label`. Platform-neutral.
 */
import type { ImageStack } from '../image.ts';
import type { LabelStack } from '../tiff-write.ts';
import { labelCells } from './cell-labels.ts';
import { measureCells, type CellMeasurement } from './cell-measurements.ts';
import type { CellParams } from './cell-params.ts';
import { SectionLinker, relabelSection } from './section-links.ts';

export interface StackCells {
  /** Per-page labels, or object ids when linked. */
  labels: LabelStack;
  /** The cells of every page, page by page, each in label order. */
  cells: CellMeasurement[];
  /** Objects through the stack (1..objects) when linked; absent otherwise. */
  objects?: number;
}

export interface StackCellsOptions {
  /** Link the pages into 3D objects with this minimum overlap (section-links.ts). Default: not linked. */
  linkSections?: number | undefined;
}

export function labelStackCells(probability: ImageStack<Float32Array>, params: CellParams, options: StackCellsOptions = {}): StackCells {
  const pages: LabelStack['pages'][number][] = [];
  const cells: CellMeasurement[] = [];
  const linker = options.linkSections === undefined ? undefined : new SectionLinker(options.linkSections);
  probability.pages.forEach((page, slice) => {
    const labelled = labelCells(page.data, page.width, page.height, params);
    const ids = linker?.next(labelled.labels);
    pages.push({ width: page.width, height: page.height, data: ids ? relabelSection(labelled.labels, ids) : labelled.labels });
    // one by one: spreading a page of 100000+ cells into push() overflows the call stack
    for (const cell of measureCells(labelled, { slice, probability: page.data })) cells.push(ids ? { ...cell, object: ids[cell.label]! } : cell);
  });
  const labels = { width: probability.width, height: probability.height, pages };
  return linker ? { labels, cells, objects: linker.objects } : { labels, cells };
}
