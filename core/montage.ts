/**
 * A montage renderer for people to look at: a grid of pictures with a header row of column titles
 * and a label at the left of each row, drawn with the built-in bitmap font. Platform-neutral: it
 * returns RGB pixels; Node writes them with node/png.ts, the browser puts them on a canvas.
 *
 *   renderMontage({ columns: ['image', 'label', 'overlay'],
 *                   rows: [{ label: 'slice 25', cells: [image, label, overlayMask(image, label)] }] })
 *
 * Columns are as wide as their widest cell (or title), rows as tall as their tallest cell; cells
 * are centred horizontally in their column and sit at the top of their row. A missing cell (undefined) leaves its slot empty, so callers
 * such as `emseg evaluate` can add 'prediction' and 'errors' columns for some rows only.
 */
import { measureText, drawText } from './bitmap-font.ts';
import type { GreyImage } from './image.ts';
import { greyToRgb, isRgbImage, makeRgbImage, type Rgb, type RgbImage } from './rgb-image.ts';

/** One picture in the grid: a grey image (shown like greyToRgb) or an RGB(A) image. */
export type MontageCell = GreyImage | RgbImage;

export interface MontageRow {
  /** Drawn at the left of the row, e.g. 'slice 25'. */
  label: string;
  /** One cell per column; undefined leaves the slot empty. */
  cells: readonly (MontageCell | undefined)[];
}

export interface MontageSpec {
  /** Column titles drawn in the header row, e.g. ['image', 'label', 'overlay']. */
  columns: readonly string[];
  rows: readonly MontageRow[];
}

export interface MontageOptions {
  /** Integer factor by which every cell is shrunk (box average). Default 1 (full size). */
  shrink?: number;
  /** Pixels around and between cells. Default 8. */
  gap?: number;
  /** Integer scale of the 5x7 bitmap font. Default 2. */
  fontScale?: number;
  /** Default [255, 255, 255]. */
  background?: Rgb;
  /** Default [20, 20, 20]. */
  textColour?: Rgb;
}

/** Box-average shrink of an RGB(A) image by an integer factor (partial boxes at the edges averaged too). */
export function shrinkRgb(image: RgbImage, factor: number): RgbImage {
  if (!Number.isInteger(factor) || factor < 1) throw new RangeError(`shrink: expected a positive integer, found ${factor}`);
  if (factor === 1) return image;
  const { width, height, channels, data } = image;
  const w = Math.ceil(width / factor);
  const h = Math.ceil(height / factor);
  const out = new Uint8Array(w * h * channels);
  for (let y = 0; y < h; y += 1) {
    const y0 = y * factor;
    const y1 = Math.min(height, y0 + factor);
    for (let x = 0; x < w; x += 1) {
      const x0 = x * factor;
      const x1 = Math.min(width, x0 + factor);
      const n = (y1 - y0) * (x1 - x0);
      for (let c = 0; c < channels; c += 1) {
        let sum = 0;
        for (let yy = y0; yy < y1; yy += 1) {
          for (let xx = x0; xx < x1; xx += 1) sum += data[(yy * width + xx) * channels + c]!;
        }
        out[(y * w + x) * channels + c] = Math.round(sum / n);
      }
    }
  }
  return { width: w, height: h, channels, data: out };
}

function toRgb(cell: MontageCell): RgbImage {
  return isRgbImage(cell) ? cell : greyToRgb(cell);
}

/** Copies `source` into `target` at (left, top), dropping alpha (RGBA is composited over the target). */
function paste(target: RgbImage, source: RgbImage, left: number, top: number): void {
  const { data: out, width: tw } = target;
  const { data: src, width: sw, height: sh, channels } = source;
  for (let y = 0; y < sh; y += 1) {
    for (let x = 0; x < sw; x += 1) {
      const s = (y * sw + x) * channels;
      const o = ((top + y) * tw + left + x) * 3;
      if (channels === 4) {
        const a = src[s + 3]! / 255;
        out[o] = Math.round(out[o]! + (src[s]! - out[o]!) * a);
        out[o + 1] = Math.round(out[o + 1]! + (src[s + 1]! - out[o + 1]!) * a);
        out[o + 2] = Math.round(out[o + 2]! + (src[s + 2]! - out[o + 2]!) * a);
      } else {
        out[o] = src[s]!;
        out[o + 1] = src[s + 1]!;
        out[o + 2] = src[s + 2]!;
      }
    }
  }
}

/** Renders the grid to one RGB image. */
export function renderMontage(spec: MontageSpec, options: MontageOptions = {}): RgbImage {
  const shrink = options.shrink ?? 1;
  const gap = options.gap ?? 8;
  const fontScale = options.fontScale ?? 2;
  const background = options.background ?? [255, 255, 255];
  const textColour = options.textColour ?? [20, 20, 20];
  if (!Number.isInteger(gap) || gap < 0) throw new RangeError(`gap: expected a non-negative integer, found ${gap}`);
  if (spec.rows.length === 0) throw new RangeError('rows: expected at least one row, found none');

  const cells = spec.rows.map((row) => row.cells.map((cell) => (cell ? shrinkRgb(toRgb(cell), shrink) : undefined)));
  const columnCount = Math.max(spec.columns.length, ...cells.map((row) => row.length));
  const textHeight = measureText('', fontScale).height;

  const columnWidths = Array.from({ length: columnCount }, (_, c) =>
    Math.max(measureText(spec.columns[c] ?? '', fontScale).width, ...cells.map((row) => row[c]?.width ?? 0)),
  );
  const rowHeights = cells.map((row, r) =>
    Math.max(spec.rows[r]!.label ? textHeight : 1, ...row.map((cell) => cell?.height ?? 0)),
  );
  const labelWidth = Math.max(...spec.rows.map((row) => measureText(row.label, fontScale).width));
  const hasHeader = spec.columns.some((title) => title.length > 0);

  const labelColumn = labelWidth > 0 ? labelWidth + gap : 0;
  const headerRow = hasHeader ? textHeight + gap : 0;
  const width = gap + labelColumn + columnWidths.reduce((a, b) => a + b, 0) + gap * Math.max(0, columnCount - 1) + gap;
  const height = gap + headerRow + rowHeights.reduce((a, b) => a + b, 0) + gap * Math.max(0, cells.length - 1) + gap;
  const canvas = makeRgbImage(Math.max(1, width), Math.max(1, height), background);

  const columnLefts: number[] = [];
  let left = gap + labelColumn;
  for (const columnWidth of columnWidths) {
    columnLefts.push(left);
    left += columnWidth + gap;
  }
  if (hasHeader) {
    spec.columns.forEach((title, c) => {
      const textWidth = measureText(title, fontScale).width;
      drawText(canvas, title, columnLefts[c]! + Math.floor((columnWidths[c]! - textWidth) / 2), gap, {
        colour: textColour,
        scale: fontScale,
      });
    });
  }
  let top = gap + headerRow;
  cells.forEach((row, r) => {
    const rowHeight = rowHeights[r]!;
    drawText(canvas, spec.rows[r]!.label, gap, top + Math.floor((rowHeight - textHeight) / 2), {
      colour: textColour,
      scale: fontScale,
    });
    row.forEach((cell, c) => {
      if (cell) paste(canvas, cell, columnLefts[c]! + Math.floor((columnWidths[c]! - cell.width) / 2), top);
    });
    top += rowHeight + gap;
  });
  return canvas;
}
