/**
 * The server and `emseg predict` write every output kind through one pipeline: the same bytes for
 * the same image and model, an overlay with the membranes in red, and 8-bit probability PNGs
 * clamped to [0, 1] (a model whose output leaves [0, 1] must not wrap around in a Uint8Array).
 */
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { segmentImage } from '../core/inference.ts';
import { MEMBRANE_OVERLAY, overlayMask } from '../core/overlay.ts';
import { quantizeProbability } from '../core/segmentation-output.ts';
import { decodeImageBytes } from '../node/image-files.ts';
import { encodePng } from '../node/png.ts';
import sharp from 'sharp';
import { createApp } from '../serve/app.ts';
import { predictPaths } from '../predict/predict.ts';
import { captureLog, fakeModel, patternImage } from './serve-fixtures.ts';
import { tempDir } from './helpers/temp-dir.ts';

/** A model whose "probability" runs from -0.5 to 1.5: only a clamp keeps the 8-bit PNG monotonic. */
function overshootingModel() {
  const model = fakeModel({ card: { tile: 64, halo: 16 } });
  model.predictor = async (tiles, n, height, width) => {
    const out = new Float32Array(n * height * width);
    for (let i = 0; i < out.length; i++) out[i] = 2 / (1 + Math.exp(-tiles[i]!)) - 0.5;
    return out;
  };
  return model;
}

async function serverAnswer(model: ReturnType<typeof fakeModel>, png: Uint8Array, query: string): Promise<Uint8Array> {
  const { app, ready } = createApp({ model, log: captureLog(), processMetrics: false });
  await ready;
  const response = await app.request(`/v1/segment?${query}`, { method: 'POST', body: png as Uint8Array<ArrayBuffer>, headers: { 'Content-Type': 'image/png' } });
  expect(response.status).toBe(200);
  return new Uint8Array(await response.arrayBuffer());
}

async function rawPixels(png: Uint8Array): Promise<{ data: Uint8Array; channels: number }> {
  const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
  return { data: new Uint8Array(data), channels: info.channels };
}

describe('one output pipeline for the server and predict', () => {
  const image = patternImage(96, 80);
  const dir = tempDir('emseg-outputs-');

  it('clamps a probability PNG to [0, 1] on the server as in predict', async () => {
    const model = overshootingModel();
    const png = await encodePng(image);
    const answer = (await decodeImageBytes(await serverAnswer(model, png, 'output=probability&format=png'), 'answer')).pages[0]!;
    const direct = await segmentImage(image, model.predictor, { tile: 64, halo: 16, sizeMultiple: 4, threshold: 0.5 });
    const expected = quantizeProbability(direct.probability).data;
    expect(Array.from(answer.data)).toEqual(Array.from(expected));
    // The model's values above 1 and below 0 are there, and come out as 255 and 0, not wrapped.
    expect(direct.probability.data.some((p) => p > 1.01)).toBe(true);
    expect(direct.probability.data.some((p) => p < -0.01)).toBe(true);
    expect(answer.data.includes(255) && answer.data.includes(0)).toBe(true);
  });

  it('paints the membranes red in output=overlay, as predict does', async () => {
    const model = fakeModel({ card: { tile: 64, halo: 16 } });
    const png = await encodePng(image);
    const served = await serverAnswer(model, png, 'output=overlay');
    const direct = await segmentImage(image, model.predictor, { tile: 64, halo: 16, sizeMultiple: 4, threshold: model.card.threshold });
    const expected = overlayMask(image, direct.mask, MEMBRANE_OVERLAY);
    const answer = await rawPixels(served);
    expect(answer.channels).toBe(3);
    expect(Array.from(answer.data)).toEqual(Array.from(expected.data));
    const membrane = direct.mask.data.indexOf(0);
    expect(answer.data[membrane * 3]!).toBeGreaterThan(answer.data[membrane * 3 + 1]!); // red over a membrane pixel

    const input = join(dir, 'slice.png');
    await writeFile(input, png);
    for (const [output, query] of [['overlay', 'output=overlay'], ['mask', 'output=mask'], ['probability', 'output=probability&format=png']] as const) {
      const out = join(dir, `${output}.png`);
      await predictPaths(input, out, model, { output });
      // The same pixels; the server's PNG is compressed faster (zlib level 1), so its bytes differ.
      const [written, answered] = [await rawPixels(new Uint8Array(readFileSync(out))), await rawPixels(await serverAnswer(model, png, query))];
      expect(answered.channels, output).toBe(written.channels);
      expect(Buffer.from(answered.data).equals(Buffer.from(written.data)), output).toBe(true);
    }
  });
});
