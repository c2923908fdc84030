/**
 * The segmentation route against the inference core, with a real (tiny, random-weight) ONNX model
 * in onnxruntime-node and real ISBI slices: the server's mask equals a direct segmentImage run, a
 * multi-page TIFF round-trips page by page, a 1000x700 image (not a multiple of 16, larger than a
 * tile) comes back at its own size without seams, and concurrent requests share session calls
 * while each gets its own answer.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeImage, type GreyImage } from '../core/image.ts';
import { segmentImage } from '../core/inference.ts';
import { decodeTiff, encodeTiff } from '../core/tiff.ts';
import { decodeImageBytes, readImageFile } from '../node/image-files.ts';
import { encodePng } from '../node/png.ts';
import { createApp, type EmsegApp } from '../serve/app.ts';
import { loadOnnxModel } from '../node/load-onnx-model.ts';
import { tinyUNetOnnx } from './helpers/tiny-unet-onnx.ts';
import { captureLog } from './serve-fixtures.ts';

type Loaded = Awaited<ReturnType<typeof loadOnnxModel>>;

let loaded: Loaded;
let emseg: EmsegApp;
let slices: GreyImage<Uint8Array>[];
let sessionCalls = 0;

beforeAll(async () => {
  const tiny = await tinyUNetOnnx({ depth: 2, baseFilters: 4 });
  loaded = await loadOnnxModel(tiny.path, { providers: 'cpu' });
  const stack = await readImageFile('data/isbi2012/train-volume.tif');
  slices = stack.pages.slice(0, 4) as GreyImage<Uint8Array>[];
  const counted = {
    ...loaded,
    predictor: (tiles: Float32Array, n: number, height: number, width: number) => {
      sessionCalls += 1;
      return loaded.predictor(tiles, n, height, width);
    },
  };
  emseg = createApp({ model: counted, log: captureLog(), processMetrics: false, batchSize: 8, batchWaitMs: 20 });
  await emseg.ready;
});

afterAll(async () => {
  await loaded?.close?.();
});

const options = () => ({
  threshold: loaded.card.threshold,
  tile: loaded.card.tile,
  halo: loaded.card.halo,
  sizeMultiple: loaded.card.contract.input.sizeMultiple,
});

async function post(body: Uint8Array, contentType: string, query = ''): Promise<Response> {
  return emseg.app.request(`/v1/segment${query}`, { method: 'POST', body: body as Uint8Array<ArrayBuffer>, headers: { 'Content-Type': contentType } });
}

async function pngPixels(response: Response): Promise<{ width: number; height: number; data: Uint8Array }> {
  expect(response.status).toBe(200);
  const page = (await decodeImageBytes(new Uint8Array(await response.arrayBuffer()), 'answer')).pages[0]!;
  expect(page.data).toBeInstanceOf(Uint8Array);
  return { width: page.width, height: page.height, data: page.data as Uint8Array };
}

describe('POST /v1/segment on ISBI slices with an ONNX model', () => {
  it('gives the mask of a direct segmentImage run, bit for bit', async () => {
    const slice = slices[0]!;
    const direct = await segmentImage(slice, loaded.predictor, options());
    const answer = await pngPixels(await post(await encodePng(slice), 'image/png'));
    expect([answer.width, answer.height]).toEqual([512, 512]);
    expect(Buffer.from(answer.data).equals(Buffer.from(direct.mask.data))).toBe(true);
    const white = direct.mask.data.reduce((sum, v) => sum + (v === 255 ? 1 : 0), 0);
    expect(white).toBeGreaterThan(0); // both classes present: the comparison means something
    expect(white).toBeLessThan(512 * 512);
  });

  it('round-trips a multi-page TIFF: masks and float32 probabilities page by page', async () => {
    const pages = slices.slice(0, 3);
    const tiff = encodeTiff({ width: 512, height: 512, pages });
    const maskResponse = await post(tiff, 'image/tiff');
    expect(maskResponse.status).toBe(200);
    expect(maskResponse.headers.get('content-type')).toBe('image/tiff');
    expect(maskResponse.headers.get('x-emseg-pages')).toBe('3');
    const masks = decodeTiff(new Uint8Array(await maskResponse.arrayBuffer()), 'masks');
    const probabilities = decodeTiff(new Uint8Array(await (await post(tiff, 'image/tiff', '?output=probability')).arrayBuffer()), 'probabilities');
    expect(masks.pages).toHaveLength(3);
    expect(probabilities.pages).toHaveLength(3);
    for (let k = 0; k < 3; k += 1) {
      const direct = await segmentImage(pages[k]!, loaded.predictor, options());
      expect(Buffer.from(masks.pages[k]!.data.buffer, masks.pages[k]!.data.byteOffset, masks.pages[k]!.data.byteLength).equals(Buffer.from(direct.mask.data))).toBe(true);
      const p = probabilities.pages[k]!.data;
      expect(p).toBeInstanceOf(Float32Array);
      let maxDiff = 0;
      for (let i = 0; i < p.length; i += 1) maxDiff = Math.max(maxDiff, Math.abs(p[i]! - direct.probability.data[i]!));
      expect(maxDiff).toBeLessThan(1e-5);
    }
  });

  it('segments a 1000x700 image at its own size, without seams (tiled = whole-image run)', async () => {
    // 2x2 mosaic of four ISBI slices, cropped to 1000x700: real texture everywhere.
    const width = 1000;
    const height = 700;
    const data = new Uint8Array(width * height);
    for (let y = 0; y < height; y += 1) {
      for (let x = 0; x < width; x += 1) {
        const source = slices[(y >= 512 ? 2 : 0) + (x >= 512 ? 1 : 0)]!;
        data[y * width + x] = source.data[(y % 512) * 512 + (x % 512)]!;
      }
    }
    const image = makeImage(width, height, data);
    const response = await post(await encodePng(image), 'image/png', '?output=probability&format=tiff');
    expect(response.status).toBe(200);
    const served = decodeTiff(new Uint8Array(await response.arrayBuffer()), 'probability').pages[0]!;
    expect([served.width, served.height]).toEqual([width, height]);
    const whole = await segmentImage(image, loaded.predictor, { ...options(), tile: 1024 });
    expect([whole.probability.width, whole.probability.height]).toEqual([width, height]);
    let maxDiff = 0;
    let sumDiff = 0;
    for (let i = 0; i < data.length; i += 1) {
      const diff = Math.abs(served.data[i]! - whole.probability.data[i]!);
      maxDiff = Math.max(maxDiff, diff);
      sumDiff += diff;
    }
    expect(maxDiff).toBeLessThan(1e-3);
    expect(sumDiff / data.length).toBeLessThan(1e-5);
  });

  it('merges concurrent requests into shared session calls and answers each with its own mask', async () => {
    const pngs = await Promise.all(slices.map((slice) => encodePng(slice)));
    const directs = await Promise.all(slices.map((slice) => segmentImage(slice, loaded.predictor, options())));
    sessionCalls = 0;
    const answers = await Promise.all(pngs.map((png) => post(png, 'image/png')));
    expect(sessionCalls).toBeLessThan(slices.length);
    for (let k = 0; k < slices.length; k += 1) {
      const answer = await pngPixels(answers[k]!);
      expect(Buffer.from(answer.data).equals(Buffer.from(directs[k]!.mask.data)), `slice ${k}`).toBe(true);
    }
  });
});
