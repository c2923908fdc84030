import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { runCli } from '../cli/run.ts';
import { makeImage, makeStack } from '../core/image.ts';
import { decodeTiff, encodeTiff } from '../core/tiff.ts';
import { readImageFile } from '../node/image-files.ts';
import { sliceFileName } from '../node/export-slices.ts';

const data = join(import.meta.dirname, '..', 'data', 'isbi2012');
const folder = mkdtempSync(join(tmpdir(), 'emseg-export-'));

async function run(argv: string[]) {
  const stderr: string[] = [];
  const stdout: string[] = [];
  const write = vi.spyOn(process.stdout, 'write').mockImplementation((text) => (stdout.push(String(text)), true));
  try {
    const code = await runCli(argv, { stdout: (t) => stdout.push(t), stderr: (t) => stderr.push(t) });
    return { code, stderr: stderr.join(''), stdout: stdout.join('') };
  } finally {
    write.mockRestore();
  }
}

beforeAll(() => mkdirSync(folder, { recursive: true }));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

describe('emseg data export', () => {
  const out = join(folder, 'slices');

  it('writes one PNG per slice with unchanged values', async () => {
    const result = await run(['data', 'export', '--data', data, '--out', out]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`wrote 90 PNG files under ${out}`);
    const names = Array.from({ length: 30 }, (_, i) => `${String(i).padStart(2, '0')}.png`);
    for (const sub of ['train/images', 'train/labels', 'test/images']) expect(readdirSync(join(out, sub)).sort()).toEqual(names);

    for (const [stack, sub] of [['train-volume.tif', 'train/images'], ['train-labels.tif', 'train/labels'], ['test-volume.tif', 'test/images']] as const) {
      const tiff = decodeTiff(new Uint8Array(readFileSync(join(data, stack))), stack);
      for (const slice of [0, 17, 29]) {
        const png = await readImageFile(join(out, sub, names[slice]!));
        expect(png.pages[0]!.data).toBeInstanceOf(Uint8Array);
        expect(Buffer.compare(Buffer.from(png.pages[0]!.data), Buffer.from(tiff.pages[slice]!.data)), `${sub}/${names[slice]}`).toBe(0);
      }
    }
  });

  it('refuses to overwrite existing PNGs without --force, and overwrites with it', async () => {
    const before = readFileSync(join(out, 'train', 'labels', '03.png'));
    const refused = await run(['data', 'export', '--data', data, '--out', out]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toBe(`emseg: --out ${join(out, 'train', 'images', '00.png')}: exists already (and 89 more of its outputs); pass --force to replace them, or choose another path\n`);
    const forced = await run(['data', 'export', '--data', data, '--out', out, '--force']);
    expect(forced.code).toBe(0);
    expect(readFileSync(join(out, 'train', 'labels', '03.png'))).toEqual(before);
  });

  it('names the missing stack and writes nothing', async () => {
    const empty = join(folder, 'empty-data');
    mkdirSync(empty);
    const target = join(folder, 'never');
    const result = await run(['data', 'export', '--data', empty, '--out', target]);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(`emseg: ${join(empty, 'train-volume.tif')}: no such file\n`);
    expect(existsSync(target)).toBe(false);
  });

  it('refuses image and label stacks of different sizes before writing anything', async () => {
    const odd = join(folder, 'odd-data');
    mkdirSync(odd);
    const fixture = join(import.meta.dirname, 'fixtures', 'tiff', 'u8-none-le.tif');
    copyFileSync(fixture, join(odd, 'train-volume.tif'));
    copyFileSync(fixture, join(odd, 'test-volume.tif'));
    writeFileSync(join(odd, 'train-labels.tif'), encodeTiff(makeStack([makeImage(20, 20, new Uint8Array(400))])));
    const target = join(folder, 'never2');
    const result = await run(['data', 'export', '--data', odd, '--out', target]);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      `emseg: ${join(odd, 'train-labels.tif')}: 1 pages of 20x20 do not match ${join(odd, 'train-volume.tif')}: 3 pages of 40x30\n`,
    );
    expect(existsSync(target)).toBe(false);
  });

  it('pads slice numbers to the width the stack needs', () => {
    expect([sliceFileName(0, 30), sliceFileName(7, 100), sliceFileName(99, 101), sliceFileName(3, 1000)]).toEqual(['00.png', '07.png', '099.png', '003.png']);
  });
});
