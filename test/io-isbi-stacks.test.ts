import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeStack } from '../core/image.ts';
import { decodeTiff, encodeTiff } from '../core/tiff.ts';
import { decodeImageBytes } from '../node/image-files.ts';
import { encodePng } from '../node/png.ts';

const folder = join(import.meta.dirname, '..', 'data', 'isbi2012');
const read = (file: string) => decodeTiff(new Uint8Array(readFileSync(join(folder, file))), file);

describe('the real ISBI 2012 stacks', () => {
  it.each(['train-volume.tif', 'train-labels.tif', 'test-volume.tif'])('%s has 30 pages of 512x512 8-bit', (file) => {
    const stack = read(file);
    expect(stack.pages).toHaveLength(30);
    expect([stack.width, stack.height]).toEqual([512, 512]);
    for (const page of stack.pages) expect(page.data).toBeInstanceOf(Uint8Array);
  });

  it('labels hold only 0 (membrane) and 255 (cell interior), both on every slice, interior the majority', () => {
    const labels = read('train-labels.tif');
    labels.pages.forEach((page, index) => {
      let white = 0;
      let other = 0;
      for (const v of page.data) {
        if (v === 255) white += 1;
        else if (v !== 0) other += 1;
      }
      expect(other, `slice ${index}: values other than 0 and 255`).toBe(0);
      expect(white / page.data.length).toBeGreaterThan(0.5);
      expect(white).toBeLessThan(page.data.length);
    });
  });

  it('the images use a wide range of grey values (not a blank or binary stack)', () => {
    const volume = read('train-volume.tif');
    expect(new Set(volume.pages[0]!.data).size).toBeGreaterThan(150);
  });

  it('round-trips TIFF -> PNG per slice -> TIFF bit-exactly', async () => {
    const original = new Uint8Array(readFileSync(join(folder, 'train-labels.tif')));
    const volume = new Uint8Array(readFileSync(join(folder, 'train-volume.tif')));
    for (const bytes of [volume, original]) {
      const stack = decodeTiff(bytes, 'stack');
      const pngs = await Promise.all(stack.pages.map((page) => encodePng(page, { compressionLevel: 1 })));
      const pages = await Promise.all(pngs.map(async (png, i) => (await decodeImageBytes(png, `${i}.png`)).pages[0]!));
      const back = decodeTiff(encodeTiff(makeStack(pages)), 'back');
      back.pages.forEach((page, i) => expect(Buffer.compare(Buffer.from(page.data), Buffer.from(stack.pages[i]!.data))).toBe(0));
    }
  });
});
