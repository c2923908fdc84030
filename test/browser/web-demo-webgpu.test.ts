/**
 * The WebGPU execution provider of the web demo (Chromium with --enable-unsafe-webgpu; without a
 * GPU it runs on SwiftShader, which is slow, hence 64x64 inputs): by itself the page does not run
 * WebGPU on SwiftShader's software adapter but WASM, saying why, and one click switches to WebGPU
 * (and back); on WebGPU the model's output agrees with WASM within 1e-4, and the page's whole
 * pipeline agrees with core segmentImage on onnxruntime-node (the server's path).
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { makeImage } from '../../core/image.ts';
import { segmentImage } from '../../core/inference.ts';
import { encodePng } from '../../node/png.ts';
import { loadOnnxModel } from '../../node/load-onnx-model.ts';
import { actAndWait, describeBrowser, openDemoPage, waitForState, type BuiltDemo, type DemoPage } from './harness.ts';

describeBrowser('web demo on WebGPU', () => {
  let session: DemoPage;
  let demo: BuiltDemo;
  let page: Page;
  let consoleLines: string[];

  beforeAll(async () => {
    session = await openDemoPage({ chromiumArgs: ['--enable-unsafe-webgpu'] });
    ({ demo, page, consoleLines } = session);
  });

  afterAll(() => session?.close());

  it('chooses WASM over the software adapter (SwiftShader) by itself and says why', async () => {
    await page.goto(session.url);
    expect(await waitForState(page, ['ready', 'error']), consoleLines.join('\n')).toBe('ready');
    const adapter = await page.evaluate(async () => {
      const found = await (navigator as unknown as { gpu: { requestAdapter: () => Promise<{ info: Record<string, unknown> } | null> } }).gpu.requestAdapter();
      return found ? { vendor: found.info.vendor, architecture: found.info.architecture, description: found.info.description, fallback: found.info.isFallbackAdapter } : null;
    });
    console.info(`[web demo] WebGPU adapter here: ${JSON.stringify(adapter)}`);
    expect(adapter, 'this test needs a WebGPU adapter (--enable-unsafe-webgpu)').not.toBeNull();
    const provider = await page.evaluate(() => window.emsegDemo!.provider());
    expect(provider?.name, JSON.stringify(provider)).toBe('wasm');
    expect(provider?.alternative).toBe('webgpu');
    const notes = page.locator('#provider-notes');
    expect(await notes.isVisible()).toBe(true);
    expect(await notes.textContent()).toContain('WebGPU here is a software adapter (SwiftShader), slower than WASM: using WASM');
    const button = page.getByRole('button', { name: 'Use WebGPU instead' });
    expect(await button.isVisible()).toBe(true);
  });

  it('switches to WebGPU with one click, and offers WASM back', async () => {
    await Promise.all([page.waitForURL(/provider=webgpu/), page.getByRole('button', { name: 'Use WebGPU instead' }).click()]);
    expect(await waitForState(page, ['ready', 'error']), consoleLines.join('\n')).toBe('ready');
    expect(new URL(page.url()).searchParams.get('provider')).toBe('webgpu');
    const provider = await page.evaluate(() => window.emsegDemo!.provider());
    expect(provider?.name, JSON.stringify(provider)).toBe('webgpu');
    expect(provider?.label).toMatch(/^WebGPU \(.*swiftshader/i);
    expect(await page.textContent('#provider')).toBe(provider?.label);
    expect(await page.locator('#provider-notes').isVisible()).toBe(false);
    expect(await page.getByRole('button', { name: 'Use WASM instead' }).isVisible()).toBe(true);
  });

  it('agrees with WASM within 1e-4 on a 64x64 input', async () => {
    const input = Array.from({ length: 64 * 64 }, (_, i) => Math.sin(i / 7) * 1.5 + Math.cos(i / 131));
    const outcome = await page.evaluate(async (values) => {
      const gpu = await window.emsegDemo!.runRaw('webgpu', values, 1, 64, 64);
      const cpu = await window.emsegDemo!.runRaw('wasm', values, 1, 64, 64);
      return { gpu, cpu };
    }, input);
    expect(outcome.gpu.label).toMatch(/^WebGPU/);
    expect(outcome.cpu.label).toMatch(/^WASM/);
    expect(outcome.gpu.output.length).toBe(64 * 64);
    let maxDiff = 0;
    let min = Infinity;
    let max = -Infinity;
    for (let i = 0; i < outcome.cpu.output.length; i += 1) {
      maxDiff = Math.max(maxDiff, Math.abs(outcome.gpu.output[i]! - outcome.cpu.output[i]!));
      min = Math.min(min, outcome.cpu.output[i]!);
      max = Math.max(max, outcome.cpu.output[i]!);
    }
    expect(maxDiff).toBeLessThanOrEqual(1e-4);
    expect(max - min).toBeGreaterThan(1e-3); // an output that varies, so agreement means something
  });

  it('segments an uploaded 64x64 PNG on WebGPU like core + onnxruntime-node', async () => {
    const data = new Uint8Array(64 * 64);
    for (let i = 0; i < data.length; i += 1) data[i] = (128 + 90 * Math.sin((i % 64) / 5) * Math.cos(Math.floor(i / 64) / 7)) | 0;
    const image = makeImage(64, 64, data);
    const png = Buffer.from(await encodePng(image));
    const upload = () => page.setInputFiles('#file-input', { name: 'small.png', mimeType: 'image/png', buffer: png });
    expect(await actAndWait(page, upload, ['done', 'error']), consoleLines.join('\n')).toBe('done');
    const shown = await page.evaluate(() => window.emsegDemo!.probabilityBase64()!);
    const browserP = new Float32Array(new Uint8Array(Buffer.from(shown.base64, 'base64')).buffer);
    const loaded = await loadOnnxModel(demo.model.path, { providers: 'cpu' });
    try {
      const { card } = loaded;
      const expected = await segmentImage(image, loaded.predictor, { threshold: card.threshold, tile: card.tile, halo: card.halo, sizeMultiple: card.contract.input.sizeMultiple });
      expect(browserP.length).toBe(expected.probability.data.length);
      let maxDiff = 0;
      for (let i = 0; i < browserP.length; i += 1) maxDiff = Math.max(maxDiff, Math.abs(browserP[i]! - expected.probability.data[i]!));
      console.info(`[web demo] WebGPU page pipeline vs core + onnxruntime-node (64x64): max |diff| ${maxDiff.toExponential(2)}`);
      expect(maxDiff).toBeLessThanOrEqual(1e-4);
    } finally {
      await loaded.close();
    }
  });

  it('switches back to WASM with one click', async () => {
    await Promise.all([page.waitForURL(/provider=wasm/), page.getByRole('button', { name: 'Use WASM instead' }).click()]);
    expect(await waitForState(page, ['ready', 'error']), consoleLines.join('\n')).toBe('ready');
    const provider = await page.evaluate(() => window.emsegDemo!.provider());
    expect(provider?.name, JSON.stringify(provider)).toBe('wasm');
    expect(await page.getByRole('button', { name: 'Use WebGPU instead' }).isVisible()).toBe(true);
  });
});
