#!/usr/bin/env node
// Checks a running emseg server the way a client uses it: waits until GET /readyz answers 200,
// POSTs one image to /v1/segment and checks the answer is a mask of the same size, values 0 and
// 255 only. Run by scripts/check-image.sh on the container, and usable on any server:
//
//   node scripts/check-served-segmentation.js <base url> <image.png> [--timeout-s 300]
//
// Prints one line per step; exits 1 with one line naming what was expected and found.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import sharp from 'sharp';

/** Polls `${url}/readyz` until 200; returns its JSON and the seconds waited. */
export async function waitReady(url, timeoutMs, isAlive = () => true) {
  const started = Date.now();
  let last = 'no answer';
  while (Date.now() - started < timeoutMs) {
    if (!isAlive()) throw new Error(`${url}: the server exited before /readyz answered 200 (last: ${last})`);
    try {
      const response = await fetch(`${url}/readyz`);
      last = `HTTP ${response.status}`;
      if (response.status === 200) return { ready: await response.json(), seconds: (Date.now() - started) / 1000 };
    } catch (error) {
      // undici wraps the socket error: its code (ECONNREFUSED), else the first of several attempts'.
      last = error.cause?.code ?? error.cause?.errors?.[0]?.code ?? error.cause?.message ?? error.message;
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error(`${url}/readyz: expected 200 within ${timeoutMs / 1000} s, last answer: ${last}`);
}

/** POSTs `png` to /v1/segment; checks a same-size 0/255 mask comes back; returns its facts. */
export async function segmentOnce(url, png) {
  const input = await sharp(png).metadata();
  const started = performance.now();
  const response = await fetch(`${url}/v1/segment`, { method: 'POST', body: png, headers: { 'Content-Type': 'image/png' } });
  const ms = performance.now() - started;
  const body = new Uint8Array(await response.arrayBuffer());
  if (response.status !== 200) throw new Error(`POST /v1/segment: expected 200, found ${response.status}: ${new TextDecoder().decode(body).slice(0, 300)}`);
  const { data, info } = await sharp(body).greyscale().raw().toBuffer({ resolveWithObject: true });
  if (info.width !== input.width || info.height !== input.height) {
    throw new Error(`POST /v1/segment: expected a ${input.width}x${input.height} mask, found ${info.width}x${info.height}`);
  }
  const values = [...new Set(data)].sort((a, b) => a - b);
  if (values.some((v) => v !== 0 && v !== 255) || values.length === 0) throw new Error(`POST /v1/segment: expected mask values 0 and 255, found ${values.slice(0, 10).join(', ')}`);
  const foreground = data.reduce((sum, v) => sum + (v === 255 ? 1 : 0), 0) / data.length;
  return { width: info.width, height: info.height, foreground, ms };
}

async function main() {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { 'timeout-s': { type: 'string', default: '300' } } });
  const [url, image] = positionals;
  if (!url || !image) throw new Error('usage: check-served-segmentation.js <base url> <image.png> [--timeout-s 300]');
  const { ready, seconds } = await waitReady(url.replace(/\/$/, ''), Number(values['timeout-s']) * 1000);
  process.stdout.write(`check: /readyz 200 after ${seconds.toFixed(1)} s: ${JSON.stringify(ready)}\n`);
  const mask = await segmentOnce(url.replace(/\/$/, ''), readFileSync(image));
  process.stdout.write(`check: POST /v1/segment ${image}: ${mask.width}x${mask.height} mask, ${(mask.foreground * 100).toFixed(1)}% cell interior, ${mask.ms.toFixed(0)} ms\n`);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((error) => {
    process.stderr.write(`check: ${error.message}\n`);
    process.exit(1);
  });
}
