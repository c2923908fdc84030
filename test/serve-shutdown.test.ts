/**
 * Graceful shutdown: once it begins, new requests get 503 (the probes and metrics still answer,
 * readiness says no), in-flight requests finish normally, then the listener and the model close.
 */
import { describe, expect, it } from 'vitest';
import { encodePng } from '../node/png.ts';
import { createApp } from '../serve/app.ts';
import { DEFAULT_SERVE_CONFIG } from '../serve/config.ts';
import { startServer } from '../serve/server.ts';
import { captureLog, fakeModel, patternImage } from './serve-fixtures.ts';

const png = await encodePng(patternImage(64, 48));
const init = () => ({ method: 'POST', body: png as Uint8Array<ArrayBuffer>, headers: { 'Content-Type': 'image/png' } });

describe('the app during shutdown', () => {
  it('finishes in-flight requests, refuses new ones, and drains', async () => {
    const { app, ready, lifecycle } = createApp({ model: fakeModel({ delayMs: 150 }), log: captureLog(), processMetrics: false });
    await ready;
    const inFlight = app.request('/v1/segment', init());
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(lifecycle.inFlight).toBe(1);
    lifecycle.beginShutdown();
    let drained = false;
    const drainedPromise = lifecycle.drained().then(() => (drained = true));

    const refused = await app.request('/v1/segment', init());
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBeTruthy();
    expect(((await refused.json()) as { code: string }).code).toBe('E_SHUTTING_DOWN');
    expect((await app.request('/healthz')).status).toBe(200);
    expect((await app.request('/readyz')).status).toBe(503);
    expect(drained).toBe(false);

    expect((await inFlight).status).toBe(200);
    await drainedPromise;
    expect(lifecycle.inFlight).toBe(0);
  });
});

describe('startServer', () => {
  it('serves on loopback, and shutdown lets the in-flight request finish, then closes listener and model', async () => {
    let closedModel = false;
    const log = captureLog();
    const server = await startServer(
      { ...DEFAULT_SERVE_CONFIG, host: '127.0.0.1', port: 0, shutdownGraceMs: 5000 },
      { log, processMetrics: false, loadModel: async () => ({ ...fakeModel({ delayMs: 200 }), close: () => void (closedModel = true) }) },
    );
    await server.emseg.ready;
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    const inFlight = fetch(`${server.url}/v1/segment`, init());
    // Wait until the server has the request (a fixed delay races on a loaded machine).
    for (let waited = 0; server.emseg.lifecycle.inFlight === 0; waited += 5) {
      if (waited > 10_000) throw new Error('the first request never reached the server');
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const stopping = server.shutdown('test');
    const late = await fetch(`${server.url}/v1/segment`, init());
    expect(late.status).toBe(503);
    const answer = await inFlight;
    expect(answer.status).toBe(200);
    expect((await answer.arrayBuffer()).byteLength).toBeGreaterThan(0);
    await stopping;
    await server.closed;
    expect(closedModel).toBe(true);
    await expect(fetch(`${server.url}/healthz`)).rejects.toThrow();
    expect(log.lines.join('\n')).toMatch(/test: refusing new requests/);
  });

  it('stops by itself, and says so, when the model dies after loading', async () => {
    const log = captureLog();
    let crash!: (error: Error) => void;
    const server = await startServer(
      { ...DEFAULT_SERVE_CONFIG, host: '127.0.0.1', port: 0 },
      { log, processMetrics: false, loadModel: async (_config, _log, onCrash) => ((crash = onCrash), fakeModel()) },
    );
    await server.emseg.ready;
    expect(server.crashed).toBe(false);
    crash(new Error('worker killed'));
    await server.closed;
    expect(server.crashed).toBe(true);
    expect(log.lines.join('\n')).toMatch(/inference worker stopped; shutting the server down/);
  });
});
