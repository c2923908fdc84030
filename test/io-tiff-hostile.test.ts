/**
 * The TIFF reader's work guards (core/tiff.ts, core/tiff-ifd.ts, core/image-probe.ts): the work
 * of decoding is bounded by what the pages need, not by what the file makes the decoder do.
 */
import { describe, expect, it } from 'vitest';
import { EmsegError } from '../core/errors.ts';
import { probeImage } from '../core/image-probe.ts';
import { decodeTiff } from '../core/tiff.ts';
import { buildTiff, greyPage } from '../bench/shared/raw-tiff.ts';
import { zerosZlibStream } from './helpers/hostile-inputs.ts';

function errorOf(run: () => unknown): EmsegError {
  try {
    run();
  } catch (error) {
    if (error instanceof EmsegError) return error;
    throw new Error(`expected an EmsegError, got ${String(error)}`);
  }
  throw new Error('expected an EmsegError, nothing was thrown');
}

describe('decodeTiff work guards', () => {
  it('inflates a strip only as far as the page needs (an 8 GiB Deflate bomb in a 64x64 page)', () => {
    const bomb = zerosZlibStream(8 * 2 ** 30);
    const file = buildTiff(bomb, [greyPage(64, 64, { offsets: [8], counts: [bomb.length], rows: 64, compression: 8 })]);
    const started = performance.now();
    const stack = decodeTiff(file, 'bomb.tif');
    expect(performance.now() - started).toBeLessThan(1500); // inflating 8 GiB takes over 10 s
    expect(stack.pages[0]!.data.every((v) => v === 0)).toBe(true);
  });

  it('still reads an honest Deflate strip exactly, and calls a short one truncated', () => {
    const honest = zerosZlibStream(64 * 64);
    const file = buildTiff(honest, [greyPage(64, 64, { offsets: [8], counts: [honest.length], rows: 64, compression: 8 })]);
    expect(decodeTiff(file, 'ok.tif').pages[0]!.data.length).toBe(64 * 64);
    const short = zerosZlibStream(64 * 10);
    const cut = buildTiff(short, [greyPage(64, 64, { offsets: [8], counts: [short.length], rows: 64, compression: 8 })]);
    expect(errorOf(() => decodeTiff(cut, 'short.tif')).message).toMatch(/strip 0 holds \d{3} bytes, 4096 expected/);
  });

  it('refuses strips that share bytes', () => {
    const run = new Uint8Array(4096);
    for (let i = 0; i < run.length; i += 2) run[i] = 0x81;
    const file = buildTiff(run, [greyPage(256, 8, { offsets: Array(8).fill(8), counts: Array(8).fill(run.length), rows: 1, compression: 32773 })]);
    const error = errorOf(() => decodeTiff(file, 'shared.tif'));
    expect(error.code).toBe('E_CORRUPT');
    expect(error.message).toMatch(/overlap or share bytes/);
  });

  it('decodes PackBits up to the strip size and no further', () => {
    const run = new Uint8Array([0x81, 7, 0x81, 7, 0x81, 7]); // 3 x 128 bytes of 7 for a 16x16 strip
    const file = buildTiff(run, [greyPage(16, 16, { offsets: [8], counts: [run.length], rows: 16, compression: 32773 })]);
    expect(Array.from(new Set(decodeTiff(file, 'pb.tif').pages[0]!.data))).toEqual([7]);
  });

  it('checks an embedded JPEG frame size before decoding it', () => {
    // SOI, SOF0 declaring 16000x16000 grey, then nothing: the header alone must refuse it.
    const jpeg = new Uint8Array([0xff, 0xd8, 0xff, 0xc0, 0, 11, 8, 16000 >> 8, 16000 & 0xff, 16000 >> 8, 16000 & 0xff, 1, 1, 0x11, 0, 0xff, 0xd9]);
    const file = buildTiff(jpeg, [greyPage(16000, 1, { offsets: [8], counts: [jpeg.length], rows: 1, compression: 7 })]);
    expect(errorOf(() => decodeTiff(file, 'jpeg.tif')).message).toMatch(/JPEG data is 16000x16000, expected 16000x1/);
  });

  it('applies the page limit while walking the IFD chain', () => {
    const pages = Array.from({ length: 50 }, () => greyPage(1, 1, { offsets: [8], counts: [1], rows: 1 }));
    const file = buildTiff(new Uint8Array(1), pages);
    expect(errorOf(() => decodeTiff(file, 'many.tif', { maxPages: 10 })).message).toMatch(/more than 20 image directories/);
    expect(errorOf(() => probeImage(file, 'many.tif', { maxPages: 10 })).code).toBe('E_TOO_LARGE');
    expect(errorOf(() => decodeTiff(file, 'many.tif', { maxPages: 30 })).message).toMatch(/declares 50 pages, the limit is 30/);
    expect(decodeTiff(file, 'many.tif').pages).toHaveLength(50);
  });
});

describe('the IFD walk', () => {
  it('refuses directories that overlap (many directories claiming the same entries)', () => {
    // 200 directories at offsets 8, 12, 16, ... each claiming 5000 entries over the same bytes.
    const file = new Uint8Array(8 + 800 + 5000 * 12 + 8);
    const view = new DataView(file.buffer);
    file.set([0x49, 0x49, 42, 0]);
    view.setUint32(4, 8, true);
    for (let i = 0; i < 200; i += 1) {
      const at = 8 + i * 4;
      view.setUint16(at, 5000, true);
      view.setUint32(at + 2 + 5000 * 12, i + 1 < 200 ? at + 4 : 0, true);
    }
    const started = performance.now();
    const error = errorOf(() => probeImage(file, 'overlap.tif'));
    expect(performance.now() - started).toBeLessThan(200);
    expect(error.message).toMatch(/image directory \d+ overlaps the directories before it/);
  });
});

describe('decodeTiff on inconsistent fields', () => {
  const pixels = new Uint8Array(64 * 64).fill(100);
  const page = greyPage(64, 64, { offsets: [8], counts: [pixels.length], rows: 64 });
  it.each([
    ['a RATIONAL ImageWidth of 129/2', { 256: { type: 5, values: [129, 2] } }, /size of 64\.5x64, expected whole numbers/],
    ['RowsPerStrip -1', { 278: { type: 9, values: [-1] } }, /RowsPerStrip is -1, expected a positive integer/],
    ['SamplesPerPixel 0', { 277: { type: 3, values: [0] } }, /SamplesPerPixel is 0, expected a positive integer/],
  ] as const)('%s is E_CORRUPT naming the field', (_name, fields, message) => {
    const error = errorOf(() => decodeTiff(buildTiff(pixels, [{ ...page, ...fields }]), 'odd.tif'));
    expect(error.code).toBe('E_CORRUPT');
    expect(error.message).toMatch(message);
  });

  it('reads RowsPerStrip 2^32 - 1 (the default of the spec) as one strip', () => {
    const stack = decodeTiff(buildTiff(pixels, [{ ...page, 278: { type: 4, values: [2 ** 32 - 1] } }]), 'ok.tif');
    expect(stack.pages[0]!.data.every((v) => v === 100)).toBe(true);
  });
});
