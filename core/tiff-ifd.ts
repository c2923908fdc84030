/**
 * Reads the structure of a classic TIFF or BigTIFF file: the header and the chain of image file directories
 * (IFDs) with their tag entries, without touching pixel data. Every offset is checked against the
 * file length and the IFD chain is walked with a guard against loops, so a hostile or truncated
 * file gives an EmsegError instead of a hang or a RangeError. Used by core/tiff.ts (decoding) and
 * core/image-probe.ts (header-only probing).
 */
import { EmsegError } from './errors.ts';

export interface TiffEntry {
  readonly tag: number;
  /** TIFF field type: 1 BYTE, 2 ASCII, 3 SHORT, 4 LONG, 5 RATIONAL, 6 SBYTE, 7 UNDEFINED, 8 SSHORT, 9 SLONG, 10 SRATIONAL, 11 FLOAT, 12 DOUBLE. */
  readonly type: number;
  readonly count: number;
  /** Absolute byte offset of the first value (inline in the entry when they fit in 4 bytes). */
  readonly valueOffset: number;
}

export interface TiffDirectory {
  /** Position in the IFD chain, from 0. */
  readonly index: number;
  readonly offset: number;
  readonly entries: ReadonlyMap<number, TiffEntry>;
}

export interface TiffStructure {
  readonly littleEndian: boolean;
  readonly directories: readonly TiffDirectory[];
}

/** Tag numbers used by the reader, writer and probe. */
export const Tag = {
  NewSubfileType: 254,
  ImageWidth: 256,
  ImageLength: 257,
  BitsPerSample: 258,
  Compression: 259,
  Photometric: 262,
  FillOrder: 266,
  ImageDescription: 270,
  StripOffsets: 273,
  SamplesPerPixel: 277,
  RowsPerStrip: 278,
  StripByteCounts: 279,
  XResolution: 282,
  YResolution: 283,
  PlanarConfiguration: 284,
  ResolutionUnit: 296,
  Predictor: 317,
  TileWidth: 322,
  TileLength: 323,
  TileOffsets: 324,
  TileByteCounts: 325,
  SampleFormat: 339,
  JPEGTables: 347,
} as const;

/** Bytes per value of each field type; 16 LONG8, 17 SLONG8 and 18 IFD8 are BigTIFF's. */
const TYPE_SIZES: Readonly<Record<number, number>> = { 1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4, 16: 8, 17: 8, 18: 8 };

/** True when the bytes start like a classic or big TIFF ('II*\0', 'MM\0*', or version 43). */
export function looksLikeTiff(bytes: Uint8Array): boolean {
  if (bytes.length < 4) return false;
  const [a, b, c, d] = [bytes[0], bytes[1], bytes[2], bytes[3]];
  return (a === 0x49 && b === 0x49 && (c === 42 || c === 43) && d === 0) || (a === 0x4d && b === 0x4d && c === 0 && (d === 42 || d === 43));
}

export class TiffReader {
  private readonly view: DataView;
  constructor(
    readonly bytes: Uint8Array,
    readonly name: string,
    readonly littleEndian: boolean,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  corrupt(what: string): EmsegError {
    return new EmsegError('E_CORRUPT', `${this.name}: ${what} (truncated or corrupt TIFF, ${this.bytes.length} bytes)`);
  }

  require(offset: number, length: number, what: string): void {
    if (offset < 0 || length < 0 || offset + length > this.bytes.length) {
      throw this.corrupt(`${what} at byte ${offset} (${length} bytes) runs past the end of the file`);
    }
  }

  u16(offset: number): number {
    return this.view.getUint16(offset, this.littleEndian);
  }

  u32(offset: number): number {
    return this.view.getUint32(offset, this.littleEndian);
  }

  /** An unsigned 64-bit value (BigTIFF offsets and counts); over 2^53 it cannot be an offset into these bytes. */
  u64(offset: number, what: string): number {
    const value = this.view.getBigUint64(offset, this.littleEndian);
    if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw this.corrupt(`${what} is ${value}, beyond any file`);
    return Number(value);
  }

  /** Numeric values of an entry (integers, rationals as fractions, floats). */
  numbers(entry: TiffEntry, what: string): number[] {
    const size = TYPE_SIZES[entry.type];
    if (size === undefined) throw this.corrupt(`${what}: unknown field type ${entry.type}`);
    this.require(entry.valueOffset, size * entry.count, what);
    const out: number[] = new Array(entry.count);
    const v = this.view;
    const le = this.littleEndian;
    for (let i = 0; i < entry.count; i += 1) {
      const o = entry.valueOffset + i * size;
      switch (entry.type) {
        case 1: case 2: case 7: out[i] = v.getUint8(o); break;
        case 6: out[i] = v.getInt8(o); break;
        case 3: out[i] = v.getUint16(o, le); break;
        case 8: out[i] = v.getInt16(o, le); break;
        case 4: case 13: out[i] = v.getUint32(o, le); break;
        case 9: out[i] = v.getInt32(o, le); break;
        case 5: out[i] = v.getUint32(o, le) / v.getUint32(o + 4, le); break;
        case 10: out[i] = v.getInt32(o, le) / v.getInt32(o + 4, le); break;
        case 11: out[i] = v.getFloat32(o, le); break;
        case 16: case 18: out[i] = this.u64(o, what); break;
        case 17: out[i] = Number(v.getBigInt64(o, le)); break;
        default: out[i] = v.getFloat64(o, le); break;
      }
    }
    return out;
  }

  /** Raw bytes of an entry (for ASCII or UNDEFINED tags such as JPEGTables). */
  raw(entry: TiffEntry, what: string): Uint8Array {
    const length = (TYPE_SIZES[entry.type] ?? 1) * entry.count;
    this.require(entry.valueOffset, length, what);
    return this.bytes.subarray(entry.valueOffset, entry.valueOffset + length);
  }
}

/**
 * Parses the header and walks the IFD chain, of a classic TIFF or a BigTIFF (version 43: 8-byte
 * offsets and counts, 20-byte entries; a BigTIFF that fits in memory reads like any TIFF). Throws
 * E_NOT_AN_IMAGE when the bytes are no TIFF, E_CORRUPT for offsets outside the file or a looping
 * chain.
 * With `maxDirectories`, a chain longer than that is refused (E_TOO_LARGE) as soon as the walk gets
 * there, so a small file holding millions of directories costs no more than the limit.
 */
export function readTiffStructure(
  bytes: Uint8Array,
  name: string,
  options: { maxDirectories?: number } = {},
): { reader: TiffReader; structure: TiffStructure } {
  if (!looksLikeTiff(bytes)) {
    throw new EmsegError('E_NOT_AN_IMAGE', `${name}: not a TIFF file (no 'II*' or 'MM*' header)`);
  }
  const littleEndian = bytes[0] === 0x49;
  const reader = new TiffReader(bytes, name, littleEndian);
  const big = reader.u16(2) === 43;
  reader.require(0, big ? 16 : 8, 'TIFF header');
  if (big && (reader.u16(4) !== 8 || reader.u16(6) !== 0)) {
    throw new EmsegError('E_UNSUPPORTED', `${name}: BigTIFF with ${reader.u16(4)}-byte offsets is not supported (expected 8)`);
  }
  // Classic TIFF: 2-byte entry count, 12-byte entries, 4-byte values and offsets; BigTIFF: 8, 20, 8.
  const countSize = big ? 8 : 2;
  const entrySize = big ? 20 : 12;
  const offsetSize = big ? 8 : 4;
  const readOffset = (at: number, what: string) => (big ? reader.u64(at, what) : reader.u32(at));
  const maxDirectories = options.maxDirectories ?? Number.POSITIVE_INFINITY;
  const directories: TiffDirectory[] = [];
  const seen = new Set<number>();
  // Directories may not overlap: their sizes together may not exceed the file. Otherwise 2000
  // directories claiming the same 65535 entries would make a 1 MB file cost 131 million entries.
  let directoryBytes = 0;
  let offset = readOffset(big ? 8 : 4, 'first image directory offset');
  if (offset === 0) throw reader.corrupt('no image directory');
  while (offset !== 0) {
    const index = directories.length;
    if (index >= maxDirectories) {
      throw new EmsegError('E_TOO_LARGE', `${name}: has more than ${maxDirectories} image directories (pages and thumbnails), the limit is ${maxDirectories}`);
    }
    if (seen.has(offset)) throw reader.corrupt(`image directory ${index} points back to byte ${offset} (loop in the IFD chain)`);
    seen.add(offset);
    reader.require(offset, countSize, `image directory ${index}`);
    const count = big ? reader.u64(offset, `image directory ${index} entry count`) : reader.u16(offset);
    reader.require(offset + countSize, count * entrySize + offsetSize, `image directory ${index} (${count} entries)`);
    directoryBytes += countSize + count * entrySize + offsetSize;
    if (directoryBytes > bytes.length) throw reader.corrupt(`image directory ${index} overlaps the directories before it`);
    const entries = new Map<number, TiffEntry>();
    for (let i = 0; i < count; i += 1) {
      const e = offset + countSize + i * entrySize;
      const tag = reader.u16(e);
      const type = reader.u16(e + 2);
      const entryCount = big ? reader.u64(e + 4, `image directory ${index} tag ${tag} count`) : reader.u32(e + 4);
      const size = (TYPE_SIZES[type] ?? 1) * entryCount;
      const valueOffset = size <= offsetSize ? e + 4 + offsetSize : readOffset(e + 4 + offsetSize, `image directory ${index} tag ${tag} offset`);
      entries.set(tag, { tag, type, count: entryCount, valueOffset });
    }
    directories.push({ index, offset, entries });
    offset = readOffset(offset + countSize + count * entrySize, `image directory ${index} next offset`);
  }
  return { reader, structure: { littleEndian, directories } };
}

/** Directories a file of at most `maxPages` pages may have: each page may come with one reduced-resolution copy. */
export function directoryLimitForPages(maxPages: number): number {
  return 2 * maxPages;
}

/** First value of a numeric tag, or `fallback` when the tag is absent. */
export function tagNumber(reader: TiffReader, dir: TiffDirectory, tag: number, fallback: number, what: string): number {
  const entry = dir.entries.get(tag);
  if (!entry || entry.count === 0) return fallback;
  return reader.numbers({ ...entry, count: 1 }, what)[0]!;
}

/**
 * First value of a count-like tag (a size, a number of samples or rows) as a positive integer, or
 * `fallback` when the tag is absent. A fraction, zero, a negative or a non-finite value is E_CORRUPT
 * naming the tag, instead of a size that later breaks an allocation or skips the pixel data.
 */
export function tagCount(reader: TiffReader, dir: TiffDirectory, tag: number, fallback: number, what: string): number {
  const value = tagNumber(reader, dir, tag, fallback, what);
  if (!Number.isSafeInteger(value) || value <= 0) throw reader.corrupt(`${what} is ${value}, expected a positive integer`);
  return value;
}

/** All values of a numeric tag, or undefined when absent. */
export function tagNumbers(reader: TiffReader, dir: TiffDirectory, tag: number, what: string): number[] | undefined {
  const entry = dir.entries.get(tag);
  return entry ? reader.numbers(entry, what) : undefined;
}

/** True when a directory is a reduced-resolution copy (thumbnail, pyramid level) of another page. */
export function isReducedResolution(reader: TiffReader, dir: TiffDirectory): boolean {
  return (tagNumber(reader, dir, Tag.NewSubfileType, 0, `page ${dir.index} NewSubfileType`) & 1) === 1;
}

/**
 * The page count an ImageJ ImageDescription declares (`images=N`), or 1. ImageJ stores stacks over
 * 4 GiB with a single IFD and the N pages one after the other.
 */
export function imagejImageCount(reader: TiffReader, dir: TiffDirectory): number {
  const entry = dir.entries.get(Tag.ImageDescription);
  if (!entry) return 1;
  const text = String.fromCharCode(...reader.raw(entry, `page ${dir.index} ImageDescription`).subarray(0, 2000));
  if (!text.startsWith('ImageJ=')) return 1;
  const match = /(?:^|\n)images=(\d+)/.exec(text);
  return match ? Math.max(1, Number(match[1])) : 1;
}
