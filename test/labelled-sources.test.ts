/**
 * node/labelled-sources.ts: several sources at once (a TIFF stack, a folder of PNG pairs, a folder of
 * TIFF pairs) load identically to the same slices as one stack, down to the training batches;
 * --invert-labels and --ignore; bad input is one EmsegError line and `emseg train` writes nothing.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { makeStack, type GreyImage } from '../core/image.ts';
import { createRng } from '../core/random.ts';
import { encodeTiff } from '../core/tiff.ts';
import { encodePng } from '../node/png.ts';
import { runCli } from '../cli/run.ts';
import { IGNORED_TARGET } from '../train/batch.ts';
import { createDataset } from '../train/dataset.ts';
import { readLabelledData } from '../node/labelled-sources.ts';
import { tinyUNetOnnx } from './helpers/tiny-unet-onnx.ts';

const root = mkdtempSync(join(tmpdir(), 'emseg-sources-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const SIZE = 48;
const SLICES = 6;

function image(seed: number): GreyImage<Uint8Array> {
  const rng = createRng(seed);
  return { width: SIZE, height: SIZE, data: Uint8Array.from({ length: SIZE * SIZE }, () => Math.floor(rng.float() * 256)) };
}

function label(seed: number, values: number[] = [0, 255]): GreyImage<Uint8Array> {
  const rng = createRng(seed + 1000);
  return { width: SIZE, height: SIZE, data: Uint8Array.from({ length: SIZE * SIZE }, (_, i) => (i % SIZE < 8 ? values[Math.floor(rng.float() * values.length)]! : i % 7 === 0 ? 0 : 255)) };
}

const images = Array.from({ length: SLICES }, (_, k) => image(k));
const labels = Array.from({ length: SLICES }, (_, k) => label(k));
const path = (...parts: string[]) => join(root, ...parts);

beforeAll(async () => {
  // One stack of all slices...
  writeFileSync(path('all.tif'), encodeTiff(makeStack(images)));
  writeFileSync(path('all-labels.tif'), encodeTiff(makeStack(labels)));
  // ...and the same slices from three sources: slices 0-1 a stack, 2-3 PNG pairs, 4-5 TIFF pairs.
  writeFileSync(path('part.tif'), encodeTiff(makeStack(images.slice(0, 2))));
  writeFileSync(path('part-labels.tif'), encodeTiff(makeStack(labels.slice(0, 2))));
  for (const folder of ['png-img', 'png-lab', 'tif-img', 'tif-lab']) mkdirSync(path(folder));
  // Natural name order: s9 before s10.
  writeFileSync(path('png-img', 's9.png'), await encodePng(images[2]!));
  writeFileSync(path('png-lab', 's9.png'), await encodePng(labels[2]!));
  writeFileSync(path('png-img', 's10.png'), await encodePng(images[3]!));
  writeFileSync(path('png-lab', 's10.tif'), encodeTiff(makeStack([labels[3]!])));
  writeFileSync(path('tif-img', 'a.tif'), encodeTiff(makeStack([images[4]!])));
  writeFileSync(path('tif-lab', 'a.tif'), encodeTiff(makeStack([labels[4]!])));
  writeFileSync(path('tif-img', 'b.tiff'), encodeTiff(makeStack([images[5]!])));
  writeFileSync(path('tif-lab', 'b.png'), await encodePng(labels[5]!));
});

describe('training data from several sources', () => {
  it('loads mixed sources identically to the same data as one stack, down to the batches', async () => {
    const one = await readLabelledData(path('all.tif'), path('all-labels.tif'));
    const mixed = await readLabelledData(
      [path('part.tif'), path('png-img'), path('tif-img')].join(','),
      [path('part-labels.tif'), path('png-lab'), path('tif-lab')].join(','),
    );
    expect(mixed.images.pages.length).toBe(SLICES);
    mixed.images.pages.forEach((page, k) => expect([...page.data], `image ${k}`).toEqual([...one.images.pages[k]!.data]));
    mixed.labels.pages.forEach((page, k) => expect([...page.data], `label ${k}`).toEqual([...one.labels.pages[k]!.data]));
    expect(mixed.origins[2]).toMatch(/png-img\/s9\.png$/);
    expect(mixed.sources.map((s) => s.kind)).toEqual(['stack', 'folder', 'folder']);
    const options = { trainSlices: [0, 2, 3, 5], validationSlices: [1, 4], cropSize: 32, batchSize: 3 };
    const a = createDataset(one.images, one.labels, options);
    const b = createDataset(mixed.images, mixed.labels, options);
    const ra = createRng(3);
    const rb = createRng(3);
    for (let step = 0; step < 3; step++) {
      const x = a.sampleBatch(ra);
      const y = b.sampleBatch(rb);
      expect([...y.images]).toEqual([...x.images]);
      expect([...y.labels]).toEqual([...x.labels]);
      expect([...y.weights!]).toEqual([...x.weights!]);
    }
  });

  it('inverts labels and marks ignored pixels as IGNORED_TARGET in the batches', async () => {
    const odd = Array.from({ length: 2 }, (_, k) => label(k, [0, 128, 255]));
    writeFileSync(path('odd-labels.tif'), encodeTiff(makeStack(odd)));
    writeFileSync(path('two.tif'), encodeTiff(makeStack(images.slice(0, 2))));
    const data = await readLabelledData(path('two.tif'), path('odd-labels.tif'), { ignore: 128, invert: true });
    const given = odd[0]!.data;
    data.labels.pages[0]!.data.forEach((v, i) => expect(v).toBe(given[i] === 128 ? 128 : 255 - given[i]!));
    const dataset = createDataset(data.images, data.labels, { trainSlices: [0], validationSlices: [1], cropSize: SIZE, batchSize: 1, augment: false, ignore: 128 });
    const batch = dataset.sampleBatch(createRng(1));
    const ignoredCount = batch.labels.filter((v) => v === IGNORED_TARGET).length;
    expect(ignoredCount).toBe(given.filter((v) => v === 128).length);
    expect(ignoredCount).toBeGreaterThan(0);
  });

  it('refuses bad input in one line each, and emseg train writes nothing', async () => {
    const small = { width: 40, height: 40, data: new Uint8Array(1600).fill(255) };
    mkdirSync(path('bad-size-img'));
    mkdirSync(path('bad-size-lab'));
    writeFileSync(path('bad-size-img', 'x.png'), await encodePng(images[0]!));
    writeFileSync(path('bad-size-lab', 'x.png'), await encodePng(small));
    writeFileSync(path('grey-labels.tif'), encodeTiff(makeStack(Array.from({ length: SLICES }, (_, k) => label(k, [0, 17, 255])))));
    mkdirSync(path('unmatched-img'));
    mkdirSync(path('unmatched-lab'));
    writeFileSync(path('unmatched-img', 'x.png'), await encodePng(images[0]!));
    writeFileSync(path('unmatched-lab', 'y.png'), await encodePng(labels[0]!));
    const cases: Array<[string[], RegExp]> = [
      [['--images', path('bad-size-img'), '--labels', path('bad-size-lab')], /x\.png: label is 40x40, but its image .*x\.png is 48x48$/],
      [['--images', path('all.tif'), '--labels', path('grey-labels.tif')], /grey-labels\.tif#0: value 17 at \(\d+, \d+\); labels must be 0 or 255/],
      [['--images', path('all.tif'), '--labels', path('grey-labels.tif'), '--ignore', '128'], /value 17 .*labels must be 0, 255 or the --ignore value 128/],
      [['--images', path('unmatched-img'), '--labels', path('unmatched-lab')], /x\.png: no label named x\.png or x\.tif/],
      [['--images', `${path('all.tif')},${path('png-img')}`, '--labels', path('all-labels.tif')], /expected one entry per --images entry \(2\), found 1/],
      [['--images', path('png-img'), '--labels', path('all-labels.tif')], /is a stack, but its images .* are a folder/],
      [['--images', path('scan.ome.zarr'), '--labels', path('scan-labels.zarr')], /OME-Zarr training sources are not supported yet/],
      [['--init', path('all.tif')], /--init .*all\.tif: not an ONNX model|does not follow/],
      [['--init', (await tinyUNetOnnx({ depth: 2, baseFilters: 8 })).path, '--images', path('all.tif'), '--labels', path('all-labels.tif')], /the model has depth 2, 8 base filters, no batch norm, but depth 2, 4 base filters, no batch norm was asked; pass --depth 2 --filters 8$/],
    ];
    const spy = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      for (const [k, [argv, expected]] of cases.entries()) {
        const out = path(`out-${k}`);
        let stderr = '';
        const code = await runCli(['train', ...argv, '--train-slices', '0-3', '--validation-slices', '4-5', '--crop-size', '32', '--depth', '2', '--filters', '4', '--steps', '1', '--backend', 'cpu', '--out', out], {
          stdout: () => {},
          stderr: (t) => (stderr += t),
        });
        expect(code, argv.join(' ')).toBe(1);
        expect(stderr.trim().split('\n'), argv.join(' ')).toHaveLength(1);
        expect(stderr.trim(), argv.join(' ')).toMatch(expected);
        expect(existsSync(out), `${out} written`).toBe(false);
      }
    } finally {
      spy.mockRestore();
    }
  });
});
