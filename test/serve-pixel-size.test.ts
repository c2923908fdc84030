// POST /v1/segment?pixelSize=...: the image is resampled to the card's trainingPixelSize before
// the model (the model sees the rescaled size) and the answer comes back at the upload's size; a
// card without trainingPixelSize answers 400 with a one-line problem.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decodeTiff, encodeTiff } from '../core/tiff.ts';
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

  // Issue 26, item 2: pixelSize went around the pixel limits (92 Mpx from a 340-byte PNG, a 500
  // from resampleBilinear) and took hex.
  it.each([
    ['0x10', /pixelSize: expected a size in nm, a decimal number/],
    ['', /pixelSize: expected a size in nm, a decimal number/],
    ['-4', /pixelSize/],
    ['2400', /pixelSize: expected a size in nm from 0\.25 to 64 \(the card of fake-sigmoid records trainingPixelSize 4 nm/],
    ['20000', /pixelSize: expected a size in nm from 0\.25 to 64/],
  ])('refuses pixelSize=%s with 400, naming what it expects', async (value, detail) => {
    const { app, ready } = createApp({ model: fakeModel({ card: { trainingPixelSize: 4 } }), log: captureLog(), processMetrics: false });
    await ready;
    const answer = await post(app, `?pixelSize=${value}`);
    expect(answer.status).toBe(400);
    const body = (await answer.json()) as { code: string; detail: string };
    expect(body.code).toBe('E_BAD_ARGUMENT');
    expect(body.detail).toMatch(detail);
  });

  it('applies the pixel limits to the rescaled image, before decoding', async () => {
    const log = captureLog();
    const model = fakeModel({ card: { trainingPixelSize: 4 } });
    const { app, ready } = createApp({ model, log, processMetrics: false });
    await ready;
    // 4000x4000 = 16 Mpx is within the 64 Mpx limit; at 12 nm it becomes 12000x12000 = 144 Mpx at 4 nm.
    const big = (await encodePng({ width: 4000, height: 4000, data: new Uint8Array(16_000_000) })) as Uint8Array<ArrayBuffer>;
    const answer = await app.request('/v1/segment?pixelSize=12', { method: 'POST', body: big, headers: { 'Content-Type': 'image/png' } });
    expect(answer.status).toBe(413);
    const body = (await answer.json()) as { code: string; detail: string };
    expect(body.code).toBe('E_TOO_LARGE');
    expect(body.detail).toMatch(/rescaled from 12 nm to the model's 4 nm \(12000x12000\).*the limit is 64000000/);
    expect(model.calls).toEqual([]);
    expect(log.lines.filter((line) => line.startsWith('error'))).toEqual([]);
  });

  it('applies the pixel limits to the image rescaled by the pixel size the TIFF states', async () => {
    const model = fakeModel({ card: { trainingPixelSize: 4 } });
    // 64x48 = 3072 pixels pass the header check; at its stated 8 nm it becomes 128x96 = 12288 at 4 nm.
    const { app, ready } = createApp({ model, log: captureLog(), processMetrics: false, limits: { maxPixels: 10_000 } });
    await ready;
    const tiff = encodeTiff({ width: 64, height: 48, pages: [patternImage(64, 48)], pixelSize: { x: 8, y: 8, unit: 'nanometer' } }) as Uint8Array<ArrayBuffer>;
    const answer = await app.request('/v1/segment', { method: 'POST', body: tiff, headers: { 'Content-Type': 'image/tiff' } });
    expect(answer.status).toBe(413);
    const body = (await answer.json()) as { code: string; detail: string };
    expect(body.code).toBe('E_TOO_LARGE');
    expect(body.detail).toMatch(/rescaled from the 8 nm it states to the model's 4 nm \(128x96; pixelSize=<nm> overrides\)/);
    expect(model.calls).toEqual([]);
    // The query's pixelSize overrides the file's: not rescaled, within the limit.
    expect((await app.request('/v1/segment?pixelSize=4', { method: 'POST', body: tiff, headers: { 'Content-Type': 'image/tiff' } })).status).toBe(200);
  });

  it("uses the pixel size the TIFF states, says so in a header, and the answer states it too; the query overrides it", async () => {
    const model = fakeModel({ card: { trainingPixelSize: 4 } });
    const seen: Array<[number, number]> = [];
    const predictor = model.predictor;
    model.predictor = async (tiles, n, height, width) => {
      seen.push([height, width]);
      return predictor(tiles, n, height, width);
    };
    const { app, ready } = createApp({ model, log: captureLog(), processMetrics: false });
    await ready;
    const tiff = encodeTiff({ width: 64, height: 48, pages: [patternImage(64, 48)], pixelSize: { x: 8, y: 8, unit: 'nanometer' } }) as Uint8Array<ArrayBuffer>;
    const send = (query: string) => app.request(`/v1/segment${query}`, { method: 'POST', body: tiff, headers: { 'Content-Type': 'image/tiff' } });
    const answer = await send('');
    expect(answer.status).toBe(200);
    expect(answer.headers.get('X-Emseg-Pixel-Size')).toMatch(/^pixel size 8 nm \(from ImageJ description of .*\): rescaled x2 to the model's 4 nm$/);
    expect(seen).toEqual([[96, 128]]);
    const mask = decodeTiff(new Uint8Array(await answer.arrayBuffer()), 'answer');
    expect([mask.width, mask.height]).toEqual([64, 48]);
    expect(mask.pixelSize).toMatchObject({ x: 8, y: 8, unit: 'nanometer' });
    seen.length = 0;
    const overridden = await send('?pixelSize=4');
    expect(overridden.headers.get('X-Emseg-Pixel-Size')).toMatch(/^pixel size 4 nm \(from pixelSize; .* states 8 nm\): the model's 4 nm, not rescaled$/);
    expect(seen).toEqual([[48, 64]]);
    expect(decodeTiff(new Uint8Array(await overridden.arrayBuffer()), 'answer').pixelSize).toMatchObject({ x: 4, unit: 'nanometer' });
    // A PNG states none: today's behaviour, said in the header.
    const plain = await post(app, '');
    expect(plain.headers.get('X-Emseg-Pixel-Size')).toMatch(/states none, not rescaled \(the model was trained at 4 nm; pixelSize P to set it\)$/);
  });

  it('warns in a header when the contrast looks inverted; invert=true inverts it', async () => {
    const model = fakeModel();
    const { app, ready } = createApp({ model, log: captureLog(), processMetrics: false });
    await ready;
    const slice = decodeTiff(new Uint8Array(readFileSync('data/isbi2012/test-volume.tif')), 'test-volume').pages[0]!;
    const inverted = encodePng({ width: slice.width, height: slice.height, data: Uint8Array.from(slice.data, (v) => 255 - v) });
    const send = async (query: string) => app.request(`/v1/segment${query}`, { method: 'POST', body: (await inverted) as Uint8Array<ArrayBuffer>, headers: { 'Content-Type': 'image/png' } });
    const warned = await send('');
    expect(warned.status).toBe(200);
    expect(warned.headers.get('X-Emseg-Warning')).toMatch(/its contrast looks inverted .*use invert=true$/);
    const fixed = await send('?invert=true');
    expect(fixed.status).toBe(200);
    expect(fixed.headers.get('X-Emseg-Warning')).toBeNull();
    // The model sees the other contrast: another mask.
    const a = (await decodeImageBytes(new Uint8Array(await warned.arrayBuffer()), 'a')).pages[0]!.data;
    const b = (await decodeImageBytes(new Uint8Array(await fixed.arrayBuffer()), 'b')).pages[0]!.data;
    expect(a.some((v, i) => v !== b[i])).toBe(true);
    expect((await post(app, '')).headers.get('X-Emseg-Warning')).toBeNull();
  });
});
