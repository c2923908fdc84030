/**
 * Probability -> colour for the heat map: the "inferno" colour map (perceptually uniform, dark =
 * membrane / low probability of cell interior, bright yellow = cell interior), as a 256-entry
 * table interpolated from 9 anchor colours.
 */
import type { GreyImage } from '../../core/image.ts';
import type { RgbImage } from '../../core/rgb-image.ts';

const INFERNO_ANCHORS: readonly (readonly [number, number, number])[] = [
  [0, 0, 4], [31, 12, 72], [85, 15, 109], [136, 34, 106], [186, 54, 85],
  [227, 89, 51], [249, 140, 10], [249, 201, 50], [252, 255, 164],
];

function buildTable(): Uint8Array {
  const table = new Uint8Array(256 * 3);
  const segments = INFERNO_ANCHORS.length - 1;
  for (let i = 0; i < 256; i += 1) {
    const position = (i / 255) * segments;
    const k = Math.min(segments - 1, Math.floor(position));
    const t = position - k;
    const a = INFERNO_ANCHORS[k]!;
    const b = INFERNO_ANCHORS[k + 1]!;
    for (let c = 0; c < 3; c += 1) table[i * 3 + c] = Math.round(a[c]! + (b[c]! - a[c]!) * t);
  }
  return table;
}

export const HEAT_TABLE = buildTable();

/** The probability map (0..1) as an RGBA picture. */
export function heatMap(probability: GreyImage<Float32Array>): RgbImage {
  const p = probability.data;
  const data = new Uint8Array(p.length * 4);
  for (let i = 0, o = 0; i < p.length; i += 1, o += 4) {
    const v = p[i]!;
    const index = v > 0 ? (v < 1 ? Math.round(v * 255) : 255) : 0;
    data[o] = HEAT_TABLE[index * 3]!;
    data[o + 1] = HEAT_TABLE[index * 3 + 1]!;
    data[o + 2] = HEAT_TABLE[index * 3 + 2]!;
    data[o + 3] = 255;
  }
  return { width: probability.width, height: probability.height, channels: 4, data };
}

/** A horizontal legend strip, `width` x `height`, from 0 (left) to 1 (right). */
export function heatLegend(width: number, height: number): RgbImage {
  const data = new Uint8Array(width * height * 4);
  for (let x = 0; x < width; x += 1) {
    const index = Math.round((x / Math.max(1, width - 1)) * 255);
    for (let y = 0; y < height; y += 1) {
      const o = (y * width + x) * 4;
      data[o] = HEAT_TABLE[index * 3]!;
      data[o + 1] = HEAT_TABLE[index * 3 + 1]!;
      data[o + 2] = HEAT_TABLE[index * 3 + 2]!;
      data[o + 3] = 255;
    }
  }
  return { width, height, channels: 4, data };
}
