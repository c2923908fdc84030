/**
 * The cell outputs of `emseg predict` (in-memory path): `--output labels` (uint32 instance labels,
 * TIFF, one page per slice) and `--cells table.csv` (one row per cell of every input, written
 * once at the end); with `linkSections` the pages of each input are linked into 3D objects
 * (core/cells/section-links.ts: object ids in the labels, an `object_id` column in the table).
 * Called from predict/predict.ts, which knows nothing else about cells.
 */
import type { ModelCard } from '../core/contract.ts';
import { cellParamsFrom, type CellParams } from '../core/cells/cell-params.ts';
import { cellTableCsv, type CellTableImage } from '../core/cells/cell-table.ts';
import { labelStackCells, type StackCells } from '../core/cells/stack-cells.ts';
import type { ImageStack, PixelSize } from '../core/image.ts';
import { encodeLabelTiff } from '../core/tiff.ts';

/** Collects the cells of each input while predict runs; `csv()` is the table at the end. */
export class CellCollector {
  readonly params: CellParams;
  private readonly images: CellTableImage[] = [];

  /**
   * `overrides` over the model card's `cells` over the defaults (core/cells/cell-params.ts);
   * `linkSections`: the minimum overlap of a link between pages (core/cells/section-links.ts),
   * undefined for no linking.
   */
  constructor(card: ModelCard, overrides: Partial<CellParams> = {}, readonly linkSections?: number) {
    this.params = cellParamsFrom(card.cells, overrides);
  }

  /** Labels and measures the cells of one input's probability stack, and keeps them for the table. */
  add(image: string, probability: ImageStack<Float32Array>, pixelSize: number | undefined): StackCells {
    const found = labelStackCells(probability, this.params, { linkSections: this.linkSections });
    this.images.push({ image, cells: found.cells, pixelSize });
    return found;
  }

  csv(): string {
    return cellTableCsv(this.images, { linked: this.linkSections !== undefined });
  }
}

/** The labels of one input as a uint32 TIFF, stating the pixel size its mask would state. */
export function encodeCellLabels(found: StackCells, pixelSize?: PixelSize): Uint8Array {
  return encodeLabelTiff({ ...found.labels, pixelSize });
}
