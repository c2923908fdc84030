/**
 * The cell table (`emseg predict --cells cells.csv`): one CSV row per cell of
 * cell-measurements.ts, in pixels and, when the pixel size is known, in micrometres. Columns:
 *
 *   image, label, slice, area_px, area_um2, centroid_x_px, centroid_y_px,
 *   bbox_x_min, bbox_y_min, bbox_x_max, bbox_y_max (inclusive, pixels),
 *   equivalent_diameter_px, equivalent_diameter_um, border_membrane_probability
 *
 * With sections linked into 3D objects (section-links.ts, `--link-sections`) the table gets
 * `object_id` after `slice`: the cell's object, the value of its pixels in the linked labels
 * (`label` stays its label within its slice). Physical columns are empty without a pixel size, as
 * is border_membrane_probability for a cell without a border. `cellTableRecords` gives the same
 * rows as objects keyed by the column names (the server's JSON cell table).
 * Platform-neutral.
 */
import { formatCsv, type CsvValue } from '../csv.ts';
import type { CellMeasurement } from './cell-measurements.ts';

export const CELL_TABLE_COLUMNS = [
  'image',
  'label',
  'slice',
  'area_px',
  'area_um2',
  'centroid_x_px',
  'centroid_y_px',
  'bbox_x_min',
  'bbox_y_min',
  'bbox_x_max',
  'bbox_y_max',
  'equivalent_diameter_px',
  'equivalent_diameter_um',
  'border_membrane_probability',
] as const;

/** The columns of a table of linked cells: CELL_TABLE_COLUMNS with `object_id` after `slice`. */
export const LINKED_CELL_TABLE_COLUMNS = [...CELL_TABLE_COLUMNS.slice(0, 3), 'object_id', ...CELL_TABLE_COLUMNS.slice(3)] as const;

export interface CellTableOptions {
  /** The cells were linked into 3D objects: the `object_id` column, which every cell must have. Default false. */
  linked?: boolean;
}

/** The cells of one image (file), with its pixel size in nm when known. */
export interface CellTableImage {
  image: string;
  cells: readonly CellMeasurement[];
  /** Pixel size in nm (square pixels); undefined when unknown. */
  pixelSize?: number | undefined;
}

/** Rounds to 4 decimals for the table (sub-pixel detail beyond that is noise). */
const round4 = (x: number): number => Math.round(x * 1e4) / 1e4;

function row(image: string, cell: CellMeasurement, pixelSize: number | undefined, linked: boolean): CsvValue[] {
  const micrometres = pixelSize === undefined ? undefined : pixelSize / 1000;
  if (linked && cell.object === undefined) throw new RangeError(`cell ${cell.label} of slice ${cell.slice} of ${image}: expected an object id in a table of linked cells, found none`);
  return [
    image,
    cell.label,
    cell.slice,
    ...(linked ? [cell.object] : []),
    cell.area,
    micrometres === undefined ? undefined : round4(cell.area * micrometres * micrometres),
    round4(cell.centroidX),
    round4(cell.centroidY),
    cell.xMin,
    cell.yMin,
    cell.xMax,
    cell.yMax,
    round4(cell.equivalentDiameter),
    micrometres === undefined ? undefined : round4(cell.equivalentDiameter * micrometres),
    Number.isNaN(cell.borderMembraneProbability) ? undefined : round4(cell.borderMembraneProbability),
  ];
}

/** The columns of the table: CELL_TABLE_COLUMNS, or LINKED_CELL_TABLE_COLUMNS for linked cells. */
export function cellTableColumns(options: CellTableOptions = {}): readonly string[] {
  return options.linked === true ? LINKED_CELL_TABLE_COLUMNS : CELL_TABLE_COLUMNS;
}

/** The table's rows (values in the order of cellTableColumns) of the cells of every image, in the given order. */
export function cellTableRows(images: readonly CellTableImage[], options: CellTableOptions = {}): CsvValue[][] {
  const rows: CsvValue[][] = [];
  for (const { image, cells, pixelSize } of images) {
    if (pixelSize !== undefined && !(pixelSize > 0 && Number.isFinite(pixelSize))) {
      throw new RangeError(`pixelSize of ${image}: expected a size in nm greater than 0, found ${pixelSize}`);
    }
    for (const cell of cells) rows.push(row(image, cell, pixelSize, options.linked === true));
  }
  return rows;
}

/** The CSV text of the cells of every image, in the given order. */
export function cellTableCsv(images: readonly CellTableImage[], options: CellTableOptions = {}): string {
  return formatCsv(cellTableColumns(options), cellTableRows(images, options));
}

export type CellTableRecord = Record<(typeof CELL_TABLE_COLUMNS)[number], string | number | null> & { object_id?: number };

/** The same table as objects keyed by the CSV's column names (with `object_id` for linked cells); an empty CSV cell is null. */
export function cellTableRecords(images: readonly CellTableImage[], options: CellTableOptions = {}): CellTableRecord[] {
  const columns = cellTableColumns(options);
  return cellTableRows(images, options).map((values) => Object.fromEntries(columns.map((column, i) => [column, values[i] ?? null])) as CellTableRecord);
}
