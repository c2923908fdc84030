/**
 * Shared pieces of the web demo's browser tests: whether Chromium is there (skip with a visible
 * reason outside CI, fail in CI), the demo built with a tiny test model into a temp folder, and
 * all of it at once with a page open (openDemoPage). The browser launch, the static server with
 * the COOP/COEP headers and the page-state waits are bench/shared/demo-browser.ts (bench:web uses
 * them too), re-exported here for the tests.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import sharp from 'sharp';
import type { ModelCard } from '../../core/contract.ts';
import { buildWebDemo, type BuildResult } from '../../web-demo/build.ts';
import { CHROMIUM_PATH, launchChromium, serveStatic, type StaticServer } from '../../bench/shared/demo-browser.ts';
import { tinyInt8Variant, type TinyInt8Onnx } from '../helpers/tiny-int8-onnx.ts';
import { tinyUNetOnnx, type TinyUNetOnnx } from '../helpers/tiny-unet-onnx.ts';

export { actAndWait, serveStatic, waitForState } from '../../bench/shared/demo-browser.ts';

/** Where the test run saves screenshots (gitignored). */
export const OUTPUT_DIR = resolve(import.meta.dirname, '../output');

const inCi = process.env.CI === 'true' || process.env.CI === '1';
export const chromiumAvailable = existsSync(CHROMIUM_PATH);
if (!chromiumAvailable && inCi) {
  throw new Error(`browser tests: ${CHROMIUM_PATH} is missing but CI=${process.env.CI}; .ci/run must apt-get install chromium`);
}

/** describe() when Chromium is installed; otherwise describe.skip() with the reason in its name, printed once. */
export function describeBrowser(name: string, body: () => void): void {
  if (chromiumAvailable) {
    describe(name, body);
    return;
  }
  const reason = `skipped: no Chromium at ${CHROMIUM_PATH} (apt-get install -y chromium, or set EMSEG_CHROMIUM)`;
  console.warn(`[web demo browser tests] ${name}: ${reason}`);
  describe.skip(`${name} (${reason})`, body);
}

export interface BuiltDemo {
  model: TinyUNetOnnx;
  /** Its int8 variant, when built with `int8: true` (shipped beside the model in the build). */
  int8: TinyInt8Onnx | undefined;
  build: BuildResult;
  dispose: () => void;
}

export interface TinyDemoOptions {
  /** Also the model's int8 variant (quantizeModel), which the build finds beside the model. Default false. */
  int8?: boolean;
  /** Changes the int8 variant's card file before the build (e.g. another threshold, to tell the cards apart). */
  editInt8Card?: (card: ModelCard) => ModelCard;
}

/** The demo built into a temp folder with a tiny U-Net (depth 2, 4 filters) as its model, and its int8 variant if asked. */
export async function buildDemoWithTinyModel(options: TinyDemoOptions = {}): Promise<BuiltDemo> {
  const model = await tinyUNetOnnx({ depth: 2, baseFilters: 4 });
  const int8 = options.int8 ? await tinyInt8Variant(model) : undefined;
  if (int8 && options.editInt8Card) {
    int8.card = options.editInt8Card(int8.card);
    writeFileSync(int8.cardPath, `${JSON.stringify(int8.card, null, 2)}\n`);
  }
  const folder = mkdtempSync(join(tmpdir(), 'emseg-web-demo-'));
  const build = await buildWebDemo({ outDir: join(folder, 'dist'), model: model.path, minify: true });
  return { model, int8, build, dispose: () => rmSync(folder, { recursive: true, force: true }) };
}

export interface DemoPageOptions extends TinyDemoOptions {
  /** Serves the built demo; default serveStatic(outDir) with the isolation headers. */
  serve?: (demo: BuiltDemo) => Promise<StaticServer>;
  /** Chromium flags beyond CHROMIUM_ARGS. */
  chromiumArgs?: string[];
  /** Options of browser.newPage (viewport, downloads). */
  page?: Parameters<Browser['newPage']>[0];
}

/** The demo built with a tiny model, served, and one Chromium page on it (not yet navigated). */
export interface DemoPage {
  demo: BuiltDemo;
  /** Where the server listens (serve's url as given). */
  url: string;
  browser: Browser;
  page: Page;
  /** The page's console errors and warnings and page errors, for failure messages. */
  consoleLines: string[];
  /** Closes the browser, then the server, then removes the build. */
  close: () => Promise<void>;
}

/** Builds the demo, serves it, launches Chromium and opens a page; on failure closes what it opened. */
export async function openDemoPage(options: DemoPageOptions = {}): Promise<DemoPage> {
  const demo = await buildDemoWithTinyModel(options);
  let server: StaticServer | undefined;
  let browser: Browser | undefined;
  const close = async () => {
    await browser?.close();
    await server?.close();
    demo.dispose();
  };
  try {
    server = await (options.serve ?? ((built) => serveStatic(built.build.outDir)))(demo);
    browser = await launchChromium(options.chromiumArgs);
    const page = await browser.newPage(options.page);
    return { demo, url: server.url, browser, page, consoleLines: collectConsole(page), close };
  } catch (error) {
    await close();
    throw error;
  }
}

/** Collects console errors and page errors, for the failure messages. */
export function collectConsole(page: Page): string[] {
  const lines: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error' || message.type() === 'warning') lines.push(`${message.type()}: ${message.text()}`);
  });
  page.on('pageerror', (error) => lines.push(`pageerror: ${error.message}`));
  return lines;
}

/** Decodes a PNG that must be 1-channel 8-bit grey; returns its size and pixels. */
export async function greyPngPixels(png: Uint8Array | string): Promise<{ width: number; height: number; channels: number; data: Uint8Array }> {
  const meta = await sharp(png).metadata();
  const { data, info } = await sharp(png).toColourspace('b-w').raw().toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, channels: meta.channels ?? 0, data: new Uint8Array(data) };
}
