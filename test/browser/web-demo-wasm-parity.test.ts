/**
 * The web demo in headless Chromium, served by the real emseg server (serve/server.ts listening on
 * 127.0.0.1, web demo built with a tiny random U-Net): the page loads cross-origin isolated, runs a
 * bundled ISBI slice on the WASM provider, and its probability map and mask agree with what
 * POST /v1/segment returns for the same slice and threshold. Saves test/output/web-demo.png.
 */
import { mkdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { makeImage } from '../../core/image.ts';
import { decodeTiff } from '../../core/tiff.ts';
import { encodePng } from '../../node/png.ts';
import { DEFAULT_SERVE_CONFIG } from '../../serve/config.ts';
import { startServer } from '../../serve/server.ts';
import { captureLog } from '../serve-fixtures.ts';
import { actAndWait, greyPngPixels, describeBrowser, openDemoPage, OUTPUT_DIR, waitForState, type BuiltDemo, type DemoPage } from './harness.ts';

const SAMPLE = 'samples/isbi2012-train-27.png';

describeBrowser('web demo on WASM against the server', () => {
  let session: DemoPage;
  let demo: BuiltDemo;
  let page: Page;
  let consoleLines: string[];
  /** The emseg server's http://host:port. */
  let serverUrl: string;

  beforeAll(async () => {
    session = await openDemoPage({
      // The real server, serving the demo as its web root and the same model on the CPU.
      serve: async (built) => {
        const server = await startServer(
          { ...DEFAULT_SERVE_CONFIG, model: built.model.path, providers: 'cpu', host: '127.0.0.1', port: 0, webRoot: built.build.outDir },
          { log: captureLog(), processMetrics: false },
        );
        await server.emseg.ready;
        return { url: server.url, close: () => server.shutdown('test over') };
      },
      page: { viewport: { width: 1366, height: 900 }, acceptDownloads: true },
    });
    ({ demo, page, consoleLines, url: serverUrl } = session);
  });

  afterAll(() => session?.close());

  it('loads from the server cross-origin isolated, says images stay local, and picks WASM with threads', async () => {
    const runtimeFiles: string[] = [];
    page.on('request', (request) => {
      if (request.url().includes('/ort/')) runtimeFiles.push(new URL(request.url()).pathname);
    });
    await page.goto(`${serverUrl}/?provider=wasm`);
    expect(await waitForState(page, ['ready', 'error'])).toBe('ready');
    expect(await page.textContent('#privacy')).toMatch(/stay in this browser.*Nothing is uploaded/s);
    expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
    const provider = await page.evaluate(() => window.emsegDemo!.provider());
    expect(provider?.name).toBe('wasm');
    expect(provider?.label).toMatch(/^WASM, \d+ threads, in a worker$/);
    expect(await page.getAttribute('#provider', 'data-provider')).toBe('wasm');
    // A WASM page loads the plain WASM build, half the size of the JSEP build that also serves WebGPU.
    expect([...new Set(runtimeFiles)].sort()).toEqual(['/ort/ort-wasm-simd-threaded.mjs', '/ort/ort-wasm-simd-threaded.wasm']);
    expect(await page.locator('button[data-sample]').count()).toBe(demo.build.manifest.samples.length);
    // The download progress ran to the model's size (Content-Length from the server).
    const bytes = demo.build.manifest.model!.bytes;
    expect(await page.evaluate(() => [(document.getElementById('model-progress') as HTMLProgressElement).value, (document.getElementById('model-progress') as HTMLProgressElement).max])).toEqual([bytes, bytes]);
  });

  it('segments a bundled slice; probability and mask match POST /v1/segment', async () => {
    expect(await actAndWait(page, () => page.click(`button[data-sample="${SAMPLE}"]`), ['done', 'error']), consoleLines.join('\n')).toBe('done');
    const sampleBytes = new Uint8Array(await readFile(join(demo.build.outDir, SAMPLE)));

    // Probability maps: the same core code on two ONNX runtimes (WASM in the page, CPU in the server).
    const pageProbability = await page.evaluate(() => window.emsegDemo!.probabilityBase64()!);
    const browserP = new Float32Array(new Uint8Array(Buffer.from(pageProbability.base64, 'base64')).buffer);
    const served = await fetch(`${serverUrl}/v1/segment?output=probability&format=tiff`, {
      method: 'POST',
      body: sampleBytes,
      headers: { 'Content-Type': 'image/png' },
    });
    expect(served.status).toBe(200);
    const serverP = decodeTiff(new Uint8Array(await served.arrayBuffer()), 'server probability').pages[0]!.data;
    expect(serverP.length).toBe(512 * 512);
    expect(browserP.length).toBe(serverP.length);
    let maxDiff = 0;
    for (let i = 0; i < serverP.length; i += 1) maxDiff = Math.max(maxDiff, Math.abs(browserP[i]! - serverP[i]!));
    expect(maxDiff).toBeLessThan(1e-4);

    // Masks at a threshold that splits this model's output in two (a random model is not centred on
    // 0.5): set the page's slider there (re-threshold without re-running), ask the server for the same.
    const sorted = Float32Array.from(serverP).sort();
    const threshold = Math.round(sorted[sorted.length >> 1]! * 100) / 100;
    await page.locator('#threshold-slider').fill(String(threshold));
    expect(await page.evaluate(() => window.emsegDemo!.maskBase64()!.threshold)).toBe(threshold);
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download-button')]);
    expect(download.suggestedFilename()).toBe('isbi2012-train-27-mask.png');
    const downloaded = await greyPngPixels(await download.path());
    expect(downloaded).toMatchObject({ width: 512, height: 512, channels: 1 });

    const servedMask = await fetch(`${serverUrl}/v1/segment?output=mask&format=png&threshold=${threshold}`, {
      method: 'POST',
      body: sampleBytes,
      headers: { 'Content-Type': 'image/png' },
    });
    expect(servedMask.status).toBe(200);
    const serverMask = (await greyPngPixels(new Uint8Array(await servedMask.arrayBuffer()))).data;
    expect(serverMask.length).toBe(512 * 512);
    let same = 0;
    let foreground = 0;
    for (let i = 0; i < serverMask.length; i += 1) {
      if (serverMask[i] === downloaded.data[i]) same += 1;
      if (downloaded.data[i] === 255) foreground += 1;
    }
    console.info(`[web demo] WASM vs server: probability max |diff| ${maxDiff.toExponential(2)}, mask at threshold ${threshold}: ${((100 * same) / serverMask.length).toFixed(3)}% identical`);
    expect(same / serverMask.length).toBeGreaterThanOrEqual(0.999);
    // Both classes present, so agreement is not trivial.
    expect(foreground / serverMask.length).toBeGreaterThan(0.2);
    expect(foreground / serverMask.length).toBeLessThan(0.8);
  });

  it('shows the time of each step and saves a screenshot', async () => {
    const timings = await page.evaluate(() => window.emsegDemo!.timings());
    for (const step of ['Model download', 'Session creation', 'Decoding the image', 'Preprocessing, tiling and blending (core)', 'Inference', 'Postprocessing (threshold, drawing)']) {
      expect(timings[step], step).toBeGreaterThanOrEqual(0);
    }
    expect(await page.textContent('#timings')).toContain('Inference (1 tile, 1 call)');
    // The warm-up run after session creation (web-demo/src/runtime.ts), on the model's tile.
    const tile = demo.build.manifest.model!.card.tile;
    expect(await page.evaluate(() => window.emsegDemo!.provider()!.warmupMs)).toBeGreaterThan(0);
    expect(await page.textContent('#timings')).toMatch(new RegExp(`Session creation \\(incl\\. warm-up run ${tile}×${tile}: \\d+ ms\\)`));
    await page.locator('#opacity-slider').fill('0.6');
    mkdirSync(OUTPUT_DIR, { recursive: true });
    await page.screenshot({ path: join(OUTPUT_DIR, 'web-demo.png'), fullPage: true });
    console.info(`[web demo] screenshot: ${join(OUTPUT_DIR, 'web-demo.png')}; timings (ms): ${JSON.stringify(timings, (_k, v) => (typeof v === 'number' ? Math.round(v) : v))}`);
  });

  it('segments an uploaded 640x560 PNG in several blended tiles like the server', async () => {
    const train = decodeTiff(new Uint8Array(await readFile('data/isbi2012/train-volume.tif')), 'train-volume.tif');
    const source = train.pages[5]!.data;
    const data = new Uint8Array(640 * 560);
    for (let y = 0; y < 560; y += 1) {
      for (let x = 0; x < 640; x += 1) data[y * 640 + x] = source[(y % 512) * 512 + (x < 512 ? x : 1023 - x)]!;
    }
    const png = await encodePng(makeImage(640, 560, data));
    const upload = () => page.setInputFiles('#file-input', { name: 'wide.png', mimeType: 'image/png', buffer: Buffer.from(png) });
    expect(await actAndWait(page, upload, ['done', 'error']), consoleLines.join('\n')).toBe('done');
    const tiles = Number(/(\d+) tiles/.exec((await page.textContent('#run-progress-text')) ?? '')?.[1]);
    expect(tiles).toBeGreaterThan(1);
    const pageProbability = await page.evaluate(() => window.emsegDemo!.probabilityBase64()!);
    expect([pageProbability.width, pageProbability.height]).toEqual([640, 560]);
    const browserP = new Float32Array(new Uint8Array(Buffer.from(pageProbability.base64, 'base64')).buffer);
    const served = await fetch(`${serverUrl}/v1/segment?output=probability&format=tiff`, { method: 'POST', body: png as Uint8Array<ArrayBuffer>, headers: { 'Content-Type': 'image/png' } });
    expect(served.status).toBe(200);
    const serverP = decodeTiff(new Uint8Array(await served.arrayBuffer()), 'server probability').pages[0]!.data;
    expect(serverP.length).toBe(640 * 560);
    let maxDiff = 0;
    for (let i = 0; i < serverP.length; i += 1) maxDiff = Math.max(maxDiff, Math.abs(browserP[i]! - serverP[i]!));
    console.info(`[web demo] 640x560 upload in ${tiles} tiles: probability max |diff| vs server ${maxDiff.toExponential(2)}`);
    expect(maxDiff).toBeLessThan(1e-4);
  });
});
