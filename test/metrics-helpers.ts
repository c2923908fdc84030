/** Test helpers for the metrics tests: images drawn as text, '#' = cell interior, '.' = membrane. */
import { makeImage, type GreyImage } from '../core/image.ts';

export function labelFromArt(rows: string[]): GreyImage<Uint8Array> {
  const width = rows[0]!.length;
  const data = new Uint8Array(width * rows.length);
  rows.forEach((row, y) => [...row].forEach((c, x) => (data[y * width + x] = c === '#' ? 255 : 0)));
  return makeImage(width, rows.length, data);
}

export function probabilityFromArt(rows: string[]): Float32Array {
  return Float32Array.from(labelFromArt(rows).data, (v) => v / 255);
}
