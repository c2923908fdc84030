#!/usr/bin/env node
// `node scripts/web-demo-screenshot.js [out.png]`: the README's picture of the web demo
// (default docs/images/web-demo.png) as a user sees it after `npm start`: the demo built with the
// shipped model (web-demo/build.ts defaults, into a temp folder), served by the emseg server on
// 127.0.0.1, opened in headless Chromium (bench/shared/demo-browser.ts: /usr/bin/chromium or
// EMSEG_CHROMIUM), the bundled held-out ISBI slice 27 segmented on the provider the page picks.
// Loads the TypeScript sources through tsx, like bin/emseg-bench.js. Writes the PNG atomically.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { register } from 'tsx/esm/api';

register();
const out = process.argv[2] ?? 'docs/images/web-demo.png';
const SAMPLE = 'samples/isbi2012-train-27.png';
const { buildWebDemo } = await import('../web-demo/build.ts');
const { DEFAULT_SERVE_CONFIG } = await import('../serve/config.ts');
const { startServer } = await import('../serve/server.ts');
const { actAndWait, launchChromium, waitForState } = await import('../bench/shared/demo-browser.ts');
const { writeFileAtomic } = await import('../node/atomic-write.ts');

const folder = mkdtempSync(join(tmpdir(), 'emseg-demo-screenshot-'));
let server;
let browser;
try {
  const build = await buildWebDemo({ outDir: join(folder, 'dist'), log: () => {} });
  const quiet = { info: () => {}, warn: (line) => console.error(line), error: (line) => console.error(line) };
  server = await startServer({ ...DEFAULT_SERVE_CONFIG, providers: 'cpu', host: '127.0.0.1', port: 0, webRoot: build.outDir }, { log: quiet, processMetrics: false });
  await server.emseg.ready;
  browser = await launchChromium();
  const page = await browser.newPage({ viewport: { width: 1366, height: 900 } });
  await page.goto(server.url);
  const problem = async () => (await page.textContent('#error'))?.trim() || 'no message on the page';
  if ((await waitForState(page, ['ready', 'error'])) !== 'ready') throw new Error(`the demo did not load: ${await problem()}`);
  if ((await actAndWait(page, () => page.click(`button[data-sample="${SAMPLE}"]`), ['done', 'error'], 180_000)) !== 'done') {
    throw new Error(`the demo did not segment ${SAMPLE}: ${await problem()}`);
  }
  const png = await page.screenshot({ fullPage: true });
  await writeFileAtomic(out, png);
  console.log(`wrote ${out} (${png.length} bytes): ${(await page.textContent('#model-name'))?.trim() ?? ''}`);
} finally {
  await browser?.close();
  await server?.shutdown('screenshot taken');
  rmSync(folder, { recursive: true, force: true });
}
