/**
 * Admission by estimated cost (serve/work-admission.ts; issue 26, item 5): a 62 KB PNG of
 * 8000x8000 (a zlib bomb at the 64 Mpx limit) ran 120 s on the project machine and ended 503
 * E_TIMEOUT, and four of them held every slot for two minutes. Now the work a request implies is
 * weighed against the model's speed on this server and the request timeout before a slot is taken:
 * 413 when it cannot finish alone, 503 with Retry-After when it cannot finish behind the work
 * already admitted, both naming the `emseg predict` command to use.
 */
import { describe, expect, it } from 'vitest';
import { encodePng } from '../node/png.ts';
import { createApp } from '../serve/app.ts';
import { DEFAULT_SERVE_CONFIG } from '../serve/config.ts';
import { startServer } from '../serve/server.ts';
import { WorkAdmission, modelPixelsOf, predictCommandFor, type WorkRequest } from '../serve/work-admission.ts';
import { captureLog, fakeCard, fakeModel } from './serve-fixtures.ts';

/** An 8000x8000 8-bit grey PNG of zeros: about 62 KB. */
const bomb = await encodePng({ width: 8000, height: 8000, data: new Uint8Array(8000 * 8000) });

// The shipped model on this 2-core machine under load: about 1.4 s per 512x512 tile
// (issue 26's 8000x8000 run: 120 s for part of its 324 tiles), i.e. 5.3 us per model pixel.
const LOADED_MACHINE_SPEED = 1.4 / (512 * 512);

const request = (overrides: Partial<WorkRequest> = {}): WorkRequest => ({
  workWidth: 8000, workHeight: 8000, width: 8000, height: 8000, pages: 1, output: 'mask', tta: false, ...overrides,
});

describe('the estimate', () => {
  const card = fakeCard({ tile: 512, halo: 32 });

  it('counts model pixels by tiles, pages and TTA', () => {
    const plain = modelPixelsOf(request(), card);
    expect(plain % (512 * 512)).toBe(0);
    expect(plain / (512 * 512)).toBeGreaterThan(256); // overlapping tiles: more than 8000^2 / 512^2
    expect(modelPixelsOf(request({ tta: true, pages: 3 }), card)).toBe(plain * 24);
    expect(modelPixelsOf(request({ workWidth: 100, workHeight: 60 }), card)).toBe(100 * 60); // one tile, padded to the size multiple 4
  });

  it('names the CLI command that does the same job', () => {
    expect(predictCommandFor(request())).toBe('emseg predict <image> -o mask.png');
    expect(predictCommandFor(request({ width: 9000, output: 'probability', tta: true }))).toBe('emseg predict <image> -o out.ome.zarr --output probability --tta');
    expect(predictCommandFor(request({ pixelSize: 8, threshold: 0.3 }))).toBe('emseg predict <image> -o mask.png --threshold 0.3 --pixel-size 8');
  });

  it('learns the speed from session calls of full-size tiles only, and releases admitted work once', () => {
    const work = new WorkAdmission({ timeoutMs: 120_000 });
    expect(work.estimateSeconds(request(), card)).toBeUndefined();
    work.observe({ tiles: 4, calls: 1, height: 16, width: 16, seconds: 1 }); // overhead, not speed
    expect(work.secondsPerModelPixel).toBeUndefined();
    work.observe({ tiles: 2, calls: 1, height: 512, width: 512, seconds: 0.2 });
    expect(work.secondsPerModelPixel).toBeCloseTo(0.1 / (512 * 512), 12);
    const release = work.admit(request({ workWidth: 512, workHeight: 512, width: 512, height: 512 }), card);
    expect(work.secondsAhead).toBeGreaterThan(0);
    release();
    release();
    expect(work.secondsAhead).toBe(0);
  });
});

describe('POST /v1/segment with work the server cannot finish in time', () => {
  it('answers the 8000x8000 zlib bomb with 413 at once, naming the CLI command, without decoding it', async () => {
    const model = fakeModel({ card: { tile: 512, halo: 32 } });
    const { app, ready } = createApp({ model, log: captureLog(), processMetrics: false, secondsPerModelPixel: LOADED_MACHINE_SPEED });
    await ready;
    expect(bomb.length).toBeLessThan(100_000);
    const rss = process.memoryUsage().rss;
    const started = performance.now();
    const answer = await app.request('/v1/segment', { method: 'POST', body: bomb as Uint8Array<ArrayBuffer>, headers: { 'Content-Type': 'image/png' } });
    expect(performance.now() - started).toBeLessThan(5000); // no decode, no model: the time of the header and the estimate (generous on a shared machine)
    expect(answer.status).toBe(413);
    const body = (await answer.json()) as { code: string; detail: string };
    expect(body.code).toBe('E_TOO_MUCH_WORK');
    expect(body.detail).toMatch(/about \d+ s of work on this server .*time limit of 120 s; run it with the CLI, which has no time limit: emseg predict <image> -o mask\.png$/);
    expect(model.calls).toEqual([]);
    expect(process.memoryUsage().rss - rss).toBeLessThan(200_000_000);
  });

  it('admits work that fits alone, and answers 503 with Retry-After to work that does not fit behind it', async () => {
    // 2000x2000 is 25 tiles of 512: 35 s at the loaded machine's speed, within 0.8 x 120 s alone;
    // three of them are not. The fake model answers slowly enough to keep the first ones in flight.
    const model = fakeModel({ card: { tile: 512, halo: 32 }, delayMs: 100 });
    const { app, ready, work } = createApp({ model, log: captureLog(), processMetrics: false, secondsPerModelPixel: LOADED_MACHINE_SPEED });
    await ready;
    const png = await encodePng({ width: 2000, height: 2000, data: new Uint8Array(2000 * 2000) });
    const post = () => app.request('/v1/segment', { method: 'POST', body: png as Uint8Array<ArrayBuffer>, headers: { 'Content-Type': 'image/png' } });
    const first = post();
    const second = post();
    await expect.poll(() => work.secondsAhead).toBeGreaterThan(60);
    const third = await post();
    expect(third.status).toBe(503);
    expect(third.headers.get('retry-after')).toMatch(/^\d+$/);
    const body = (await third.json()) as { code: string; detail: string };
    expect(body.code).toBe('E_WORK_FULL');
    expect(body.detail).toMatch(/or run it with the CLI: emseg predict <image> -o mask\.png$/);
    expect((await first).status).toBe(200);
    expect((await second).status).toBe(200);
    await expect.poll(() => work.secondsAhead).toBe(0);
  }, 60_000);
});

describe('the speed measured when the server starts', () => {
  it('times the model on one tile of the card size once it is loaded, and logs it', async () => {
    const log = captureLog();
    const server = await startServer(
      { ...DEFAULT_SERVE_CONFIG, host: '127.0.0.1', port: 0, webRoot: '/nonexistent' },
      { log, processMetrics: false, measureModelSpeed: true, loadModel: async () => fakeModel({ card: { tile: 256, halo: 32 }, delayMs: 20 }) },
    );
    try {
      await server.emseg.ready;
      await expect.poll(() => server.emseg.work.secondsPerModelPixel, { timeout: 10_000 }).toBeGreaterThan(0);
      // 20 ms (or more on a busy machine) per 256x256 call.
      expect(server.emseg.work.secondsPerModelPixel! * 256 * 256).toBeGreaterThanOrEqual(0.015);
      await expect.poll(() => log.lines.some((line) => /model speed: \d+ ms per 256x256 tile/.test(line))).toBe(true);
    } finally {
      await server.shutdown('test over');
    }
  });
});

