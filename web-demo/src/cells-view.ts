/**
 * The demo's cells view: the instance labels of a slice (core/cells, the same labelling and cell
 * table as `emseg predict --output labels --cells` and the server's `output=cells`, with the model
 * card's cell parameters) and the CSV of the cell table. The page paints each cell in its own
 * colour over the image with core/cells/cell-colours.ts (as `emseg visualize --cells` does) and
 * offers the CSV for download. Platform-neutral (no DOM).
 */
import { labelCells, type CellLabels } from '../../core/cells/cell-labels.ts';
import { measureCells } from '../../core/cells/cell-measurements.ts';
import { cellParamsFrom } from '../../core/cells/cell-params.ts';
import { cellTableCsv } from '../../core/cells/cell-table.ts';
import type { ModelCard } from '../../core/contract.ts';
import type { GreyImage } from '../../core/image.ts';

export interface SliceCells {
  labels: CellLabels;
  /** The cell table (core/cells/cell-table.ts), one row per cell. */
  csv: string;
}

/** Labels and measures the cells of one slice's probability; `image` names the rows of the table, `slice` is the page index. */
export function sliceCells(probability: GreyImage<Float32Array>, card: ModelCard, table: { image: string; slice: number; pixelSize: number | undefined }): SliceCells {
  const labels = labelCells(probability.data, probability.width, probability.height, cellParamsFrom(card.cells));
  const cells = measureCells(labels, { slice: table.slice, probability: probability.data });
  return { labels, csv: cellTableCsv([{ image: table.image, cells, pixelSize: table.pixelSize }]) };
}
