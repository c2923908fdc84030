/**
 * The web demo with an int8 variant in the build (a tiny U-Net and its quantizeModel variant,
 * whose card gets its own threshold and tile so the two cards can be told apart): on WASM the
 * page downloads and runs the int8 file, says so (name@version, int8), takes threshold and tile
 * from the int8 card, and its probability map and mask match core segmentImage on
 * onnxruntime-node with the same int8 file; "Use the float model" reloads it on the float model,
 * which matches onnxruntime-node's float output, and offers the int8 model back; on WebGPU the
 * page runs the float model and offers no int8 switch.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { segmentImage } from '../../core/inference.ts';
import { decodeTiff } from '../../core/tiff.ts';
import { readFileSync } from 'node:fs';
import { loadOnnxModel } from '../../node/load-onnx-model.ts';
import { actAndWait, describeBrowser, openDemoPage, waitForState, type BuiltDemo, type DemoPage } from './harness.ts';

const SAMPLE = 'samples/isbi2012-train-27.png';
/** The int8 card's own values (the float card keeps 0.5 and 512). */
const INT8_THRESHOLD = 0.47;
const INT8_TILE = 256;

describeBrowser('web demo with an int8 variant', () => {
  let session: DemoPage;
  let demo: BuiltDemo;
  let page: Page;
  let consoleLines: string[];
  const modelRequests: string[] = [];
  const slice = decodeTiff(new Uint8Array(readFileSync('data/isbi2012/train-volume.tif')), 'train-volume.tif').pages[27]!;

  beforeAll(async () => {
    session = await openDemoPage({
      int8: true,
      editInt8Card: (card) => ({ ...card, threshold: INT8_THRESHOLD, tile: INT8_TILE }),
      // WebGPU (SwiftShader without a GPU) for the last test: the float model there.
      chromiumArgs: ['--enable-unsafe-webgpu'],
    });
    ({ demo, page, consoleLines } = session);
    page.on('request', (request) => {
      if (request.url().includes('/model/')) modelRequests.push(new URL(request.url()).pathname);
    });
  }, 120_000);

  afterAll(() => session?.close());

  /** The page's probability map and mask of the current slice. */
  async function pageResult(): Promise<{ probability: Float32Array; mask: Uint8Array; threshold: number }> {
    const shown = await page.evaluate(() => ({ p: window.emsegDemo!.probabilityBase64()!, m: window.emsegDemo!.maskBase64()! }));
    return {
      probability: new Float32Array(new Uint8Array(Buffer.from(shown.p.base64, 'base64')).buffer),
      mask: new Uint8Array(Buffer.from(shown.m.base64, 'base64')),
      threshold: shown.m.threshold,
    };
  }

  /** core segmentImage on onnxruntime-node (the server's path) with a model file and card values. */
  async function nodeResult(path: string, card: { threshold: number; tile: number; halo: number; contract: { input: { sizeMultiple: number } } }) {
    const loaded = await loadOnnxModel(path, { providers: 'cpu' });
    try {
      const { probability, mask } = await segmentImage(slice, loaded.predictor, { threshold: card.threshold, tile: card.tile, halo: card.halo, sizeMultiple: card.contract.input.sizeMultiple });
      return { probability: probability.data, mask: mask.data };
    } finally {
      await loaded.close();
    }
  }

  function compare(a: { probability: Float32Array; mask: Uint8Array }, b: { probability: Float32Array; mask: Uint8Array }) {
    expect(a.probability.length).toBe(b.probability.length);
    let maxDiff = 0;
    let sumDiff = 0;
    let differing = 0;
    let sameMask = 0;
    let foreground = 0;
    for (let i = 0; i < a.probability.length; i += 1) {
      const diff = Math.abs(a.probability[i]! - b.probability[i]!);
      maxDiff = Math.max(maxDiff, diff);
      sumDiff += diff;
      if (diff > 1e-4) differing += 1;
      if (a.mask[i] === b.mask[i]) sameMask += 1;
      if (a.mask[i] === 255) foreground += 1;
    }
    const n = a.probability.length;
    return { maxDiff, meanDiff: sumDiff / n, differing: differing / n, maskAgreement: sameMask / n, foreground: foreground / n };
  }

  it('runs the int8 file on WASM and says so, with the int8 card threshold', async () => {
    await page.goto(`${session.url}?provider=wasm`);
    expect(await waitForState(page, ['ready', 'error']), consoleLines.join('\n')).toBe('ready');
    const int8Card = demo.int8!.card;
    const running = await page.evaluate(() => window.emsegDemo!.model());
    expect(running).toEqual({
      file: `model/${demo.model.card.name}.int8.onnx`,
      name: int8Card.name,
      version: int8Card.version,
      precision: 'int8',
      sha256: demo.build.manifest.model!.int8!.sha256,
      threshold: INT8_THRESHOLD,
      tile: INT8_TILE,
      halo: int8Card.halo,
    });
    expect(int8Card.name).toBe(`${demo.model.card.name}.int8`);
    expect(await page.textContent('#model-file')).toMatch(new RegExp(`^${int8Card.name.replace(/\./g, '\\.')}@${int8Card.version}, int8 \\(model/${int8Card.name.replace(/\./g, '\\.')}\\.onnx, \\d+ KiB\\)$`));
    expect(await page.getAttribute('#model-file', 'data-precision')).toBe('int8');
    expect(await page.inputValue('#threshold-slider')).toBe(String(INT8_THRESHOLD));
    expect(await page.getByRole('button', { name: 'Use the float model' }).isVisible()).toBe(true);
    // Only the int8 file was downloaded.
    expect(modelRequests).toEqual([`/model/${int8Card.name}.onnx`]);
    expect((await page.evaluate(() => window.emsegDemo!.provider()))?.name).toBe('wasm');
  });

  it("segments a bundled slice in the int8 card's tiles; probability and mask match onnxruntime-node with the int8 file", async () => {
    expect(await actAndWait(page, () => page.click(`button[data-sample="${SAMPLE}"]`), ['done', 'error']), consoleLines.join('\n')).toBe('done');
    // Tile 256 of the int8 card on a 512x512 slice: several tiles (the float card's 512 gives one).
    const tiles = Number(/(\d+) tiles/.exec((await page.textContent('#run-progress-text')) ?? '')?.[1]);
    expect(tiles).toBeGreaterThan(1);
    expect((await pageResult()).threshold).toBe(INT8_THRESHOLD);
    // Masks at a threshold that splits this random model's output in two (set with the page's
    // slider: a re-threshold, no new run), so that agreement is not trivial.
    const expectedP = (await nodeResult(demo.int8!.path, demo.int8!.card)).probability;
    const sorted = Float32Array.from(expectedP).sort();
    const threshold = Math.round(sorted[sorted.length >> 1]! * 1000) / 1000;
    await page.locator('#threshold-slider').evaluate((slider: HTMLInputElement, value) => {
      slider.step = 'any';
      slider.value = String(value);
      slider.dispatchEvent(new Event('input'));
    }, threshold);
    const shown = await pageResult();
    expect(shown.threshold).toBe(threshold);
    const expected = await nodeResult(demo.int8!.path, { ...demo.int8!.card, threshold });
    const stats = compare(shown, expected);
    console.info(
      `[web demo int8] WASM int8 vs onnxruntime-node int8 (${tiles} tiles): probability max |diff| ${stats.maxDiff.toExponential(2)}, ` +
        `mean ${stats.meanDiff.toExponential(2)}, ${(100 * stats.differing).toFixed(3)}% of pixels differ by > 1e-4; ` +
        `mask at ${threshold}: ${(100 * stats.maskAgreement).toFixed(4)}% identical, foreground ${(100 * stats.foreground).toFixed(1)}%`,
    );
    // Not bit-exact: the same int8 graph runs on two kernel sets (onnxruntime's x86 QLinearConv
    // and its WebAssembly one), which presumably round some requantized int32 sums to uint8
    // activations one step apart (not traced further); such a step moves the probabilities of the
    // pixels downstream of it. Measured here: max |diff| 4.2e-3, mean 7e-6, 0.9% of the pixels
    // beyond 1e-4, masks 99.996% identical (11 pixels). The float model agrees within 1e-4 (next
    // test, and web-demo-wasm-parity.test.ts); the other model file is far beyond these bounds
    // (float against int8 of this tiny model: max 2.8e-2, mean 8.3e-4, checked in the next test).
    expect(stats.maxDiff).toBeLessThan(0.02);
    expect(stats.meanDiff).toBeLessThan(1e-4);
    expect(stats.maskAgreement).toBeGreaterThanOrEqual(0.999);
    expect(stats.foreground).toBeGreaterThan(0.2);
    expect(stats.foreground).toBeLessThan(0.8);
  });

  it('"Use the float model" reloads on the float file, which matches onnxruntime-node float, and offers int8 back', async () => {
    await Promise.all([page.waitForURL(/precision=fp32/), page.getByRole('button', { name: 'Use the float model' }).click()]);
    expect(await waitForState(page, ['ready', 'error']), consoleLines.join('\n')).toBe('ready');
    const running = await page.evaluate(() => window.emsegDemo!.model());
    expect(running).toMatchObject({ file: `model/${demo.model.card.name}.onnx`, name: demo.model.card.name, precision: 'fp32', threshold: demo.model.card.threshold, tile: demo.model.card.tile });
    expect(await page.textContent('#model-file')).toMatch(new RegExp(`^${demo.model.card.name}@${demo.model.card.version}, float \\(model/${demo.model.card.name}\\.onnx`));
    expect(await page.getAttribute('#model-file', 'data-precision')).toBe('fp32');
    expect(await page.inputValue('#threshold-slider')).toBe(String(demo.model.card.threshold));
    expect(await page.getByRole('button', { name: 'Use the int8 model' }).isVisible()).toBe(true);
    expect(modelRequests.at(-1)).toBe(`/model/${demo.model.card.name}.onnx`);

    expect(await actAndWait(page, () => page.click(`button[data-sample="${SAMPLE}"]`), ['done', 'error']), consoleLines.join('\n')).toBe('done');
    const shown = await pageResult();
    const floatNode = await nodeResult(demo.model.path, demo.model.card);
    const { maxDiff } = compare(shown, floatNode);
    expect(maxDiff).toBeLessThan(1e-4);
    // The float and int8 models really differ here, so the checks above tell them apart.
    const int8Node = await nodeResult(demo.int8!.path, demo.model.card);
    const apart = compare(shown, int8Node);
    console.info(`[web demo int8] the page's float result vs onnxruntime-node int8: max |diff| ${apart.maxDiff.toExponential(2)}, mean ${apart.meanDiff.toExponential(2)}`);
    expect(apart.maxDiff).toBeGreaterThan(1e-3);
    expect(apart.meanDiff).toBeGreaterThan(1e-4);

    await Promise.all([page.waitForURL(/precision=int8/), page.getByRole('button', { name: 'Use the int8 model' }).click()]);
    expect(await waitForState(page, ['ready', 'error']), consoleLines.join('\n')).toBe('ready');
    expect((await page.evaluate(() => window.emsegDemo!.model()))?.precision).toBe('int8');
  });

  it('runs the float model on WebGPU, with no int8 switch', async () => {
    await page.goto(`${session.url}?provider=webgpu`);
    expect(await waitForState(page, ['ready', 'error']), consoleLines.join('\n')).toBe('ready');
    expect((await page.evaluate(() => window.emsegDemo!.provider()))?.name).toBe('webgpu');
    expect(await page.evaluate(() => window.emsegDemo!.model())).toMatchObject({ file: `model/${demo.model.card.name}.onnx`, precision: 'fp32' });
    expect(await page.getAttribute('#model-file', 'data-precision')).toBe('fp32');
    expect(await page.locator('#precision-switch').isVisible()).toBe(false);
    expect(modelRequests.at(-1)).toBe(`/model/${demo.model.card.name}.onnx`);
  });
});
