/**
 * Overload and time limits: a full queue answers 503 with Retry-After, a request over its time
 * limit answers 503, and in both cases the server keeps serving.
 */
import { describe, expect, it, vi } from 'vitest';
import { encodePng } from '../node/png.ts';
import { createApp } from '../serve/app.ts';
import { captureLog, fakeModel, patternImage } from './serve-fixtures.ts';

const png = await encodePng(patternImage(64, 48));
const init = () => ({ method: 'POST', body: png as Uint8Array<ArrayBuffer>, headers: { 'Content-Type': 'image/png' } });

describe('the bounded queue', () => {
  it('answers 503 with Retry-After when the slots and the queue are full, then serves again', async () => {
    const { app, ready, admission } = createApp({ model: fakeModel({ delayMs: 150 }), concurrency: 1, queueSize: 1, log: captureLog(), processMetrics: false });
    await ready;
    const responses = await Promise.all([1, 2, 3, 4].map(() => app.request('/v1/segment', init())));
    const statuses = responses.map((r) => r.status).sort();
    expect(statuses).toEqual([200, 200, 503, 503]);
    for (const refused of responses.filter((r) => r.status === 503)) {
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(((await refused.json()) as { code: string }).code).toBe('E_QUEUE_FULL');
    }
    expect(admission.running + admission.waiting).toBe(0);
    expect((await app.request('/v1/segment', init())).status).toBe(200);
  });
});

describe('the request time limit', () => {
  it('answers 503 when a request takes too long and frees its slot when the work ends', async () => {
    // The model call waits on a gate the test opens: the answer must come while it still waits,
    // so no wall-clock bound is needed (a shared machine may be slow at any moment).
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    let calls = 0;
    const model = fakeModel();
    const predict = model.predictor;
    model.predictor = async (tiles, n, height, width) => {
      calls += 1;
      await gate;
      return predict(tiles, n, height, width);
    };
    const { app, ready, admission } = createApp({ model, timeoutMs: 100, concurrency: 1, log: captureLog(), processMetrics: false });
    await ready;
    const response = await app.request('/v1/segment', init());
    expect(calls).toBe(1); // the model call had started and has not finished
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(((await response.json()) as { code: string; detail: string }).code).toBe('E_TIMEOUT');
    expect(admission.running).toBe(1); // the session call is still running
    open();
    await vi.waitFor(() => expect(admission.running).toBe(0));
    expect((await app.request('/v1/segment', init())).status).toBe(200);
  });
});
