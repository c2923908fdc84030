/**
 * Strict request handling in-process (app.request): 405 with Allow on known routes, decimal-only
 * query numbers, source maps only when asked, and metrics labelled by the route that answered.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { encodePng } from '../node/png.ts';
import { createApp } from '../serve/app.ts';
import { captureLog, fakeModel, patternImage } from './serve-fixtures.ts';
import { tempDir } from './helpers/temp-dir.ts';

const webRoot = tempDir('emseg-web-');
writeFileSync(join(webRoot, 'index.html'), '<!doctype html>');
writeFileSync(join(webRoot, 'app.js'), '//# sourceMappingURL=app.js.map');
writeFileSync(join(webRoot, 'app.js.map'), '{"version":3}');
const make = (serveSourceMaps = false) => createApp({ model: fakeModel(), log: captureLog(), processMetrics: false, webRoot, serveSourceMaps });
const { app } = make();
const png = await encodePng(patternImage(64, 48));

describe('methods', () => {
  it.each([
    ['GET', '/v1/segment', 'POST'],
    ['PUT', '/v1/segment', 'POST'],
    ['POST', '/healthz', 'GET, HEAD'],
    ['DELETE', '/v1/model', 'GET, HEAD'],
    ['POST', '/metrics', 'GET, HEAD'],
  ])('%s %s -> 405 with Allow: %s', async (method, path, allow) => {
    const response = await app.request(path, { method });
    expect(response.status).toBe(405);
    expect(response.headers.get('Allow')).toBe(allow);
    expect(await response.json()).toMatchObject({ status: 405, code: 'E_METHOD_NOT_ALLOWED' });
  });

  it('answers HEAD on GET routes and 404 on unknown paths', async () => {
    expect((await app.request('/healthz', { method: 'HEAD' })).status).toBe(200);
    expect((await app.request('/v2/segment', { method: 'POST' })).status).toBe(404);
  });
});

describe('threshold', () => {
  const post = (threshold: string) => app.request(`/v1/segment?threshold=${threshold}`, { method: 'POST', body: png as BodyInit, headers: { 'Content-Type': 'image/png' } });
  it.each(['', '0x1', '0b1', 'Infinity', '-0.5', '1.5', 'NaN', '1e1'])('threshold=%s -> 400', async (value) => {
    const response = await post(value);
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ code: 'E_BAD_ARGUMENT', detail: expect.stringMatching(/^threshold: /) });
  });
  it.each(['0', '1', '0.5', '.25', '1.0', '5e-1'])('threshold=%s is taken', async (value) => {
    expect((await post(value)).status).toBe(200);
  });
  it('thresholds 0 and 1 give different masks (the value is used)', async () => {
    const [low, high] = await Promise.all([post('0'), post('1')].map(async (r) => Buffer.from(await (await r).arrayBuffer())));
    expect(low!.equals(high!)).toBe(false);
  });
});

describe('source maps', () => {
  it('are not served unless asked', async () => {
    expect((await app.request('/app.js')).status).toBe(200);
    expect((await app.request('/app.js.map')).status).toBe(404);
    expect((await make(true).app.request('/app.js.map')).status).toBe(200);
  });
});

describe('metrics labels', () => {
  it('label each request with the route that answered', async () => {
    const emseg = make();
    await emseg.app.request('/healthz');
    await emseg.app.request('/index.html');
    await emseg.app.request('/nowhere/at/all', { method: 'POST' });
    const text = await (await emseg.app.request('/metrics')).text();
    expect(text).toMatch(/emseg_http_requests_total\{route="\/healthz",method="GET",status="200"\} 1/);
    expect(text).toMatch(/emseg_http_requests_total\{route="\/\*",method="GET",status="200"\} 1/);
    expect(text).toMatch(/emseg_http_requests_total\{route="unmatched",method="POST",status="404"\} 1/);
  });
});
