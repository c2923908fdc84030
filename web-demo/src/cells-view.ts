/**
 * The demo's cells view: the instance labels of a slice (core/cells, the same labelling and cell
 * table as `emseg predict --output labels --cells` and the server's `output=cells`, with the model
 * card's cell parameters), each cell painted in its own colour over the image with the lines
 * between cells left grey, and the CSV of the cell table. Platform-neutral (no DOM): the page
 * draws the picture and offers the CSV for download.
 */
import { labelCells, type CellLabels } from '../../core/cells/cell-labels.ts';
import { measureCells } from '../../core/cells/cell-measurements.ts';
import { cellParamsFrom } from '../../core/cells/cell-params.ts';
import { cellTableCsv } from '../../core/cells/cell-table.ts';
import type { ModelCard } from '../../core/contract.ts';
import type { GreyImage } from '../../core/image.ts';
import { toDisplayBytes, type RgbImage } from '../../core/rgb-image.ts';

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

/**
 * The colour of a label: hues spaced by the golden angle, so that neighbours (labels close in scan
 * order) differ; saturated and bright enough to read over dark and light tissue. Label 0 has none.
 */
export function cellColour(label: number): [number, number, number] {
  const hue = (label * 137.508) % 360;
  const chroma = 0.85;
  const h = hue / 60;
  const x = chroma * (1 - Math.abs((h % 2) - 1));
  const [r, g, b] = h < 1 ? [chroma, x, 0] : h < 2 ? [x, chroma, 0] : h < 3 ? [0, chroma, x] : h < 4 ? [0, x, chroma] : h < 5 ? [x, 0, chroma] : [chroma, 0, x];
  const lift = 0.15;
  return [Math.round((r + lift) * 255), Math.round((g + lift) * 255), Math.round((b + lift) * 255)];
}

/** RGBA picture: each cell's colour blended over the image with `opacity` (0..1), label 0 (lines, no cell) the image in grey. */
export function colourCells(image: GreyImage, labels: CellLabels, opacity: number): RgbImage {
  if (image.width !== labels.width || image.height !== labels.height) {
    throw new RangeError(`labels: expected ${image.width}x${image.height} like the image, found ${labels.width}x${labels.height}`);
  }
  if (!(opacity >= 0 && opacity <= 1)) throw new RangeError(`opacity: expected a number in [0, 1], found ${opacity}`);
  const grey = toDisplayBytes(image);
  const palette = new Uint8Array((labels.count + 1) * 3);
  for (let k = 1; k <= labels.count; k++) palette.set(cellColour(k), k * 3);
  const data = new Uint8Array(grey.length * 4);
  for (let i = 0, o = 0; i < grey.length; i++, o += 4) {
    const g = grey[i]!;
    const k = labels.labels[i]!;
    for (let c = 0; c < 3; c++) data[o + c] = k === 0 ? g : Math.round(g * (1 - opacity) + palette[k * 3 + c]! * opacity);
    data[o + 3] = 255;
  }
  return { width: image.width, height: image.height, channels: 4, data };
}
