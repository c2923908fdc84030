/**
 * The streaming tiler with the shipped model (models/isbi2012-unet.onnx on onnxruntime-node, CPU)
 * on an ISBI mosaic larger than a tile and not a multiple of 16: the same probabilities (max abs
 * difference <= 1e-5) and the same mask as the in-memory pipeline, chunks of another size than
 * the tiles.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GreyImage } from '../core/image.ts';
import { segmentImage } from '../core/inference.ts';
import { segmentVolume } from '../core/stream-inference.ts';
import { readImageFile } from '../node/image-files.ts';
import { loadOnnxModel, type LoadedModel } from '../node/load-onnx-model.ts';
import { MemoryVolumeSink, MemoryVolumeSource } from './helpers/memory-volume.ts';

describe('segmentVolume with the shipped model', () => {
  let model: LoadedModel;
  let image: GreyImage<Uint8Array>;
  beforeAll(async () => {
    model = await loadOnnxModel('models/isbi2012-unet.onnx', { providers: 'cpu' });
    const slices = (await readImageFile('data/isbi2012/train-volume.tif')).pages;
    const [width, height] = [390, 333];
    const data = new Uint8Array(width * height);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) data[y * width + x] = slices[(y >= 200 ? 2 : 0) + (x >= 250 ? 1 : 0)]!.data[(y % 512) * 512 + (x % 512)]!;
    }
    image = { width, height, data };
  }, 60_000);
  afterAll(async () => {
    await model?.close();
  });

  it('equals segmentImage on a 390x333 mosaic (tile 192, halo 32: 3x2 tiles, 100x90 chunks)', async () => {
    const options = { tile: 192, halo: 32, threshold: model.card.threshold };
    const expected = await segmentImage(image, model.predictor, options);
    const source = new MemoryVolumeSource([image]);
    const probability = new MemoryVolumeSink(image.width, image.height, 1, 100, 90, 'float32');
    await segmentVolume(source, probability, model.predictor, { ...options, output: 'probability', tileBatch: 2 });
    const got = probability.slice(0).data;
    let maxDiff = 0;
    for (let i = 0; i < got.length; i++) maxDiff = Math.max(maxDiff, Math.abs(got[i]! - expected.probability.data[i]!));
    expect(maxDiff).toBeLessThanOrEqual(1e-5);
    const mask = new MemoryVolumeSink(image.width, image.height, 1, 100, 90, 'uint8');
    await segmentVolume(source, mask, model.predictor, { ...options, output: 'mask', tileBatch: 3 });
    expect(Buffer.from(mask.slice(0).data).equals(Buffer.from(expected.mask.data))).toBe(true);
    const white = expected.mask.data.filter((v) => v === 255).length;
    expect(white).toBeGreaterThan(0.2 * got.length);
    expect(white).toBeLessThan(0.95 * got.length);
  }, 120_000);
});
