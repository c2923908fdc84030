/**
 * Opening files in the web demo (Chromium, demo served WITHOUT the COOP/COEP headers, so it also
 * shows the single-threaded fallback): every control has an accessible name; a multi-page TIFF
 * gets a slice slider and each slice is segmented at its own size (not a multiple of 16); a colour
 * JPEG becomes one grey slice; a file that is no image, and a truncated
 * TIFF, show the core's EmsegError message, word for word.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DemoManifest } from '../../web-demo/build.ts';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import sharp from 'sharp';
import { isEmsegError } from '../../core/errors.ts';
import { makeImage, makeStack } from '../../core/image.ts';
import { probeImage } from '../../core/image-probe.ts';
import { decodeTiff, encodeTiff } from '../../core/tiff.ts';
import { actAndWait, describeBrowser, openDemoPage, serveStatic, waitForState, type BuiltDemo, type DemoPage } from './harness.ts';

/** A 3-page 8-bit stack, 60x44, each page a different pattern. */
function threePageTiff(): Uint8Array {
  const pages = [0, 1, 2].map((k) => {
    const data = new Uint8Array(60 * 44);
    for (let i = 0; i < data.length; i += 1) data[i] = (Math.sin((i % 60) / (3 + k)) * 60 + Math.cos(Math.floor(i / 60) / (2 + k)) * 60 + 128) | 0;
    return makeImage(60, 44, data);
  });
  return encodeTiff(makeStack(pages, 'test stack'));
}

function coreMessage(action: () => unknown): string {
  try {
    action();
  } catch (error) {
    if (isEmsegError(error)) return error.message;
    throw error;
  }
  throw new Error('expected the core to refuse these bytes');
}

describeBrowser('web demo file input', () => {
  let session: DemoPage;
  let page: Page;
  let consoleLines: string[];

  beforeAll(async () => {
    // The card's cell parameters reach the page: with seeds at probability >= 0, a slice is one cell.
    const serve = (demo: BuiltDemo) => {
      const manifestPath = join(demo.build.outDir, 'demo.json');
      const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as DemoManifest;
      manifest.model!.card.cells = { seedThreshold: 0, minSeedArea: 1 };
      writeFileSync(manifestPath, JSON.stringify(manifest));
      return serveStatic(demo.build.outDir, { isolate: false });
    };
    session = await openDemoPage({ serve, page: { viewport: { width: 1280, height: 800 } } });
    ({ page, consoleLines } = session);
    await page.goto(session.url);
    await waitForState(page, ['ready', 'error']);
  });

  afterAll(() => session?.close());

  it('runs single-threaded WASM without cross-origin isolation and says why', async () => {
    expect(await page.evaluate(() => crossOriginIsolated)).toBe(false);
    const provider = await page.evaluate(() => window.emsegDemo!.provider());
    expect(provider?.name).toBe('wasm');
    expect(provider?.label).toMatch(/single thread/);
    expect(await page.textContent('#provider-notes')).toMatch(/COOP\/COEP/);
  });

  it('labels every control for assistive technology', async () => {
    await expect(page.getByLabel('Open an image (PNG, JPEG or TIFF, also multi-page)').count()).resolves.toBe(1);
    await expect(page.getByRole('slider', { name: /^Threshold/ }).count()).resolves.toBe(1);
    await expect(page.getByRole('slider', { name: /^Mask opacity/ }).count()).resolves.toBe(1);
    await expect(page.getByRole('checkbox', { name: /Test-time augmentation/ }).count()).resolves.toBe(1);
    await expect(page.getByRole('checkbox', { name: 'Invert contrast' }).count()).resolves.toBe(1);
    await expect(page.getByRole('button', { name: 'Download mask (PNG)' }).count()).resolves.toBe(1);
    await expect(page.getByRole('button', { name: 'Download cell table (CSV)' }).count()).resolves.toBe(1);
    await expect(page.getByRole('img', { name: /^Cells, each in its own colour/ }).count()).resolves.toBe(1);
    await expect(page.getByRole('button', { name: 'Segment this slice' }).count()).resolves.toBe(1);
    await expect(page.getByRole('group', { name: /bundled ISBI 2012 slice/ }).getByRole('button').count()).resolves.toBe(3);
    await expect(page.getByRole('img', { name: /Probability of cell interior/ }).count()).resolves.toBe(1);
    await expect(page.getByRole('progressbar', { name: 'Model download' }).count()).resolves.toBe(1);
  });

  it('opens a multi-page TIFF with a slice slider and segments the slice shown', async () => {
    expect(await page.isHidden('#page-row')).toBe(true);
    const upload = () => page.setInputFiles('#file-input', { name: 'stack.tif', mimeType: 'image/tiff', buffer: Buffer.from(threePageTiff()) });
    expect(await actAndWait(page, upload, ['done', 'error']), consoleLines.join('\n')).toBe('done');
    expect(await page.isVisible('#page-row')).toBe(true);
    expect(await page.getByRole('slider', { name: 'Slice' }).getAttribute('aria-valuetext')).toBe('1 of 3');
    expect(await page.getAttribute('#page-slider', 'max')).toBe('2');
    expect(await page.textContent('#page-count')).toBe('3');
    expect(await page.textContent('#image-info')).toContain('60×44, 8-bit, 3 pages');
    // The pixel-size line of predict and the server (core/pixel-size.ts): this TIFF states none.
    expect(await page.textContent('#pixel-size-info')).toBe('pixel size: stack.tif states none, not rescaled');
    const first = await page.evaluate(() => window.emsegDemo!.probabilityBase64()!);
    expect([first.width, first.height]).toEqual([60, 44]);

    await page.locator('#page-slider').fill('2');
    await page.locator('#page-slider').dispatchEvent('change');
    await page.waitForFunction(() => document.getElementById('page-value')?.textContent === '3');
    expect(await page.getAttribute('#page-slider', 'aria-valuetext')).toBe('3 of 3');
    await page.waitForFunction(() => window.emsegDemo!.probabilityBase64() !== undefined && document.body.dataset.state === 'done');
    const third = await page.evaluate(() => window.emsegDemo!.probabilityBase64()!);
    expect([third.width, third.height]).toEqual([60, 44]);
    expect(third.base64).not.toBe(first.base64);
    expect(await page.evaluate(() => [document.getElementById('input-canvas') as HTMLCanvasElement].map((c) => [c.width, c.height])[0])).toEqual([60, 44]);
    expect(await page.isHidden('#error')).toBe(true);

    // The cells view of the slice shown: a count and the CSV of emseg predict --cells, rows of slice 2.
    const count = await page.textContent('#cell-count');
    expect(count).toBe('1 cell');
    expect(await page.isEnabled('#cells-download-button')).toBe(true);
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#cells-download-button')]);
    expect(download.suggestedFilename()).toBe('stack-slice003-cells.csv');
    const csv = readFileSync((await download.path())!, 'utf8').trimEnd().split('\r\n');
    expect(csv[0]).toMatch(/^image,label,slice,area_px,/);
    expect(csv.length - 1).toBe(Number.parseInt(count!, 10));
    expect(csv.slice(1).every((line) => line.startsWith('stack.tif,') && line.split(',')[2] === '2')).toBe(true);
    expect(csv[1]!.split(',')[3]).toBe(String(60 * 44)); // area_px: the whole slice
  });

  it('opens a colour JPEG as one grey slice', async () => {
    const rgb = new Uint8Array(80 * 48 * 3);
    for (let i = 0; i < rgb.length; i += 1) rgb[i] = (i * 7 + (i % 3) * 50) % 256;
    const jpeg = await sharp(rgb, { raw: { width: 80, height: 48, channels: 3 } }).jpeg({ quality: 90 }).toBuffer();
    const upload = () => page.setInputFiles('#file-input', { name: 'photo.jpg', mimeType: 'image/jpeg', buffer: jpeg });
    expect(await actAndWait(page, upload, ['done', 'error']), consoleLines.join('\n')).toBe('done');
    expect(await page.textContent('#image-info')).toBe('photo.jpg: 80×48, 8-bit, 1 page');
    expect(await page.isHidden('#page-row')).toBe(true);
    const result = await page.evaluate(() => window.emsegDemo!.maskBase64()!);
    expect([result.width, result.height]).toEqual([80, 48]);
  });

  it('shows the core message for a file that is not an image', async () => {
    const bytes = new TextEncoder().encode('this is a text file, not a picture');
    const upload = () => page.setInputFiles('#file-input', { name: 'notes.png', mimeType: 'image/png', buffer: Buffer.from(bytes) });
    expect(await actAndWait(page, upload, ['done', 'error'])).toBe('error');
    const expected = coreMessage(() => probeImage(bytes, 'notes.png'));
    expect(expected).toMatch(/notes\.png: not a PNG, JPEG or TIFF/);
    expect(await page.textContent('#error')).toBe(expected);
    expect(await page.getAttribute('#error', 'role')).toBe('alert');
  });

  it('shows the core message for a truncated TIFF', async () => {
    const whole = threePageTiff();
    const bytes = whole.subarray(0, Math.floor(whole.length / 3));
    const upload = () => page.setInputFiles('#file-input', { name: 'cut.tif', mimeType: 'image/tiff', buffer: Buffer.from(bytes) });
    expect(await actAndWait(page, upload, ['done', 'error'])).toBe('error');
    const expected = coreMessage(() => {
      probeImage(bytes, 'cut.tif');
      decodeTiff(bytes, 'cut.tif');
    });
    expect(await page.textContent('#error')).toBe(expected);
  });
});
