/**
 * How emseg shows instance labels to people: each cell painted in its own colour over the image,
 * the lines between cells (label 0) left as the image in grey. One implementation for the web
 * demo's cells view (web-demo/src/cells-view.ts) and `emseg visualize --cells` (node/visualize.ts).
 * Platform-neutral: it returns RGBA pixels; the page puts them on a canvas, Node writes a PNG.
 */
import type { GreyImage } from '../image.ts';
import { toDisplayBytes, type Rgb, type RgbImage } from '../rgb-image.ts';
import type { CellLabels } from './cell-labels.ts';

/** Opacity of the cell colours in `emseg visualize --cells` (the web demo's opacity slider, web-demo/index.html, also starts at 0.5). */
export const DEFAULT_CELL_OPACITY = 0.5;

/**
 * The colour of a label: hues spaced by the golden angle (137.508°), so that labels close in
 * number (close in scan order, as core/cells numbers them) differ; saturated and bright enough to
 * read over dark and light tissue. The same label always has the same colour. Label 0 has none.
 */
export function cellColour(label: number): Rgb {
  const hue = (label * 137.508) % 360;
  const chroma = 0.85;
  const h = hue / 60;
  const x = chroma * (1 - Math.abs((h % 2) - 1));
  const [r, g, b] = h < 1 ? [chroma, x, 0] : h < 2 ? [x, chroma, 0] : h < 3 ? [0, chroma, x] : h < 4 ? [0, x, chroma] : h < 5 ? [x, 0, chroma] : [chroma, 0, x];
  const lift = 0.15;
  return [Math.round((r + lift) * 255), Math.round((g + lift) * 255), Math.round((b + lift) * 255)];
}

/**
 * RGBA picture (alpha 255): each cell's colour blended over the image with `opacity` (0..1),
 * label 0 (lines, no cell) the image in grey. Labels may be any numbers (a file's labels need not
 * run 1..count); the image is shown like greyToRgb (core/rgb-image.ts toDisplayBytes).
 */
export function colourCells(image: GreyImage, labels: Pick<CellLabels, 'width' | 'height' | 'labels'>, opacity: number): RgbImage {
  if (image.width !== labels.width || image.height !== labels.height) {
    throw new RangeError(`labels: expected ${image.width}x${image.height} like the image, found ${labels.width}x${labels.height}`);
  }
  if (!(opacity >= 0 && opacity <= 1)) throw new RangeError(`opacity: expected a number in [0, 1], found ${opacity}`);
  const grey = toDisplayBytes(image);
  const palette = new Map<number, Rgb>();
  const data = new Uint8Array(grey.length * 4);
  let last = 0;
  let colour: Rgb = [0, 0, 0];
  for (let i = 0, o = 0; i < grey.length; i++, o += 4) {
    const g = grey[i]!;
    const k = labels.labels[i]!;
    if (k === 0) {
      data[o] = g;
      data[o + 1] = g;
      data[o + 2] = g;
    } else {
      if (k !== last) {
        colour = palette.get(k) ?? cellColour(k);
        palette.set(k, colour);
        last = k;
      }
      for (let c = 0; c < 3; c++) data[o + c] = Math.round(g * (1 - opacity) + colour[c]! * opacity);
    }
    data[o + 3] = 255;
  }
  return { width: image.width, height: image.height, channels: 4, data };
}
