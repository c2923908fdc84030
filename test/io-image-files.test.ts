import { mkdtempSync, rmSync, writeFileSync, mkdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { EmsegError } from '../core/errors.ts';
import { makeImage } from '../core/image.ts';
import { decodeImageBytes, readImageFile } from '../node/image-files.ts';
import { encodePng } from '../node/png.ts';

const folder = mkdtempSync(join(tmpdir(), 'emseg-images-'));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

async function rejection(promise: Promise<unknown>): Promise<EmsegError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof EmsegError) return error;
    throw error;
  }
  throw new Error('expected a rejection');
}

const ramp8 = makeImage(17, 9, Uint8Array.from({ length: 17 * 9 }, (_, i) => (i * 37) % 256));
const ramp16 = makeImage(17, 9, Uint16Array.from({ length: 17 * 9 }, (_, i) => (i * 4093) % 65536));

describe('encodePng + decodeImageBytes', () => {
  it('keeps 8-bit grey values exactly, as a 1-channel PNG', async () => {
    const png = await encodePng(ramp8);
    const meta = await sharp(png).metadata();
    expect([meta.channels, meta.depth]).toEqual([1, 'uchar']);
    const back = await decodeImageBytes(png, 'ramp8.png');
    expect(back.pages).toHaveLength(1);
    expect(back.pages[0]!.data).toBeInstanceOf(Uint8Array);
    expect(Array.from(back.pages[0]!.data)).toEqual(Array.from(ramp8.data));
  });

  it('keeps 16-bit grey values exactly as Uint16Array', async () => {
    const back = await decodeImageBytes(await encodePng(ramp16), 'ramp16.png');
    expect(back.pages[0]!.data).toBeInstanceOf(Uint16Array);
    expect(Array.from(back.pages[0]!.data)).toEqual(Array.from(ramp16.data));
  });

  it('writes RGB and RGBA pictures losslessly', async () => {
    const data = Uint8Array.from({ length: 5 * 4 * 4 }, (_, i) => (i * 11) % 256);
    const png = await encodePng({ width: 5, height: 4, channels: 4, data });
    const { data: raw, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
    expect(info.channels).toBe(4);
    expect(Array.from(raw)).toEqual(Array.from(data));
  });

  it('turns a colour PNG into grey with the BT.601 weights of core/grey.ts', async () => {
    const rgb = new Uint8Array([255, 0, 0, 0, 255, 0, 0, 0, 255, 90, 90, 90]);
    const png = await sharp(rgb, { raw: { width: 4, height: 1, channels: 3 } }).png().toBuffer();
    const back = await decodeImageBytes(png, 'rgb.png');
    expect(Array.from(back.pages[0]!.data)).toEqual([76, 150, 29, 90]);
  });

  it('reads a greyscale JPEG as one 8-bit page close to the original', async () => {
    const jpeg = await sharp(ramp8.data, { raw: { width: 17, height: 9, channels: 1 } }).toColourspace('b-w').jpeg({ quality: 100 }).toBuffer();
    const back = await decodeImageBytes(jpeg, 'ramp.jpg');
    expect(back.pages[0]!.data).toBeInstanceOf(Uint8Array);
    expect(back.width).toBe(17);
    const flat = makeImage(16, 16, new Uint8Array(256).fill(77));
    const flatJpeg = await sharp(flat.data, { raw: { width: 16, height: 16, channels: 1 } }).toColourspace('b-w').jpeg({ quality: 100 }).toBuffer();
    expect(new Set((await decodeImageBytes(flatJpeg, 'flat.jpg')).pages[0]!.data)).toEqual(new Set([77]));
  });

  it('refuses a PNG declaring more pixels than sharp decodes, from its header (E_TOO_LARGE)', async () => {
    const png = Buffer.from(await encodePng(ramp8));
    png.writeUInt32BE(100_000, 16);
    png.writeUInt32BE(100_000, 20);
    const error = await rejection(decodeImageBytes(png, 'huge.png'));
    expect([error.code, error.message]).toEqual(['E_TOO_LARGE', 'huge.png: 100000x100000 pixels exceed the limit of 268402689 pixels']);
  });

  it('refuses float32 images for PNG', async () => {
    const error = await rejection(encodePng(makeImage(1, 1, new Float32Array(1))));
    expect(error.code).toBe('E_BAD_ARGUMENT');
  });
});

describe('readImageFile', () => {
  it('reads PNG, JPEG and TIFF files by content, not by extension', async () => {
    const path = join(folder, 'actually-a-png.tif');
    writeFileSync(path, await encodePng(ramp8));
    expect(Array.from((await readImageFile(path)).pages[0]!.data)).toEqual(Array.from(ramp8.data));
    const tiff = await readImageFile(join(import.meta.dirname, 'fixtures', 'tiff', 'u16-lzw.tif'));
    expect(tiff.pages).toHaveLength(3);
  });

  it('names the file in every error', async () => {
    const missing = await rejection(readImageFile(join(folder, 'nope.png')));
    expect([missing.code, missing.message]).toEqual(['E_NOT_FOUND', `${join(folder, 'nope.png')}: no such file`]);

    mkdirSync(join(folder, 'a-folder'));
    const dir = await rejection(readImageFile(join(folder, 'a-folder')));
    expect(dir.code).toBe('E_BAD_ARGUMENT');
    expect(dir.message).toMatch(/a-folder: is a folder, expected an image file$/);

    writeFileSync(join(folder, 'notes.png'), 'just text');
    const text = await rejection(readImageFile(join(folder, 'notes.png')));
    expect(text.code).toBe('E_NOT_AN_IMAGE');
    expect(text.message).toMatch(/notes\.png: not a PNG, JPEG or TIFF image/);

    const png = await encodePng(makeImage(64, 64, Uint8Array.from({ length: 4096 }, (_, i) => (i * 7919) % 256)));
    writeFileSync(join(folder, 'cut.png'), png.subarray(0, Math.floor(png.length / 2)));
    const cut = await rejection(readImageFile(join(folder, 'cut.png')));
    expect(cut.code).toBe('E_CORRUPT');
    expect(cut.message).toMatch(/cut\.png: PNG cannot be decoded \(.+\): truncated or corrupt$/);
    expect(cut.message).not.toContain('\n');

    const tiff = readFileSync(join(import.meta.dirname, 'fixtures', 'tiff', 'u8-none-le.tif'));
    writeFileSync(join(folder, 'cut.tif'), tiff.subarray(0, 3000));
    const cutTiff = await rejection(readImageFile(join(folder, 'cut.tif')));
    expect(cutTiff.code).toBe('E_CORRUPT');
    expect(cutTiff.message).toContain(join(folder, 'cut.tif'));
  });
});
