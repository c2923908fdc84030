/**
 * The web demo in headless Chromium, for its browser tests (test/browser/) and `npm run bench:web`:
 * the Chromium launch, a static file server with the COOP/COEP headers of the real server (cross-
 * origin isolated: WASM threads), and waiting for the page's states (body[data-state]).
 */
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { extname, join, normalize } from 'node:path';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser, type Page } from 'playwright-core';

export const CHROMIUM_PATH = process.env.EMSEG_CHROMIUM ?? '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.png': 'image/png',
  '.onnx': 'application/octet-stream',
  '.map': 'application/json',
};

/** The headers that make the page cross-origin isolated (SharedArrayBuffer, WASM threads). */
export const ISOLATION_HEADERS = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

export interface StaticServer {
  url: string;
  close: () => Promise<void>;
}

/** Serves `root` on 127.0.0.1 (random port), with or without the isolation headers. */
export async function serveStatic(root: string, options: { isolate?: boolean } = {}): Promise<StaticServer> {
  const server: Server = createServer(async (request, response) => {
    const path = decodeURIComponent(new URL(request.url ?? '/', 'http://x').pathname);
    const file = normalize(join(root, path.endsWith('/') ? `${path}index.html` : path));
    const headers: Record<string, string> = options.isolate === false ? {} : { ...ISOLATION_HEADERS };
    if (!file.startsWith(root)) {
      response.writeHead(403, headers).end();
      return;
    }
    try {
      const body = await readFile(file);
      response.writeHead(200, { ...headers, 'Content-Type': CONTENT_TYPES[extname(file)] ?? 'application/octet-stream', 'Content-Length': body.byteLength });
      response.end(body);
    } catch {
      response.writeHead(404, headers).end('not found');
    }
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    close: () => new Promise((done) => server.close(() => done())),
  };
}

export async function launchChromium(extraArgs: string[] = []): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: [...CHROMIUM_ARGS, ...extraArgs] });
}

/** Waits until the page's state (body[data-state]) is one of `states`; returns it. */
export async function waitForState(page: Page, states: string[], timeout = 60_000): Promise<string> {
  await page.waitForFunction((wanted) => wanted.includes(document.body.dataset.state ?? ''), states, { timeout });
  return (await page.evaluate(() => document.body.dataset.state)) ?? '';
}

/**
 * Runs `action` (an upload, a click) and waits for the page to settle in one of `states`. The
 * state is first set to 'test-pending', so that the previous run's 'done' cannot be mistaken for
 * the end of this one.
 */
export async function actAndWait(page: Page, action: () => Promise<unknown>, states: string[], timeout = 60_000): Promise<string> {
  await page.evaluate(() => {
    document.body.dataset.state = 'test-pending';
  });
  await action();
  return waitForState(page, states, timeout);
}
