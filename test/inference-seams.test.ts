/**
 * No seams: a tiled run of a position-dependent predictor agrees with a whole-image run. First a
 * small convolution written here (zero padding at the tile edges, as a CNN has), then a tiny
 * exported U-Net in onnxruntime-node on a real ISBI slice; and TTA with that model equals the mean
 * of the 8 transformed whole-slice runs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GreyImage } from '../core/image.ts';
import { segmentImage } from '../core/inference.ts';
import { slidingWindowInference } from '../core/stitch.ts';
import type { Blending, TilePredictor } from '../core/tiling.ts';
import { DIHEDRAL_TRANSFORMS, inverseTransformTiles, swapsAxes, transformTiles } from '../core/tta.ts';
import { readImageFile } from '../node/image-files.ts';
import { loadOnnxModel, type LoadedModel } from '../node/load-onnx-model.ts';
import { tinyUNetOnnx } from './helpers/tiny-unet-onnx.ts';

/** tanh of a 7x7 Gaussian-ish convolution with zero padding, applied twice: receptive radius 6. */
const convPredictor: TilePredictor = async (tiles, n, height, width) => {
  const kernel = [1, 6, 15, 20, 15, 6, 1].map((v) => v / 64);
  const pass = (input: Float32Array): Float32Array => {
    const out = new Float32Array(input.length);
    const tmp = new Float32Array(input.length);
    for (let k = 0; k < n; k++) {
      const base = k * height * width;
      for (let y = 0; y < height; y++) {
        for (let x = 0; x < width; x++) {
          let s = 0;
          for (let d = -3; d <= 3; d++) if (x + d >= 0 && x + d < width) s += kernel[d + 3]! * input[base + y * width + x + d]!;
          tmp[base + y * width + x] = s;
        }
      }
      for (let y = 0; y < height; y++) {
        for (let x = 0; x < width; x++) {
          let s = 0;
          for (let d = -3; d <= 3; d++) if (y + d >= 0 && y + d < height) s += kernel[d + 3]! * tmp[base + (y + d) * width + x]!;
          out[base + y * width + x] = Math.tanh(2 * s);
        }
      }
    }
    return out;
  };
  return pass(pass(tiles));
};

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
  return max;
}

function smoothNoise(width: number, height: number): GreyImage<Float32Array> {
  const data = new Float32Array(width * height);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data[y * width + x] = Math.sin(x * 0.21) * Math.cos(y * 0.13) + Math.sin((x + 2 * y) * 0.05);
  return { width, height, data };
}

describe('tiled runs of a convolution agree with a whole-image run', () => {
  // Not a multiple of 16: both runs mirror-pad it to 304x208 the same way, so any difference is a seam.
  const image = smoothNoise(300, 200);
  let whole: GreyImage<Float32Array>;
  beforeAll(async () => {
    whole = await slidingWindowInference(image, convPredictor, { tile: 304, halo: 0 });
  });

  it('within 5e-3 with gaussian blending and halo 16 on 64-pixel tiles, 10x closer than a plain average', async () => {
    const gaussian = await slidingWindowInference(image, convPredictor, { tile: 64, halo: 16 });
    const constant = await slidingWindowInference(image, convPredictor, { tile: 64, halo: 16, blending: 'constant' as Blending });
    const gaussianError = maxAbsDiff(gaussian.data, whole.data);
    expect(gaussianError).toBeLessThan(5e-3);
    expect(gaussianError * 10).toBeLessThan(maxAbsDiff(constant.data, whole.data));
  });

  it('and this test sees seams: tiles without overlap disagree', async () => {
    const seamy = await slidingWindowInference(image, convPredictor, { tile: 64, halo: 0, blending: 'constant' as Blending });
    expect(maxAbsDiff(seamy.data, whole.data)).toBeGreaterThan(1e-2);
  });
});

describe('a tiny U-Net (ONNX, onnxruntime-node) on an ISBI slice', () => {
  let model: LoadedModel;
  let slice: GreyImage;
  beforeAll(async () => {
    const tiny = await tinyUNetOnnx({ depth: 2, baseFilters: 4 });
    model = await loadOnnxModel(tiny.path, { providers: 'cpu' });
    slice = (await readImageFile('data/isbi2012/train-volume.tif')).pages[25]!;
  });
  afterAll(async () => {
    await model?.close();
  });

  it('gives the same probabilities and masks tiled (128 px, halo 32) as in one piece', async () => {
    const whole = await segmentImage(slice, model.predictor, { tile: 512 });
    const tiled = await segmentImage(slice, model.predictor, { tile: 128, halo: 32 });
    expect(maxAbsDiff(tiled.probability.data, whole.probability.data)).toBeLessThan(1e-3);
    let same = 0;
    let white = 0;
    for (let i = 0; i < whole.mask.data.length; i++) {
      if (whole.mask.data[i] === tiled.mask.data[i]) same++;
      if (whole.mask.data[i] === 255) white++;
    }
    expect(same / whole.mask.data.length).toBeGreaterThanOrEqual(0.999);
    expect(white).toBeGreaterThan(0);
    expect(white).toBeLessThan(whole.mask.data.length);
  });

  it('segments a 1000x700 mosaic (not a multiple of 16, larger than a tile) as a whole-image run does', async () => {
    const slices = (await readImageFile('data/isbi2012/train-volume.tif')).pages;
    const [width, height] = [1000, 700];
    const data = new Uint8Array(width * height);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) data[y * width + x] = slices[(y >= 512 ? 2 : 0) + (x >= 512 ? 1 : 0)]!.data[(y % 512) * 512 + (x % 512)]!;
    }
    const image = { width, height, data };
    const tiled = await segmentImage(image, model.predictor); // tile 512, halo 32: 3x2 tiles
    const whole = await segmentImage(image, model.predictor, { tile: 1024 });
    expect([tiled.probability.width, tiled.probability.height]).toEqual([width, height]);
    expect(maxAbsDiff(tiled.probability.data, whole.probability.data)).toBeLessThan(1e-3);
  });

  it('with TTA gives the mean of the 8 transformed whole-slice predictions', async () => {
    const tta = await segmentImage(slice, model.predictor, { tta: true });
    const sum = new Float64Array(slice.width * slice.height);
    const pixels = Float32Array.from(slice.data);
    for (const transform of DIHEDRAL_TRANSFORMS) {
      const view = transformTiles(pixels, 1, slice.height, slice.width, transform);
      const [h, w] = swapsAxes(transform) ? [slice.width, slice.height] : [slice.height, slice.width];
      const predicted = await segmentImage({ width: w, height: h, data: view }, model.predictor);
      const back = inverseTransformTiles(predicted.probability.data, 1, slice.height, slice.width, transform);
      for (let i = 0; i < sum.length; i++) sum[i]! += back[i]!;
    }
    const mean = Float32Array.from(sum, (v) => v / 8);
    expect(maxAbsDiff(tta.probability.data, mean)).toBeLessThan(1e-5);
    const plain = await segmentImage(slice, model.predictor);
    expect(maxAbsDiff(tta.probability.data, plain.probability.data)).toBeGreaterThan(1e-3); // the views do differ
  });
});
