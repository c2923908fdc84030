import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EmsegError } from '../core/errors.ts';
import type { PixelArray } from '../core/image.ts';
import { decodeTiff } from '../core/tiff.ts';
import { decodeLzw } from '../core/tiff-lzw.ts';
import {
  FIXTURE_HEIGHT,
  FIXTURE_PAGES,
  FIXTURE_WIDTH,
  patternF32,
  patternI16,
  patternRgbGrey,
  patternU16,
  patternU8,
} from './fixtures/tiff/patterns.ts';

const dir = join(import.meta.dirname, 'fixtures', 'tiff');
const fixture = (name: string) => new Uint8Array(readFileSync(join(dir, name)));

/**
 * A classic TIFF rewritten as a BigTIFF with the same pixel bytes: header, IFDs with 20-byte
 * entries and 8-byte counts and offsets (LONG8 for strip and tile offsets), written after the data.
 */
function bigTiffOf(classic: Uint8Array): Uint8Array {
  const le = classic[0] === 0x49;
  const cv = new DataView(classic.buffer, classic.byteOffset, classic.byteLength);
  const sizes: Record<number, number> = { 1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4 };
  const ifds: { tag: number; type: number; count: number; bytes: Uint8Array }[][] = [];
  for (let at = cv.getUint32(4, le); at !== 0; ) {
    const n = cv.getUint16(at, le);
    const entries = [];
    for (let i = 0; i < n; i++) {
      const e = at + 2 + i * 12;
      const [tag, type, count] = [cv.getUint16(e, le), cv.getUint16(e + 2, le), cv.getUint32(e + 4, le)];
      const size = sizes[type]! * count;
      const from = size <= 4 ? e + 8 : cv.getUint32(e + 8, le);
      entries.push({ tag, type, count, bytes: classic.slice(from, from + size) });
    }
    ifds.push(entries);
    at = cv.getUint32(at + 2 + n * 12, le);
  }
  const out = new Uint8Array(classic.length * 2 + 65536);
  const v = new DataView(out.buffer);
  out.set(classic.subarray(0, 2));
  v.setUint16(2, 43, le);
  v.setUint16(4, 8, le);
  let end = classic.length; // the classic file's bytes stay where they were (pixel data at the same offsets)
  out.set(classic.subarray(16), 16);
  let pointer = 8;
  for (const entries of ifds) {
    const at = end + (end % 2);
    v.setBigUint64(pointer, BigInt(at), le);
    v.setBigUint64(at, BigInt(entries.length), le);
    let extra = at + 8 + entries.length * 20 + 8;
    entries.forEach((entry, i) => {
      const e = at + 8 + i * 20;
      let { type, bytes } = entry;
      if ((entry.tag === 273 || entry.tag === 324) && type === 4) {
        const values = Array.from({ length: entry.count }, (_, k) => new DataView(bytes.buffer).getUint32(k * 4, le));
        type = 16;
        bytes = new Uint8Array(entry.count * 8);
        values.forEach((value, k) => new DataView(bytes.buffer).setBigUint64(k * 8, BigInt(value), le));
      }
      v.setUint16(e, entry.tag, le);
      v.setUint16(e + 2, type, le);
      v.setBigUint64(e + 4, BigInt(entry.count), le);
      if (bytes.length <= 8) out.set(bytes, e + 12);
      else {
        v.setBigUint64(e + 12, BigInt(extra), le);
        out.set(bytes, extra);
        extra += bytes.length + (bytes.length % 2);
      }
    });
    pointer = at + 8 + entries.length * 20;
    end = extra;
  }
  v.setBigUint64(pointer, 0n, le);
  return out.slice(0, end);
}

function errorOf(run: () => unknown): EmsegError {
  try {
    run();
  } catch (error) {
    if (error instanceof EmsegError) return error;
    throw new Error(`expected an EmsegError, got ${String(error)}`);
  }
  throw new Error('expected an EmsegError, nothing was thrown');
}

const supported: [file: string, type: string, pattern: (page: number) => PixelArray][] = [
  ['u8-none-le.tif', 'Uint8Array', patternU8],
  ['u8-none-be.tif', 'Uint8Array', patternU8],
  ['u8-deflate-strips.tif', 'Uint8Array', patternU8],
  ['u8-deflate-predictor.tif', 'Uint8Array', patternU8],
  ['u8-tiles.tif', 'Uint8Array', patternU8],
  ['u8-tiles-deflate-predictor.tif', 'Uint8Array', patternU8],
  ['u8-lzw.tif', 'Uint8Array', patternU8],
  ['u8-packbits.tif', 'Uint8Array', patternU8],
  ['u8-miniswhite.tif', 'Uint8Array', patternU8],
  ['u16-none-le.tif', 'Uint16Array', patternU16],
  ['u16-none-be.tif', 'Uint16Array', patternU16],
  ['u16-deflate-predictor-be.tif', 'Uint16Array', patternU16],
  ['u16-tiles-be.tif', 'Uint16Array', patternU16],
  ['u16-tiles-deflate-predictor-le.tif', 'Uint16Array', patternU16],
  ['u16-lzw.tif', 'Uint16Array', patternU16],
  ['u16-imagej.tif', 'Uint16Array', patternU16],
  ['f32-none-le.tif', 'Float32Array', patternF32],
  ['f32-none-be.tif', 'Float32Array', patternF32],
  ['f32-deflate.tif', 'Float32Array', patternF32],
  ['f32-tiles-be.tif', 'Float32Array', patternF32],
  ['f32-lzw.tif', 'Float32Array', patternF32],
  ['i16-none-be.tif', 'Float32Array', patternI16],
  ['rgb-none.tif', 'Uint8Array', patternRgbGrey],
  ['rgb-lzw.tif', 'Uint8Array', patternRgbGrey],
  ['rgb-tiles-deflate.tif', 'Uint8Array', patternRgbGrey],
  ['rgba-none.tif', 'Uint8Array', patternRgbGrey],
];

describe('decodeTiff on every supported variant (fixtures written by tifffile and Pillow/libtiff)', () => {
  it.each(supported)('%s -> %s pages with the expected values', (file, type, pattern) => {
    const stack = decodeTiff(fixture(file), file);
    expect(stack.width).toBe(FIXTURE_WIDTH);
    expect(stack.height).toBe(FIXTURE_HEIGHT);
    expect(stack.pages).toHaveLength(FIXTURE_PAGES);
    stack.pages.forEach((page, p) => {
      expect(page.data.constructor.name).toBe(type);
      expect(Array.from(page.data)).toEqual(Array.from(pattern(p)));
    });
  });

  it('decodes LZW with 12-bit codes and clear codes, and PackBits with literal and repeat packets, like the uncompressed twin', () => {
    const plain = decodeTiff(fixture('noise-none.tif'), 'noise-none.tif').pages[0]!.data;
    expect(plain.length).toBe(96 * 96);
    expect(new Set(plain).size).toBeGreaterThan(200);
    expect(Array.from(decodeTiff(fixture('noise-lzw.tif'), 'lzw').pages[0]!.data)).toEqual(Array.from(plain));
    expect(Array.from(decodeTiff(fixture('noise-packbits.tif'), 'pb').pages[0]!.data)).toEqual(Array.from(plain));
  });

  it.each([
    ['jpeg-grey.tif', patternU8],
    ['jpeg-rgb.tif', patternRgbGrey],
    ['jpeg-ycbcr.tif', patternRgbGrey],
  ])('decodes 8-bit JPEG-in-TIFF %s close to the original (JPEG is lossy)', (file, pattern) => {
    const stack = decodeTiff(fixture(file), file);
    expect(stack.pages).toHaveLength(FIXTURE_PAGES);
    stack.pages.forEach((page, p) => {
      expect(page.data).toBeInstanceOf(Uint8Array);
      const expected = pattern(p);
      let error = 0;
      for (let i = 0; i < expected.length; i += 1) error += Math.abs(page.data[i]! - expected[i]!);
      expect(error / expected.length, `page ${p} mean absolute error`).toBeLessThan(4);
    });
  });

  it('reads a palette image as its index values', () => {
    const stack = decodeTiff(fixture('palette.tif'), 'palette.tif');
    expect(Array.from(stack.pages[0]!.data)).toEqual(Array.from(patternU8(0)));
  });

  it('does not modify the input bytes (predictor undone on a copy)', () => {
    const bytes = fixture('u8-deflate-predictor.tif');
    const before = bytes.slice();
    decodeTiff(bytes, 'x');
    expect(bytes).toEqual(before);
  });

  it('decodes a TIFF held in a Uint8Array view at a nonzero byte offset', () => {
    const bytes = fixture('u16-none-be.tif');
    const padded = new Uint8Array(bytes.length + 3);
    padded.set(bytes, 3);
    const stack = decodeTiff(padded.subarray(3), 'view');
    expect(Array.from(stack.pages[1]!.data)).toEqual(Array.from(patternU16(1)));
  });
});

describe('decodeTiff refuses unsupported variants with E_UNSUPPORTED naming file, page and tag value', () => {
  it.each([
    ['bad-1bit.tif', /bad-1bit\.tif: page 0: BitsPerSample 1 unsigned \(SampleFormat 1\) is not supported/],
    ['bad-lzma.tif', /bad-lzma\.tif: page 0: Compression 34925 \(LZMA\) is not supported/],
    ['bad-complex.tif', /bad-complex\.tif: page 0: BitsPerSample 64 complex float \(SampleFormat 6\) is not supported/],
    ['bad-float64.tif', /bad-float64\.tif: page 0: BitsPerSample 64 float \(SampleFormat 3\) is not supported/],
    ['bad-uint32.tif', /bad-uint32\.tif: page 0: BitsPerSample 32 unsigned \(SampleFormat 1\) is not supported/],
    ['bad-planar.tif', /bad-planar\.tif: page 0: PlanarConfiguration 2 \(separate planes\) with 3 samples per pixel is not supported/],
    ['bad-mixed-sizes.tif', /bad-mixed-sizes\.tif: page 1: a page of 20x20 after pages of 40x30 \(mixed page sizes\) is not supported/],
  ])('%s', (file, message) => {
    const error = errorOf(() => decodeTiff(fixture(file), file));
    expect(error.code).toBe('E_UNSUPPORTED');
    expect(error.message).toMatch(message);
    expect(error.message).not.toContain('\n');
  });

  it('reads BigTIFF like classic TIFF: the same pages, both byte orders, strips and tiles; a broken header is named', () => {
    for (const variant of ['u8-none-le', 'u8-tiles-deflate-predictor', 'u16-none-be']) {
      const classic = decodeTiff(fixture(`${variant}.tif`), variant);
      const big = decodeTiff(bigTiffOf(fixture(`${variant}.tif`)), `${variant} as BigTIFF`);
      expect([big.width, big.height, big.pages.length]).toEqual([classic.width, classic.height, classic.pages.length]);
      big.pages.forEach((page, p) => expect(page.data).toEqual(classic.pages[p]!.data));
    }
    const pointingPastTheEnd = new Uint8Array([0x49, 0x49, 43, 0, 8, 0, 0, 0, 16, 0, 0, 0, 0, 0, 0, 0]);
    expect(errorOf(() => decodeTiff(pointingPastTheEnd, 'big.tif')).message).toMatch(/^big\.tif: image directory 0 at byte 16/);
    const fourByteOffsets = new Uint8Array([0x49, 0x49, 43, 0, 4, 0, 0, 0, 16, 0, 0, 0, 0, 0, 0, 0]);
    expect(errorOf(() => decodeTiff(fourByteOffsets, 'odd.tif')).code).toBe('E_UNSUPPORTED');
  });
});

describe('decodeTiff on truncated or corrupt files', () => {
  it.each(['u8-none-le.tif', 'u16-deflate-predictor-be.tif', 'u8-lzw.tif', 'u8-packbits.tif', 'u8-tiles.tif', 'f32-none-be.tif', 'jpeg-rgb.tif'])(
    '%s cut at many lengths gives E_CORRUPT (never a hang, crash or silent garbage)',
    (file) => {
      const bytes = fixture(file);
      for (const fraction of [0.02, 0.1, 0.3, 0.5, 0.7, 0.9, 0.99]) {
        const cut = bytes.subarray(0, Math.floor(bytes.length * fraction));
        const error = errorOf(() => decodeTiff(cut, file));
        expect(error.code, `cut at ${cut.length}`).toBe('E_CORRUPT');
        expect(error.message).toContain(file);
        expect(error.message).toMatch(/truncated or corrupt/);
      }
    },
  );

  it('gives E_CORRUPT for a loop in the IFD chain', () => {
    const bytes = fixture('u8-none-le.tif').slice();
    const view = new DataView(bytes.buffer);
    const first = view.getUint32(4, true);
    const entries = view.getUint16(first, true);
    view.setUint32(first + 2 + entries * 12, first, true); // next IFD -> itself
    const error = errorOf(() => decodeTiff(bytes, 'loop.tif'));
    expect(error.code).toBe('E_CORRUPT');
    expect(error.message).toMatch(/loop\.tif: .*loop in the IFD chain/);
  });

  it('gives E_CORRUPT for a Deflate strip that does not inflate', () => {
    const bytes = fixture('u8-deflate-strips.tif').slice();
    const view = new DataView(bytes.buffer);
    const first = view.getUint32(4, true);
    const entries = view.getUint16(first, true);
    for (let i = 0; i < entries; i += 1) {
      const e = first + 2 + i * 12;
      if (view.getUint16(e, true) === 273) {
        const offsetsAt = view.getUint32(e + 4, true) > 1 ? view.getUint32(e + 8, true) : e + 8;
        const strip = view.getUint32(offsetsAt, true);
        bytes.fill(0xff, strip, strip + 16);
      }
    }
    const error = errorOf(() => decodeTiff(bytes, 'bad-deflate.tif'));
    expect(error.code).toBe('E_CORRUPT');
    expect(error.message).toMatch(/bad-deflate\.tif: page 0 strip 0: Deflate data does not inflate/);
  });

  it('gives E_CORRUPT (or a decoded page, never a crash or hang) for damaged JPEG strips', () => {
    const original = fixture('jpeg-grey.tif');
    for (const [start, fill] of [[20, 0x00], [60, 0xff], [150, 0x5a]] as const) {
      const bytes = original.slice();
      // Pillow writes the first strip right after the 8-byte header.
      bytes.fill(fill, 8 + start, 8 + start + 40);
      try {
        const stack = decodeTiff(bytes, 'damaged.tif');
        expect(stack.pages).toHaveLength(FIXTURE_PAGES);
      } catch (error) {
        expect(error).toBeInstanceOf(EmsegError);
        expect((error as EmsegError).code).toBe('E_CORRUPT');
        expect((error as EmsegError).message).toMatch(/^damaged\.tif: page 0 strip 0: JPEG/);
      }
    }
  });

  it('refuses a file declaring more samples than the limit before allocating them (E_TOO_LARGE)', () => {
    const bytes = fixture('u8-none-le.tif').slice();
    const view = new DataView(bytes.buffer);
    const first = view.getUint32(4, true);
    for (let i = 0; i < view.getUint16(first, true); i += 1) {
      const e = first + 2 + i * 12;
      const tag = view.getUint16(e, true);
      const type = view.getUint16(e + 2, true);
      if (tag === 256 || tag === 257 || tag === 278) {
        if (type === 3) view.setUint16(e + 8, 60000, true);
        else view.setUint32(e + 8, 60000, true);
      }
    }
    const error = errorOf(() => decodeTiff(bytes, 'huge.tif'));
    expect(error.code).toBe('E_TOO_LARGE');
    expect(error.message).toMatch(/^huge\.tif: 3 pages of 60000x60000x1 samples exceed the limit of 1073741824 samples$/);
    expect(errorOf(() => decodeTiff(fixture('u8-none-le.tif'), 'small.tif', { maxTotalSamples: 3000 })).code).toBe('E_TOO_LARGE');
  });

  it('gives E_NOT_AN_IMAGE for bytes that are no TIFF', () => {
    const error = errorOf(() => decodeTiff(new TextEncoder().encode('hello, not a tiff'), 'notes.txt'));
    expect(error.code).toBe('E_NOT_AN_IMAGE');
    expect(error.message).toMatch(/^notes\.txt: not a TIFF file/);
  });
});

describe('decodeLzw', () => {
  it('stops at the end of a truncated stream and reports it, instead of looping', () => {
    const bytes = fixture('noise-lzw.tif');
    // Pillow writes one strip right after the 8-byte header.
    const partial = bytes.subarray(8, 8 + 500);
    const started = performance.now();
    const result = decodeLzw(partial, 96 * 96);
    expect(performance.now() - started).toBeLessThan(1000);
    expect(result.problem).toBe('compressed data ends early');
    expect(result.length).toBeGreaterThan(0);
    expect(result.length).toBeLessThan(96 * 96);
  });

  it('never writes more than the expected bytes', () => {
    const bytes = fixture('noise-lzw.tif');
    const result = decodeLzw(bytes.subarray(8), 100);
    expect(result.data.length).toBe(100);
    expect(result.length).toBe(100);
  });
});
