// POST /v1/segment?pixelSize=...: the image is resampled to the card's trainingPixelSize before
// the model (the model sees the rescaled size) and the answer comes back at the upload's size; a
// card without trainingPixelSize answers 400 with a one-line problem.
import { describe, expect, it } from 'vitest';
import { decodeImageBytes } from '../node/image-files.ts';
import { encodePng } from '../node/png.ts';
import { createApp } from '../serve/app.ts';
import { captureLog, fakeModel, patternImage } from './serve-fixtures.ts';

const png = (await encodePng(patternImage(64, 48))) as Uint8Array<ArrayBuffer>;
const post = (app: ReturnType<typeof createApp>['app'], query: string) =>
  app.request(`/v1/segment${query}`, { method: 'POST', body: png, headers: { 'Content-Type': 'image/png' } });

describe('pixelSize on /v1/segment', () => {
  it('runs the model at the card pixel size and answers at the upload size', async () => {
    const model = fakeModel({ card: { trainingPixelSize: 4 } });
    const seen: Array<[number, number]> = [];
    const predictor = model.predictor;
    model.predictor = async (tiles, n, height, width) => {
      seen.push([height, width]);
      return predictor(tiles, n, height, width);
    };
    const { app, ready } = createApp({ model, log: captureLog(), processMetrics: false });
    await ready;
    const answer = await post(app, '?pixelSize=8');
    expect(answer.status).toBe(200);
    const mask = await decodeImageBytes(new Uint8Array(await answer.arrayBuffer()), 'answer');
    expect([mask.width, mask.height]).toEqual([64, 48]);
    // 64x48 at 8 nm is 128x96 at 4 nm (the fake model's size multiple is 4).
    expect(seen).toEqual([[96, 128]]);
  });

  it('refuses pixelSize when the card has no trainingPixelSize', async () => {
    const { app, ready } = createApp({ model: fakeModel(), log: captureLog(), processMetrics: false });
    await ready;
    const answer = await post(app, '?pixelSize=8');
    expect(answer.status).toBe(400);
    expect(JSON.stringify(await answer.json())).toMatch(/records no trainingPixelSize/);
  });
});
