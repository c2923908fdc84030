/**
 * The server keeps its size limits, and its 413 answers point to the CLI path for large images
 * (issue 11): over the pixel limit, over the page limit, over the byte limit.
 */
import { describe, expect, it } from 'vitest';
import { encodeTiff } from '../core/tiff.ts';
import { makeImage } from '../core/image.ts';
import { encodePng } from '../node/png.ts';
import { createApp } from '../serve/app.ts';
import { captureLog, fakeModel, patternImage } from './serve-fixtures.ts';

const { app } = createApp({
  model: fakeModel(),
  log: captureLog(),
  processMetrics: false,
  maxBodyBytes: 200_000,
  limits: { maxPixels: 10_000, maxStackPixels: 20_000, maxPages: 3 },
});

async function detailOf(body: Uint8Array, contentType: string): Promise<string> {
  const response = await app.request('/v1/segment', { method: 'POST', body: body as BodyInit, headers: { 'Content-Type': contentType } });
  expect(response.status).toBe(413);
  const problem = (await response.json()) as { code: string; detail: string };
  expect(problem.code).toBe('E_TOO_LARGE');
  return problem.detail;
}

describe('an over-limit image', () => {
  it.each([
    ['too many pixels', async () => detailOf(await encodePng(patternImage(120, 100)), 'image/png')],
    ['too many pages', async () => detailOf(encodeTiff({ width: 4, height: 4, pages: Array.from({ length: 4 }, () => makeImage(4, 4, new Uint8Array(16))) }), 'image/tiff')],
    ['too many bytes', async () => detailOf(new Uint8Array(200_001), 'image/tiff')],
  ])('%s: the problem names the limit and points to emseg predict', async (_name, detail) => {
    const text = await detail();
    expect(text).toMatch(/limit/);
    expect(text).toMatch(/emseg predict <image> -o out\.ome\.zarr/);
    expect(text).toMatch(/"Large images"/);
    expect(text.split('\n')).toHaveLength(1);
  });
});
