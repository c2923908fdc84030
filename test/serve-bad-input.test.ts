/**
 * The bad-input corpus: every kind of broken, hostile or unusual upload gets the documented status
 * as an RFC 9457 problem, and the server keeps serving afterwards. Unusual but valid images (RGB,
 * 16-bit, float, JPEG, multipart) are accepted and converted.
 */
import { describe, expect, it } from 'vitest';
import { makeImage, type GreyImage } from '../core/image.ts';
import { decodeTiff, encodeTiff } from '../core/tiff.ts';
import { decodeImageBytes } from '../node/image-files.ts';
import { encodePng } from '../node/png.ts';
import { createApp } from '../serve/app.ts';
import { captureLog, fakeModel, patternImage } from './serve-fixtures.ts';
import sharp from 'sharp';

const log = captureLog();
const { app } = createApp({
  model: fakeModel(),
  log,
  processMetrics: false,
  maxBodyBytes: 2_000_000,
  limits: { maxPixels: 4_000_000, maxStackPixels: 8_000_000, maxPages: 1000 },
});

const grey = patternImage(96, 80);
const goodPng = await encodePng(grey);

function post(body: Uint8Array | string, contentType?: string, query = ''): Promise<Response> {
  const headers: Record<string, string> = contentType ? { 'Content-Type': contentType } : {};
  return Promise.resolve(app.request(`/v1/segment${query}`, { method: 'POST', body: body as BodyInit, headers }));
}

/** A little-endian TIFF header whose one page declares width x height, with a tiny strip. */
function tiffDeclaring(width: number, height: number): Uint8Array {
  const entries: [number, number, number][] = [
    [256, 4, width],
    [257, 4, height],
    [258, 3, 8],
    [259, 3, 1],
    [262, 3, 1],
    [273, 4, 8],
    [277, 3, 1],
    [278, 4, height],
    [279, 4, 16],
  ];
  const ifdOffset = 8 + 16;
  const bytes = new Uint8Array(ifdOffset + 2 + entries.length * 12 + 4);
  const view = new DataView(bytes.buffer);
  bytes.set([0x49, 0x49, 42, 0]);
  view.setUint32(4, ifdOffset, true);
  view.setUint16(ifdOffset, entries.length, true);
  entries.forEach(([tag, type, value], index) => {
    const at = ifdOffset + 2 + index * 12;
    view.setUint16(at, tag, true);
    view.setUint16(at + 2, type, true);
    view.setUint32(at + 4, 1, true);
    if (type === 3) view.setUint16(at + 8, value, true);
    else view.setUint32(at + 8, value, true);
  });
  return bytes;
}

/** A PNG signature and IHDR declaring width x height, and nothing else. */
function pngDeclaring(width: number, height: number): Uint8Array {
  const bytes = new Uint8Array(33);
  bytes.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52]);
  const view = new DataView(bytes.buffer);
  view.setUint32(16, width);
  view.setUint32(20, height);
  bytes[24] = 8;
  bytes[25] = 0;
  return bytes;
}

async function expectProblem(response: Response, status: number, code?: string | RegExp) {
  expect(response.status).toBe(status);
  expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  const body = (await response.json()) as { status: number; title: string; detail: string; code: string };
  expect(body.status).toBe(status);
  expect(body.detail).toBeTypeOf('string');
  expect(body.detail).not.toMatch(/\n\s+at /); // never a stack trace
  if (code) expect(body.code).toMatch(code);
  return body;
}

async function expectStillServing() {
  expect((await app.request('/healthz')).status).toBe(200);
  const response = await post(goodPng, 'image/png');
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toBe('image/png');
}

async function maskOf(response: Response): Promise<Uint8Array> {
  expect(response.status).toBe(200);
  const page = (await decodeImageBytes(new Uint8Array(await response.arrayBuffer()), 'answer')).pages[0]!;
  return page.data as Uint8Array;
}

function agreement(a: Uint8Array, b: Uint8Array): number {
  expect(a.length).toBe(b.length);
  let same = 0;
  for (let i = 0; i < a.length; i += 1) if (a[i] === b[i]) same += 1;
  return same / a.length;
}

const goodTiff = encodeTiff({ width: grey.width, height: grey.height, pages: [grey, grey] });

const refused: [string, () => Promise<Response>, number, string | RegExp][] = [
  ['zero bytes', () => post(new Uint8Array(0), 'image/png'), 400, 'E_BAD_ARGUMENT'],
  ['plain text declared as PNG', () => post('hello, this is not an image', 'image/png'), 415, 'E_NOT_AN_IMAGE'],
  ['plain text as text/plain', () => post('hello', 'text/plain'), 415, /E_UNSUPPORTED_MEDIA_TYPE/],
  ['JSON content type', () => post(goodPng, 'application/json'), 415, /E_UNSUPPORTED_MEDIA_TYPE/],
  ['PNG cut inside its header', () => post(goodPng.subarray(0, 20), 'image/png'), 422, 'E_CORRUPT'],
  ['PNG cut in half', () => post(goodPng.subarray(0, Math.floor(goodPng.length / 2)), 'image/png'), 422, 'E_CORRUPT'],
  ['TIFF cut in half', () => post(goodTiff.subarray(0, Math.floor(goodTiff.length / 2)), 'image/tiff'), 422, 'E_CORRUPT'],
  ['TIFF cut inside its header', () => post(goodTiff.subarray(0, 6), 'image/tiff'), 422, 'E_CORRUPT'],
  ['TIFF declaring 100000x100000', () => post(tiffDeclaring(100_000, 100_000), 'image/tiff'), 413, 'E_TOO_LARGE'],
  ['PNG declaring 100000x100000', () => post(pngDeclaring(100_000, 100_000), 'image/png'), 413, 'E_TOO_LARGE'],
  [
    'a 2000-page stack',
    () => post(encodeTiff({ width: 1, height: 1, pages: Array.from({ length: 2000 }, () => makeImage(1, 1, new Uint8Array(1))) }), 'image/tiff'),
    413,
    'E_TOO_LARGE',
  ],
  ['a body over the byte limit', () => post(new Uint8Array(2_000_001), 'image/tiff'), 413, 'E_TOO_LARGE'],
  ['an unknown output', () => post(goodPng, 'image/png', '?output=outlines'), 400, 'E_BAD_ARGUMENT'],
  ['a threshold above 1', () => post(goodPng, 'image/png', '?threshold=1.5'), 400, 'E_BAD_ARGUMENT'],
  ['a stack asked as PNG', () => post(goodTiff, 'image/tiff', '?format=png'), 400, 'E_BAD_ARGUMENT'],
  ['an overlay of a stack', () => post(goodTiff, 'image/tiff', '?output=overlay'), 400, 'E_BAD_ARGUMENT'],
  ['multipart without a file', () => {
    const form = new FormData();
    form.set('note', 'no file here');
    return Promise.resolve(app.request('/v1/segment', { method: 'POST', body: form }));
  }, 400, 'E_BAD_ARGUMENT'],
];

describe('POST /v1/segment with bad input', () => {
  it.each(refused)('%s -> %i', async (_name, send, status, code) => {
    await expectProblem(await send(), status, code);
    await expectStillServing();
  });

  it('refuses a declared 100000x100000 TIFF from its header, without decoding', async () => {
    const before = process.memoryUsage().arrayBuffers;
    const response = await post(tiffDeclaring(100_000, 100_000), 'image/tiff');
    const body = await expectProblem(response, 413, 'E_TOO_LARGE');
    expect(body.detail).toMatch(/100000x100000/);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(50_000_000);
  });

  it('logs nothing as an internal error for user mistakes', () => {
    expect(log.lines.filter((line) => line.startsWith('error'))).toEqual([]);
  });
});

describe('POST /v1/segment with unusual but valid input', () => {
  const reference = post(goodPng, 'image/png').then(maskOf);

  it('accepts RGB and converts it to grey', async () => {
    const rgb = new Uint8Array(grey.data.length * 3);
    grey.data.forEach((v, i) => rgb.set([v, v, v], i * 3));
    const png = await encodePng({ width: grey.width, height: grey.height, channels: 3, data: rgb });
    expect(agreement(await maskOf(await post(png, 'image/png')), await reference)).toBe(1);
  });

  it('accepts 16-bit and float32 grey and segments the same picture the same way', async () => {
    const sixteen: GreyImage = makeImage(grey.width, grey.height, Uint16Array.from(grey.data, (v) => v * 257));
    const float: GreyImage = makeImage(grey.width, grey.height, Float32Array.from(grey.data, (v) => v / 255));
    for (const image of [sixteen, float]) {
      const tiff = encodeTiff({ width: image.width, height: image.height, pages: [image] }, { imagej: false });
      const response = await post(tiff, 'image/tiff', '?format=png');
      expect(agreement(await maskOf(response), await reference)).toBeGreaterThan(0.999);
    }
    const png16 = await encodePng(sixteen);
    expect(agreement(await maskOf(await post(png16, 'image/png')), await reference)).toBeGreaterThan(0.999);
  });

  it('accepts JPEG, a multipart upload, octet-stream and no content type', async () => {
    const jpeg = new Uint8Array(await sharp(grey.data, { raw: { width: grey.width, height: grey.height, channels: 1 } }).jpeg({ quality: 95 }).toBuffer());
    expect((await post(jpeg, 'image/jpeg')).status).toBe(200);
    const form = new FormData();
    form.set('file', new Blob([goodPng as Uint8Array<ArrayBuffer>], { type: 'image/png' }), 'slice.png');
    expect(agreement(await maskOf(await app.request('/v1/segment', { method: 'POST', body: form })), await reference)).toBe(1);
    expect(agreement(await maskOf(await post(goodPng, 'application/octet-stream')), await reference)).toBe(1);
    expect(agreement(await maskOf(await post(goodPng)), await reference)).toBe(1);
  });

  it('gives a TIFF stack back as a TIFF stack with the same page count', async () => {
    const response = await post(goodTiff, 'image/tiff');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('image/tiff');
    const stack = decodeTiff(new Uint8Array(await response.arrayBuffer()), 'answer');
    expect(stack.pages).toHaveLength(2);
    expect(stack.width).toBe(grey.width);
  });
});
