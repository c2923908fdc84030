import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { EmsegError } from '../core/errors.ts';
import { probeImage } from '../core/image-probe.ts';

const fixture = (name: string) => new Uint8Array(readFileSync(join(import.meta.dirname, 'fixtures', 'tiff', name)));

function codeOf(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    if (error instanceof EmsegError) return `${error.code} ${error.message}`;
    throw error;
  }
  return 'no error';
}

/** A little-endian TIFF whose IFDs declare `width` x `height` and chain `pages` times, with no pixel data. */
function headerOnlyTiff(width: number, height: number, pages: number): Uint8Array {
  const ifdSize = 2 + 3 * 12 + 4;
  const bytes = new Uint8Array(8 + pages * ifdSize);
  const view = new DataView(bytes.buffer);
  bytes.set([0x49, 0x49, 42, 0]);
  view.setUint32(4, 8, true);
  for (let p = 0; p < pages; p += 1) {
    const at = 8 + p * ifdSize;
    view.setUint16(at, 3, true);
    const entry = (i: number, tag: number, type: number, value: number) => {
      view.setUint16(at + 2 + i * 12, tag, true);
      view.setUint16(at + 4 + i * 12, type, true);
      view.setUint32(at + 6 + i * 12, 1, true);
      view.setUint32(at + 10 + i * 12, value, true);
    };
    entry(0, 256, 4, width);
    entry(1, 257, 4, height);
    entry(2, 258, 3, 16);
    view.setUint32(at + 2 + 36, p + 1 < pages ? at + ifdSize : 0, true);
  }
  return bytes;
}

describe('probeImage', () => {
  it('reads PNG headers (grey 8-bit, grey 16-bit, RGB, RGBA)', async () => {
    const grey8 = await sharp(new Uint8Array(12 * 5), { raw: { width: 12, height: 5, channels: 1 } }).toColourspace('b-w').png().toBuffer();
    const grey16 = await sharp(new Uint16Array(12 * 5), { raw: { width: 12, height: 5, channels: 1 } }).toColourspace('grey16').png().toBuffer();
    const rgba = await sharp(new Uint8Array(7 * 3 * 4), { raw: { width: 7, height: 3, channels: 4 } }).png().toBuffer();
    const rgb = await sharp(new Uint8Array(7 * 3 * 3).fill(9), { raw: { width: 7, height: 3, channels: 3 } }).png({ palette: false }).toBuffer();
    expect(probeImage(grey8, 'a.png')).toEqual({ format: 'png', width: 12, height: 5, pages: 1, totalPixels: 60, bitsPerSample: 8, samplesPerPixel: 1, sampleFormat: 'uint' });
    expect(probeImage(grey16, 'b.png')).toMatchObject({ bitsPerSample: 16, samplesPerPixel: 1 });
    expect(probeImage(rgba, 'c.png')).toMatchObject({ width: 7, height: 3, samplesPerPixel: 4 });
    expect(probeImage(rgb, 'd.png')).toMatchObject({ samplesPerPixel: 3 });
  });

  it('reads the JPEG frame header', async () => {
    const jpeg = await sharp(new Uint8Array(64 * 48 * 3), { raw: { width: 64, height: 48, channels: 3 } }).jpeg().toBuffer();
    expect(probeImage(jpeg, 'e.jpg')).toEqual({ format: 'jpeg', width: 64, height: 48, pages: 1, totalPixels: 3072, bitsPerSample: 8, samplesPerPixel: 3, sampleFormat: 'uint' });
  });

  it('reads TIFF pages, depth and sample format', () => {
    expect(probeImage(fixture('f32-none-be.tif'), 'f.tif')).toEqual({ format: 'tiff', width: 40, height: 30, pages: 3, totalPixels: 3600, bitsPerSample: 32, samplesPerPixel: 1, sampleFormat: 'float' });
    expect(probeImage(fixture('rgb-lzw.tif'), 'g.tif')).toMatchObject({ pages: 3, bitsPerSample: 8, samplesPerPixel: 3, sampleFormat: 'uint' });
    expect(probeImage(fixture('i16-none-be.tif'), 'h.tif')).toMatchObject({ bitsPerSample: 16, sampleFormat: 'int' });
  });

  it('reports what a small file declares (100000 x 100000 pixels, 2000 pages) without decoding or allocating it', () => {
    const started = performance.now();
    const huge = headerOnlyTiff(100_000, 100_000, 1);
    expect(huge.length).toBeLessThan(100);
    expect(probeImage(huge, 'huge.tif')).toMatchObject({ width: 100_000, height: 100_000, pages: 1, totalPixels: 1e10 });
    const many = headerOnlyTiff(64, 64, 2000);
    expect(probeImage(many, 'many.tif')).toMatchObject({ pages: 2000, totalPixels: 2000 * 64 * 64 });
    const png = new Uint8Array(33);
    png.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52]);
    new DataView(png.buffer).setUint32(16, 100_000);
    new DataView(png.buffer).setUint32(20, 100_000);
    png.set([8, 0], 24);
    expect(probeImage(png, 'huge.png')).toMatchObject({ width: 100_000, height: 100_000, totalPixels: 1e10 });
    expect(performance.now() - started).toBeLessThan(500);
  });

  it('gives E_NOT_AN_IMAGE for other bytes and E_CORRUPT for truncated headers', async () => {
    expect(codeOf(() => probeImage(new TextEncoder().encode('%PDF-1.7 ...'), 'doc.pdf'))).toBe('E_NOT_AN_IMAGE doc.pdf: not a PNG, JPEG or TIFF image (starts with bytes 25 50 44 46)');
    expect(codeOf(() => probeImage(new Uint8Array(0), 'empty.png'))).toBe('E_NOT_AN_IMAGE empty.png: empty file, not an image');
    const png = await sharp(new Uint8Array(4), { raw: { width: 2, height: 2, channels: 1 } }).png().toBuffer();
    expect(codeOf(() => probeImage(png.subarray(0, 20), 'cut.png'))).toMatch(/^E_CORRUPT cut\.png: PNG header is truncated/);
    const jpeg = await sharp(new Uint8Array(64 * 48 * 3), { raw: { width: 64, height: 48, channels: 3 } }).jpeg().toBuffer();
    expect(codeOf(() => probeImage(jpeg.subarray(0, 30), 'cut.jpg'))).toMatch(/^E_CORRUPT cut\.jpg: JPEG ends \(30 bytes\) before its frame header/);
    const tiff = headerOnlyTiff(64, 64, 3);
    expect(codeOf(() => probeImage(tiff.subarray(0, 60), 'cut.tif'))).toMatch(/^E_CORRUPT cut\.tif: image directory 1 .* runs past the end of the file/);
  });
});
