import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { runCli } from '../cli/run.ts';
import { measureText } from '../core/bitmap-font.ts';
import { makeImage, makeStack } from '../core/image.ts';
import { encodeTiff } from '../core/tiff.ts';

const folder = mkdtempSync(join(tmpdir(), 'emseg-visualize-'));
afterAll(() => rmSync(folder, { recursive: true, force: true }));
const fixtures = join(import.meta.dirname, 'fixtures', 'tiff');
const data = join(import.meta.dirname, '..', 'data', 'isbi2012');

async function run(argv: string[]) {
  const stderr: string[] = [];
  const write = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
  try {
    const code = await runCli(argv, { stdout: () => undefined, stderr: (t) => stderr.push(t) });
    return { code, stderr: stderr.join('') };
  } finally {
    write.mockRestore();
  }
}

describe('emseg visualize', () => {
  it('writes a montage PNG of image | label | overlay rows of the expected size', async () => {
    const out = join(folder, 'montage.png');
    const result = await run(['visualize', '--images', join(data, 'train-volume.tif'), '--labels', join(data, 'train-labels.tif'), '--slices', '0,25-26', '--shrink', '2', '--out', out]);
    expect(result).toEqual({ code: 0, stderr: '' });
    const meta = await sharp(readFileSync(out)).metadata();
    const gap = 8;
    const label = measureText('slice 25', 2);
    expect(meta.format).toBe('png');
    const overlayColumn = Math.max(256, measureText('overlay (red = membrane)', 2).width);
    expect(meta.width).toBe(gap + label.width + gap + 2 * 256 + overlayColumn + 2 * gap + gap);
    expect(meta.height).toBe(gap + label.height + gap + 3 * 256 + 2 * gap + gap);
    // The overlay column is coloured: some pixels are red-dominant, unlike the grey image column.
    const { data: pixels, info } = await sharp(readFileSync(out)).raw().toBuffer({ resolveWithObject: true });
    let red = 0;
    for (let i = 0; i < pixels.length; i += info.channels) if (pixels[i]! > pixels[i + 1]! + 60) red += 1;
    expect(red).toBeGreaterThan(256 * 256 * 0.05);
  });

  const small = join(folder, 'small.tif');
  writeFileSync(small, encodeTiff(makeStack([makeImage(20, 20, new Uint8Array(400))])));
  const truncated = join(folder, 'truncated.tif');
  writeFileSync(truncated, readFileSync(join(fixtures, 'u8-none-le.tif')).subarray(0, 2000));
  const text = join(folder, 'notes.tif');
  writeFileSync(text, 'these are my notes, not an image');
  const images = join(fixtures, 'u8-none-le.tif');

  it.each([
    ['a missing file', ['--images', join(folder, 'missing.tif')], `${join(folder, 'missing.tif')}: no such file`],
    ['a file that is not an image', ['--images', text], `${text}: not a PNG, JPEG or TIFF image (starts with bytes 74 68 65 73)`],
    ['an unsupported TIFF variant', ['--images', join(fixtures, 'bad-lzma.tif')], `${join(fixtures, 'bad-lzma.tif')}: page 0: Compression 34925 (LZMA) is not supported`],
    ['a truncated TIFF', ['--images', truncated], `${truncated}: image directory 1 at byte 3856 (2 bytes) runs past the end of the file (truncated or corrupt TIFF, 2000 bytes)`],
    ['image and label stacks of different sizes', ['--images', images, '--labels', small], `${small}: 1 pages of 20x20 do not match ${images}: 3 pages of 40x30`],
    ['a slice outside the stack', ['--images', images, '--labels', images, '--slices', '0,3'], '--slices: slice 3 is out of range, the stack has slices 0-2'],
    ['a bad --shrink', ['--images', images, '--shrink', '0'], '--shrink: expected an integer from 1 to 64, found "0"'],
  ])('%s: one line naming it, exit 1, no stack trace, nothing written', async (_, args, message) => {
    const out = join(folder, `never-${Math.random().toString(36).slice(2)}.png`);
    const result = await run(['visualize', '--labels', 'none', ...args, '--out', out]);
    expect(result.code).toBe(1);
    expect(result.stderr.startsWith(`emseg: ${message}`)).toBe(true);
    expect(result.stderr.split('\n')).toHaveLength(2); // one line plus its newline
    expect(result.stderr).not.toMatch(/\n\s+at /);
    expect(existsSync(out)).toBe(false);
  });

  it('refuses to replace an existing file without --force', async () => {
    const out = join(folder, 'existing.png');
    writeFileSync(out, 'a file the user keeps');
    const refused = await run(['visualize', '--images', images, '--labels', 'none', '--out', out]);
    expect(refused).toEqual({ code: 1, stderr: `emseg: --out ${out}: exists already; pass --force to replace it, or choose another path\n` });
    expect(readFileSync(out, 'utf8')).toBe('a file the user keeps');
    expect(await run(['visualize', '--images', images, '--labels', 'none', '--out', out, '--force'])).toEqual({ code: 0, stderr: '' });
    expect((await sharp(readFileSync(out)).metadata()).format).toBe('png');
  });

  it('refuses to write the montage onto one of its inputs', async () => {
    const copy = join(folder, 'input-copy.tif');
    writeFileSync(copy, readFileSync(images));
    const result = await run(['visualize', '--images', copy, '--labels', 'none', '--out', copy]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/input-copy\.tif: is also an input/);
    expect(readFileSync(copy)).toEqual(readFileSync(images));
  });
});
