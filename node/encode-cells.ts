/**
 * Encodes the cells of a segmented stack (core/cells/stack-cells.ts) as the server answers them:
 * `labels` as a uint32 TIFF stating the pixel size (core/tiff-write.ts encodeLabelTiff, as `emseg
 * predict --output labels` writes it) or, for one page of at most 65535 cells, a 16-bit grey PNG;
 * `cells` as the cell table of `emseg predict --cells` (core/cells/cell-table.ts), CSV or JSON
 * (`{ image, pixelSize, count, cells: [{ <column>: value }] }`, an empty CSV field as null).
 */
import type { CellTableImage, CellTableOptions } from '../core/cells/cell-table.ts';
import { cellTableCsv, cellTableRecords } from '../core/cells/cell-table.ts';
import type { StackCells } from '../core/cells/stack-cells.ts';
import { EmsegError } from '../core/errors.ts';
import type { PixelSize } from '../core/image.ts';
import type { OutputFormat, TableFormat } from '../core/segmentation-output.ts';
import { encodeLabelTiff } from '../core/tiff.ts';
import { encodePng, type EncodePngOptions } from './png.ts';

export const TABLE_CONTENT_TYPES: Record<TableFormat, string> = { json: 'application/json', csv: 'text/csv; charset=utf-8' };

/** The largest label a 16-bit PNG holds. */
export const MAX_PNG_LABEL = 0xffff;

/** The labels as a uint32 TIFF (every page) or a 16-bit PNG (one page, at most MAX_PNG_LABEL cells). */
export async function encodeLabels(
  found: StackCells,
  format: OutputFormat,
  name: string,
  options: EncodePngOptions & { pixelSize?: PixelSize | undefined } = {},
): Promise<Uint8Array> {
  if (format === 'tiff') return encodeLabelTiff({ ...found.labels, pixelSize: options.pixelSize });
  const pages = found.labels.pages;
  if (pages.length !== 1) throw new EmsegError('E_BAD_ARGUMENT', `${name}: has ${pages.length} pages, but a PNG holds one; use format=tiff`);
  const page = pages[0]!;
  let count = 0;
  for (const label of page.data) if (label > count) count = label;
  if (count > MAX_PNG_LABEL) {
    throw new EmsegError('E_BAD_ARGUMENT', `format: a 16-bit PNG holds labels up to ${MAX_PNG_LABEL}, but ${name} has ${count} cells; use format=tiff (uint32 labels)`);
  }
  const data = Uint16Array.from(page.data);
  const png = options.compressionLevel === undefined ? {} : { compressionLevel: options.compressionLevel };
  return encodePng({ width: page.width, height: page.height, data }, png);
}

/** The cell table of one image, CSV or JSON, as UTF-8 bytes; `linked`: cells linked into 3D objects (the object_id column). */
export function encodeCellTable(table: CellTableImage, format: TableFormat, options: CellTableOptions = {}): Uint8Array {
  if (format === 'csv') return new TextEncoder().encode(cellTableCsv([table], options));
  const document = { image: table.image, pixelSize: table.pixelSize ?? null, count: table.cells.length, cells: cellTableRecords([table], options) };
  return new TextEncoder().encode(JSON.stringify(document));
}
