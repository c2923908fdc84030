/**
 * The large-image path rescales like the in-memory path (issue 23, item 1): a BigTIFF stating
 * 8 nm, segmented by predictLarge for a model trained at 4 nm, gives exactly segmentImage's
 * probabilities and mask at scale 2 (the input resampled region by region, core/resampled-volume.ts,
 * then the probabilities back), into OME-Zarr (axes with their unit) and BigTIFF outputs; the
 * temporary model-scale store is gone afterwards; --pixel-size overrides the file on this path too;
 * `--level 1` of a 4 nm OME-Zarr store is read as 8 nm (its NGFF scale) and rescaled.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { segmentOptionsFromCard } from '../core/card-options.ts';
import { halveImage } from '../core/downsample.ts';
import type { GreyImage } from '../core/image.ts';
import { segmentImage } from '../core/inference.ts';
import { defaultModelCard } from '../core/model-card.ts';
import { resampleBilinear } from '../core/resample.ts';
import { resampledVolume } from '../core/resampled-volume.ts';
import { decodeTiff } from '../core/tiff.ts';
import type { TilePredictor } from '../core/tiling.ts';
import { openBigTiffSink } from '../node/bigtiff-sink.ts';
import { openOmeZarrSink } from '../node/ome-zarr-sink.ts';
import { openVolume } from '../node/open-volume.ts';
import { modelScaleStorePath, predictLarge } from '../predict/predict-large.ts';
import { MemoryVolumeSource } from './helpers/memory-volume.ts';

let dir: string;
let slices: GreyImage<Uint8Array>[];
let input: string;
const card = { ...defaultModelCard('four-nm'), trainingPixelSize: 4, tile: 256, halo: 32 };
/** A pointwise "model" that still depends on its input: sigmoid of the normalized intensity. */
const predictor: TilePredictor = async (tiles) => tiles.map((v) => 1 / (1 + Math.exp(-2 * v)));
const model = { predictor, card };

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'emseg-large-px-'));
  const stack = decodeTiff(new Uint8Array(readFileSync('data/isbi2012/train-volume.tif')), 'train-volume');
  // 8 nm: two ISBI slices halved, cropped to 250x190 (sizes that are no multiple of anything).
  slices = stack.pages.slice(0, 2).map((page) => {
    const half = halveImage(page as GreyImage<Uint8Array>, 'mean');
    const data = new Uint8Array(250 * 190);
    for (let y = 0; y < 190; y++) data.set(half.data.subarray(y * 256, y * 256 + 250), y * 250);
    return { width: 250, height: 190, data };
  });
  input = join(dir, 'montage-8nm.tif');
  const sink = await openBigTiffSink({ path: input, width: 250, height: 190, depth: 2, sampleType: 'uint8', tileSize: 64, levels: 0, pixelSize: { x: 8, y: 8, unit: 'nanometer' } });
  for (let z = 0; z < 2; z++) {
    for (let cy = 0; cy * 64 < 190; cy++) {
      for (let cx = 0; cx * 64 < 250; cx++) {
        const w = Math.min(64, 250 - cx * 64);
        const h = Math.min(64, 190 - cy * 64);
        const chunk = new Uint8Array(w * h);
        for (let y = 0; y < h; y++) chunk.set(slices[z]!.data.subarray((cy * 64 + y) * 250 + cx * 64, (cy * 64 + y) * 250 + cx * 64 + w), y * w);
        await sink.writeChunk({ z, cx, cy }, chunk);
      }
    }
  }
  await sink.finalize();
  await sink.close();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function readAll(path: string, z: number) {
  const volume = await openVolume(path);
  try {
    return { image: await volume.readRegion(z, { x: 0, y: 0, width: volume.width, height: volume.height }), pixelSize: volume.pixelSize };
  } finally {
    await volume.close();
  }
}

describe('predictLarge at another pixel size', () => {
  it('resamples a volume region by region to the bit of resampleBilinear', async () => {
    const image = slices[0]!;
    const volume = resampledVolume(new MemoryVolumeSource([image]), 501, 377);
    const whole = resampleBilinear(image, 501, 377);
    for (const box of [{ x: 0, y: 0, width: 501, height: 377 }, { x: 123, y: 45, width: 67, height: 200 }, { x: 500, y: 376, width: 1, height: 1 }]) {
      const region = (await volume.readRegion(0, box)).data;
      const expected = Float32Array.from({ length: box.width * box.height }, (_, i) => whole.data[(box.y + Math.floor(i / box.width)) * 501 + box.x + (i % box.width)]!);
      expect(region).toEqual(expected);
    }
  });

  it("uses the BigTIFF's 8 nm: exactly the in-memory probabilities and masks at scale 2, into OME-Zarr and BigTIFF", async () => {
    const lines: string[] = [];
    const zarr = join(dir, 'prob.ome.zarr');
    await predictLarge(input, zarr, model, { output: 'probability', onNotice: (line) => lines.push(line) });
    expect(lines).toEqual([`pixel size 8 nm (from OME-XML of ${input}): rescaled x2 to the model's 4 nm`]);
    const tif = join(dir, 'mask.tif');
    await predictLarge(input, tif, model, { output: 'mask' });
    expect(existsSync(modelScaleStorePath(zarr)) || existsSync(modelScaleStorePath(tif))).toBe(false);
    expect(readdirSync(dir).filter((name) => name.startsWith('.emseg-tmp'))).toEqual([]);
    for (const z of [0, 1]) {
      const direct = await segmentImage(slices[z]!, predictor, { ...segmentOptionsFromCard(card), scale: 2 });
      const probability = await readAll(zarr, z);
      expect(probability.image.data).toEqual(direct.probability.data);
      const mask = await readAll(tif, z);
      expect(mask.image.data).toEqual(direct.mask.data);
      expect(probability.pixelSize).toMatchObject({ x: 8, y: 8, unit: 'nanometer' });
    }
    // NGFF 0.4 axes carry their unit.
    const attributes = JSON.parse(readFileSync(join(zarr, '.zattrs'), 'utf8')) as { multiscales: { axes: { name: string; unit?: string }[] }[] };
    expect(attributes.multiscales[0]!.axes.map((axis) => axis.unit)).toEqual(['nanometer', 'nanometer', 'nanometer']);
  });

  it('--pixel-size overrides the file on the large path; equal to the model\'s, nothing is rescaled', async () => {
    const lines: string[] = [];
    const out = join(dir, 'as-is.ome.zarr');
    await predictLarge(input, out, model, { output: 'probability', pixelSize: 4, onNotice: (line) => lines.push(line) });
    expect(lines[0]).toMatch(/^pixel size 4 nm \(from --pixel-size; .* states 8 nm\): the model's 4 nm, not rescaled$/);
    const direct = await segmentImage(slices[1]!, predictor, segmentOptionsFromCard(card));
    const written = await readAll(out, 1);
    expect(written.image.data).toEqual(direct.probability.data);
    expect(written.pixelSize).toMatchObject({ x: 4, y: 4, unit: 'nanometer' });
  });

  it('--level 1 of an OME-Zarr store at 4 nm is 8 nm (its NGFF scale): rescaled x2, as in memory', async () => {
    const store = join(dir, 'volume.ome.zarr');
    const full = await openVolume(input);
    const image = await full.readRegion(0, { x: 0, y: 0, width: 250, height: 190 });
    await full.close();
    // A 4 nm store (the 8 nm slice upsampled twice, so that its level 1 is about the slice again).
    const up = resampleBilinear(image, 500, 380);
    const sink = await openOmeZarrSink({ path: store, width: 500, height: 380, depth: 1, chunkWidth: 128, chunkHeight: 128, sampleType: 'float32', kind: 'probability', job: 'fixture', pixelSize: { x: 4, y: 4, unit: 'nanometer' } });
    for (let cy = 0; cy * 128 < 380; cy++) {
      for (let cx = 0; cx * 128 < 500; cx++) {
        const w = Math.min(128, 500 - cx * 128);
        const h = Math.min(128, 380 - cy * 128);
        const chunk = new Float32Array(w * h);
        for (let y = 0; y < h; y++) chunk.set(up.data.subarray((cy * 128 + y) * 500 + cx * 128, (cy * 128 + y) * 500 + cx * 128 + w), y * w);
        await sink.writeChunk({ z: 0, cx, cy }, chunk);
      }
    }
    await sink.finalize();
    await sink.close();
    const level1 = await openVolume(store, { level: 1 });
    const slice = await level1.readRegion(0, { x: 0, y: 0, width: level1.width, height: level1.height });
    await level1.close();
    const lines: string[] = [];
    const out = join(dir, 'level1.ome.zarr');
    await predictLarge(store, out, model, { output: 'mask', level: 1, onNotice: (line) => lines.push(line) });
    expect(lines[0]).toBe(`pixel size 8 nm (from NGFF scale of level 1 of ${store}): rescaled x2 to the model's 4 nm`);
    const direct = await segmentImage(slice, predictor, { ...segmentOptionsFromCard(card), scale: 2 });
    const written = await readAll(out, 0);
    expect(written.image.data).toEqual(direct.mask.data);
    expect(written.pixelSize).toMatchObject({ x: 8, y: 8, unit: 'nanometer' });
  });
});
