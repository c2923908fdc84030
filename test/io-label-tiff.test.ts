/**
 * node/label-tiff.ts: a uint32 label stack written by encodeLabelTiff reads back value for value;
 * an 8-bit TIFF, a file that is not a TIFF and a missing file are refused in one line naming it.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeLabelTiff, encodeTiff } from '../core/tiff.ts';
import { readLabelTiff } from '../node/label-tiff.ts';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'emseg-label-tiff-'));
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('readLabelTiff', () => {
  it('reads the pages encodeLabelTiff wrote, value for value, labels above 2^16 included', async () => {
    const width = 5;
    const height = 3;
    const pages = [0, 1, 2].map((k) => ({ width, height, data: Uint32Array.from({ length: width * height }, (_, i) => (i * 7919 + k * 65537) % 4_000_000) }));
    const path = join(dir, 'labels.tif');
    writeFileSync(path, encodeLabelTiff({ width, height, pages }));
    expect(await readLabelTiff(path)).toEqual({ width, height, pages });
  });

  it('refuses other sample types, other files and missing files', async () => {
    const grey = join(dir, 'grey.tif');
    writeFileSync(grey, encodeTiff({ width: 2, height: 1, pages: [{ width: 2, height: 1, data: Uint8Array.of(0, 255) }] }));
    await expect(readLabelTiff(grey)).rejects.toThrow(`${grey}: page 0: expected uint32 labels (one 32-bit unsigned sample per pixel, as emseg predict --output labels writes), found 1 sample(s) of 8 bits, SampleFormat 1`);
    const text = join(dir, 'text.tif');
    writeFileSync(text, 'not a tiff');
    await expect(readLabelTiff(text)).rejects.toMatchObject({ code: 'E_CORRUPT', message: expect.stringContaining(`${text}: not a readable TIFF`) });
    await expect(readLabelTiff(join(dir, 'none.tif'))).rejects.toMatchObject({ code: 'E_NOT_FOUND' });
  });
});
