/**
 * The routes around segmentation: health and readiness while the model loads, the model card,
 * Prometheus metrics that count, the OpenAPI document generated from the route table, the web
 * demo's static files with COOP/COEP, and 404s as problems.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { encodePng } from '../node/png.ts';
import { createApp, type ServedModel } from '../serve/app.ts';
import { captureLog, fakeModel, patternImage } from './serve-fixtures.ts';
import { tempDir } from './helpers/temp-dir.ts';

const png = (await encodePng(patternImage(64, 48))) as Uint8Array<ArrayBuffer>;

describe('health and readiness', () => {
  it('is alive at once, ready once the model has loaded, and reports the provider', async () => {
    let resolve!: (model: ServedModel) => void;
    const { app, ready } = createApp({ model: new Promise<ServedModel>((r) => (resolve = r)), log: captureLog(), processMetrics: false });
    expect((await app.request('/healthz')).status).toBe(200);
    const loading = await app.request('/readyz');
    expect(loading.status).toBe(503);
    expect(loading.headers.get('content-type')).toMatch(/problem\+json/);
    expect((await app.request('/v1/segment', { method: 'POST', body: png, headers: { 'Content-Type': 'image/png' } })).status).toBe(503);
    resolve(fakeModel());
    await ready;
    const answer = await app.request('/readyz');
    expect(answer.status).toBe(200);
    expect(await answer.json()).toEqual({ status: 'ready', provider: 'cpu', model: 'fake-sigmoid@0.0.1' });
    const model = (await (await app.request('/v1/model')).json()) as { provider: string; card: { name: string }; batching: { maxBatch: number } };
    expect(model.provider).toBe('cpu');
    expect(model.card.name).toBe('fake-sigmoid');
    expect(model.batching.maxBatch).toBe(1); // auto: 1 tile per session call on the CPU provider
  });

  it('says not ready, without internals, when the model failed to load, and logs why', async () => {
    const log = captureLog();
    const { app, ready } = createApp({ model: Promise.reject(new Error('/secret/path.onnx: protobuf parse error')), log, processMetrics: false });
    await expect(ready).rejects.toThrow();
    const response = await app.request('/readyz');
    expect(response.status).toBe(503);
    const text = await response.text();
    expect(text).not.toMatch(/secret|protobuf/);
    expect(log.lines.join('\n')).toMatch(/protobuf parse error/);
  });
});

describe('GET /metrics', () => {
  it('counts requests by route and status and reports latency, queue depth, inference and provider', async () => {
    const { app, ready } = createApp({ model: fakeModel(), log: captureLog(), webRoot: '/nonexistent' });
    await ready;
    await app.request('/v1/segment', { method: 'POST', body: png, headers: { 'Content-Type': 'image/png' } });
    await app.request('/v1/segment', { method: 'POST', body: png, headers: { 'Content-Type': 'image/png' } });
    await app.request('/v1/segment', { method: 'POST', body: 'text', headers: { 'Content-Type': 'image/png' } });
    await app.request('/no/such/path/12345');
    const response = await app.request('/metrics');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await response.text();
    expect(text).toMatch(/emseg_http_requests_total\{route="\/v1\/segment",method="POST",status="200"\} 2\n/);
    expect(text).toMatch(/emseg_http_requests_total\{route="\/v1\/segment",method="POST",status="415"\} 1\n/);
    expect(text).toMatch(/emseg_http_requests_total\{route="unmatched",method="GET",status="404"\} 1\n/);
    expect(text).not.toMatch(/12345/);
    expect(text).toMatch(/emseg_http_request_duration_seconds_bucket\{le="[^"]+",route="\/v1\/segment",method="POST",status="200"\} \d/);
    expect(text).toMatch(/emseg_queue_depth 0\n/);
    expect(text).toMatch(/emseg_inference_seconds_count [1-9]/);
    expect(text).toMatch(/emseg_batch_tiles_count [1-9]/);
    expect(text).toMatch(/emseg_execution_provider\{provider="cpu"\} 1\n/);
    expect(text).toMatch(/emseg_process_cpu_seconds_total \d/);
    // One prefix for all, prom-client's default metrics included; every counter named `_total`.
    const types = [...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => ({ name: m[1]!, type: m[2]! }));
    expect(types.filter((t) => !t.name.startsWith('emseg_') || t.name.startsWith('emseg_process_process_'))).toEqual([]);
    expect(types.filter((t) => t.type === 'counter' && !t.name.endsWith('_total'))).toEqual([]);
  });
});

describe('GET /openapi.json', () => {
  it('lists every API route with its methods, parameters and problem responses', async () => {
    const { app } = createApp({ model: fakeModel(), log: captureLog(), processMetrics: false });
    const document = (await (await app.request('/openapi.json')).json()) as {
      openapi: string;
      paths: Record<string, Record<string, { parameters?: { name: string }[]; responses: Record<string, unknown>; requestBody?: { content: Record<string, unknown> } }>>;
    };
    expect(document.openapi).toBe('3.1.0');
    expect(Object.keys(document.paths).sort()).toEqual(['/healthz', '/metrics', '/openapi.json', '/readyz', '/v1/model', '/v1/segment']);
    const segment = document.paths['/v1/segment']!.post!;
    expect(segment.parameters!.map((p) => p.name).sort()).toEqual(['format', 'invert', 'linkSections', 'output', 'pixelSize', 'threshold', 'tta']);
    expect(Object.keys(segment.responses)).toEqual(expect.arrayContaining(['200', '400', '413', '415', '422', '503']));
    expect(Object.keys(segment.requestBody!.content)).toEqual(expect.arrayContaining(['image/png', 'image/tiff', 'multipart/form-data']));
    // every documented route answers (none is documented without being registered)
    for (const path of Object.keys(document.paths)) {
      for (const method of Object.keys(document.paths[path]!)) {
        const response = await app.request(path, { method: method.toUpperCase() });
        expect(response.status, `${method} ${path}`).not.toBe(404);
      }
    }
  });
});

describe('the web demo and unknown routes', () => {
  it('serves the built files with COOP/COEP, and a problem 404 when the demo is not built', async () => {
    const root = tempDir('emseg-web-');
    writeFileSync(join(root, 'index.html'), '<!doctype html><title>demo</title>');
    const built = createApp({ model: fakeModel(), webRoot: root, log: captureLog(), processMetrics: false }).app;
    const page = await built.request('/');
    expect(page.status).toBe(200);
    expect(await page.text()).toMatch(/demo/);
    expect(page.headers.get('cross-origin-opener-policy')).toBe('same-origin');
    expect(page.headers.get('cross-origin-embedder-policy')).toBe('require-corp');

    const missing = createApp({ model: fakeModel(), webRoot: join(root, 'nope'), log: captureLog(), processMetrics: false }).app;
    const response = await missing.request('/');
    expect(response.status).toBe(404);
    expect(response.headers.get('content-type')).toMatch(/problem\+json/);
    expect(((await response.json()) as { detail: string }).detail).toMatch(/not built/);
    const api = await missing.request('/healthz');
    expect(api.headers.get('cross-origin-embedder-policy')).toBe('require-corp');
  });
});
