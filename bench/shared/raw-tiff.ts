/**
 * TIFF files built field by field (classic little-endian, data at byte 8, then the IFDs), so that a
 * file can hold exactly the inconsistency a test or a benchmark wants: the hostile-input corpus
 * (test/helpers/hostile-inputs.ts), the TIFF decoder's tests, and the bad inputs of bench:load.
 */
import { concatBytes } from '../../core/bytes.ts';

/** A field of a TIFF directory: its type and values (a RATIONAL as numerator, denominator pairs). */
export interface TiffField {
  type: 3 | 4 | 5 | 8 | 9;
  values: readonly number[];
}

/** Where the data passed to buildTiff starts in the file. */
export const TIFF_DATA_OFFSET = 8;

const TYPE_SIZE = { 3: 2, 4: 4, 5: 8, 8: 2, 9: 4 } as const;

/**
 * A classic little-endian TIFF: `data` at byte 8, then one IFD per page (fields sorted by tag),
 * values that do not fit in an entry right after their IFD.
 */
export function buildTiff(data: Uint8Array, pages: readonly Record<number, TiffField>[]): Uint8Array {
  const parts: Uint8Array[] = [];
  let length = TIFF_DATA_OFFSET + data.length + (data.length % 2);
  const ifdOffsets: number[] = [];
  const ifds = pages.map((fields) => {
    const tags = Object.keys(fields).map(Number).sort((a, b) => a - b);
    const ifdSize = 2 + tags.length * 12 + 4;
    const extraSize = tags.reduce((sum, tag) => {
      const field = fields[tag]!;
      const size = TYPE_SIZE[field.type] * (field.type === 5 ? field.values.length / 2 : field.values.length);
      return sum + (size > 4 ? size + (size % 2) : 0);
    }, 0);
    const bytes = new Uint8Array(ifdSize + extraSize);
    ifdOffsets.push(length);
    const start = length;
    length += bytes.length;
    return { tags, fields, bytes, start, ifdSize };
  });
  ifds.forEach(({ tags, fields, bytes, start, ifdSize }, page) => {
    const view = new DataView(bytes.buffer);
    view.setUint16(0, tags.length, true);
    let extra = ifdSize;
    tags.forEach((tag, i) => {
      const field = fields[tag]!;
      const count = field.type === 5 ? field.values.length / 2 : field.values.length;
      const size = TYPE_SIZE[field.type] * count;
      const e = 2 + i * 12;
      view.setUint16(e, tag, true);
      view.setUint16(e + 2, field.type, true);
      view.setUint32(e + 4, count, true);
      let at = e + 8;
      if (size > 4) {
        view.setUint32(e + 8, start + extra, true);
        at = extra;
        extra += size + (size % 2);
      }
      field.values.forEach((value, k) => {
        if (field.type === 3) view.setUint16(at + k * 2, value, true);
        else if (field.type === 8) view.setInt16(at + k * 2, value, true);
        else if (field.type === 4 || field.type === 5) view.setUint32(at + k * 4, value, true);
        else view.setInt32(at + k * 4, value, true);
      });
    });
    view.setUint32(ifdSize - 4, ifdOffsets[page + 1] ?? 0, true);
  });
  parts.push(new Uint8Array([0x49, 0x49, 42, 0, ...u32(ifdOffsets[0]!)]), data, new Uint8Array(data.length % 2));
  for (const { bytes } of ifds) parts.push(bytes);
  return concatBytes(parts);
}

function u32(value: number): number[] {
  return [value & 0xff, (value >>> 8) & 0xff, (value >>> 16) & 0xff, (value >>> 24) & 0xff];
}

/** A SHORT field. */
export const short = (...values: number[]): TiffField => ({ type: 3, values });
/** A LONG field. */
export const long = (...values: number[]): TiffField => ({ type: 4, values });

/** The fields of an 8-bit grey page of width x height in strips at `offsets`. */
export function greyPage(width: number, height: number, strip: { offsets: number[]; counts: number[]; rows: number; compression?: number }): Record<number, TiffField> {
  return {
    256: long(width),
    257: long(height),
    258: short(8),
    259: short(strip.compression ?? 1),
    262: short(1),
    273: long(...strip.offsets),
    277: short(1),
    278: long(strip.rows),
    279: long(...strip.counts),
  };
}
