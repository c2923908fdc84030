/**
 * `emseg visualize --cells`: a column of instance labels (the uint32 TIFF of `emseg predict --output
 * labels`), each cell coloured over its image and the lines (label 0) left as the image; labels
 * that do not fit the images are one `emseg:` line.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { runCli } from '../cli/run.ts';
import { measureText } from '../core/bitmap-font.ts';
import { cellColour } from '../core/cells/cell-colours.ts';
import { makeImage, makeStack } from '../core/image.ts';
import { encodeTiff } from '../core/tiff.ts';
import { encodeLabelTiff } from '../core/tiff-write.ts';
import { encodePng } from '../node/png.ts';

const folder = mkdtempSync(join(tmpdir(), 'emseg-visualize-cells-'));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

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

const width = 80;
const height = 60;
const greyAt = (x: number, y: number, z: number) => (x * 3 + y * 5 + z * 40) % 256;
/** Four cells in quadrants split by a cross of 0 (x 40, y 30); one label beyond 16 bits; other numbers on each page. */
const labelAt = (x: number, y: number, z: number) => (x === 40 || y === 30 ? 0 : [1 + 10 * z, 2, 70000, 3 + 10 * z][(y > 30 ? 2 : 0) + (x > 40 ? 1 : 0)]!);

function page<T extends Uint8Array | Uint32Array>(array: new (n: number) => T, value: (x: number, y: number) => number): T {
  const data = new array(width * height);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data[y * width + x] = value(x, y);
  return data;
}

const images = join(folder, 'images.tif');
writeFileSync(images, encodeTiff(makeStack([0, 1, 2].map((z) => makeImage(width, height, page(Uint8Array, (x, y) => greyAt(x, y, z)))))));
const cells = join(folder, 'cells.tif');
writeFileSync(cells, encodeLabelTiff({ width, height, pages: [0, 1, 2].map((z) => ({ width, height, data: page(Uint32Array, (x, y) => labelAt(x, y, z)) })) }));

describe('emseg visualize --cells', () => {
  it('adds a cells column: cell pixels coloured, lines (0) exactly the image, the image column unchanged', async () => {
    const out = join(folder, 'cells.png');
    expect(await run(['visualize', '--images', images, '--labels', 'none', '--cells', cells, '--slices', '2,1', '--out', out])).toEqual({ code: 0, stderr: '' });
    const { data, info } = await sharp(readFileSync(out)).raw().toBuffer({ resolveWithObject: true });
    const gap = 8;
    const label = measureText('slice 2', 2);
    const left = gap + label.width + gap;
    expect(info.width).toBe(left + width + gap + width + gap); // image | cells
    expect(info.height).toBe(gap + label.height + gap + 2 * height + gap + gap);
    const rgb = (x: number, y: number) => Array.from(data.subarray((y * info.width + x) * info.channels, (y * info.width + x) * info.channels + 3));
    for (const [row, z] of [[0, 2], [1, 1]] as const) {
      const top = gap + label.height + gap + row * (height + gap);
      let coloured = 0;
      let lines = 0;
      const cellsSeen = new Set<number>();
      for (let y = 0; y < height; y++) {
        for (let x = 0; x < width; x++) {
          const g = greyAt(x, y, z);
          expect(rgb(left + x, top + y)).toEqual([g, g, g]);
          const shown = rgb(left + width + gap + x, top + y);
          const k = labelAt(x, y, z);
          if (k === 0) {
            expect(shown, `line pixel ${x},${y} of slice ${z}`).toEqual([g, g, g]);
            lines += 1;
          } else {
            expect(Math.max(...shown.map((c) => Math.abs(c - g))), `cell pixel ${x},${y} of slice ${z}`).toBeGreaterThan(10);
            coloured += 1;
            // Half colour, half image: 2 * shown - grey is the cell's colour (within rounding), the colour of its number.
            const colour = shown.map((c) => 2 * c - g);
            expect(Math.max(...colour.map((c, i) => Math.abs(c - cellColour(k)[i]!))), `colour of cell ${k} at ${x},${y}`).toBeLessThanOrEqual(1);
            cellsSeen.add(k);
          }
        }
      }
      expect(lines).toBe(width + height - 1);
      expect(coloured).toBe(width * height - lines);
      expect(cellsSeen.size).toBe(4);
    }
  });

  it('reads the cells from a 16-bit PNG label image as well', async () => {
    const png = join(folder, 'cells-16.png');
    const labels = page(Uint32Array, (x, y) => labelAt(x, y, 0) % 65536);
    writeFileSync(png, await encodePng(makeImage(width, height, Uint16Array.from(labels))));
    const one = join(folder, 'image-0.tif');
    writeFileSync(one, encodeTiff(makeStack([makeImage(width, height, page(Uint8Array, (x, y) => greyAt(x, y, 0)))])));
    const out = join(folder, 'cells-16.png.png');
    expect(await run(['visualize', '--images', one, '--labels', 'none', '--cells', png, '--out', out])).toEqual({ code: 0, stderr: '' });
    const { data, info } = await sharp(readFileSync(out)).raw().toBuffer({ resolveWithObject: true });
    const label = measureText('slice 0', 2);
    const at = (x: number, y: number) => Array.from(data.subarray((y * info.width + x) * info.channels, (y * info.width + x) * info.channels + 3));
    const left = 8 + label.width + 8 + width + 8;
    const top = 8 + label.height + 8;
    expect(at(left + 40, top + 10)).toEqual([greyAt(40, 10, 0), greyAt(40, 10, 0), greyAt(40, 10, 0)]);
    expect(at(left + 10, top + 10)).not.toEqual([greyAt(10, 10, 0), greyAt(10, 10, 0), greyAt(10, 10, 0)]);
  });

  const fewer = join(folder, 'fewer.tif');
  writeFileSync(fewer, encodeLabelTiff({ width, height, pages: [{ width, height, data: new Uint32Array(width * height) }] }));
  const smaller = join(folder, 'smaller.tif');
  writeFileSync(smaller, encodeLabelTiff({ width: 40, height: 30, pages: [0, 1, 2].map(() => ({ width: 40, height: 30, data: new Uint32Array(1200) })) }));
  const probability = join(folder, 'probability.tif');
  const fractions = new Float32Array(width * height).fill(0.25);
  writeFileSync(probability, encodeTiff(makeStack([0, 1, 2].map(() => makeImage(width, height, fractions)))));

  it.each([
    ['cells with fewer slices than the images', fewer, `${fewer}: 1 pages of 80x60 do not match ${images}: 3 pages of 80x60`],
    ['cells of another size', smaller, `${smaller}: 3 pages of 40x30 do not match ${images}: 3 pages of 80x60`],
    ['a probability map given as cells', probability, `${probability}: page 0 holds 0.25 at x 0, y 0; expected cell labels, whole numbers from 0 (the uint32 TIFF of emseg predict --output labels)`],
    ['a missing cells file', join(folder, 'missing.tif'), `${join(folder, 'missing.tif')}: no such file`],
  ])('%s: one emseg line, exit 1, nothing written', async (_, file, message) => {
    const out = join(folder, `never-${Math.random().toString(36).slice(2)}.png`);
    const result = await run(['visualize', '--images', images, '--labels', 'none', '--cells', file, '--out', out]);
    expect(result).toEqual({ code: 1, stderr: `emseg: ${message}\n` });
    expect(existsSync(out)).toBe(false);
  });

  it('never writes the montage onto the cells file', async () => {
    const copy = join(folder, 'cells-copy.tif');
    writeFileSync(copy, readFileSync(cells));
    const result = await run(['visualize', '--images', images, '--labels', 'none', '--cells', copy, '--out', copy, '--force']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/cells-copy\.tif: is also an input/);
    expect(readFileSync(copy)).toEqual(readFileSync(cells));
  });
});
