/**
 * The parts of `npm run check:image` (scripts/check-image.sh) that run without a container: the
 * client check of a served segmentation (scripts/check-served-segmentation.js) against a stub
 * server, passing and failing with one line each way, and the script's reading of the real base
 * image from the Dockerfile. The image build itself is run by hand (deploy/README.md).
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error plain JavaScript module without declarations
import { segmentOnce, waitReady } from '../scripts/check-served-segmentation.js';

const SLICE = readFileSync(new URL('../data/isbi2012/train-volume-slice0.png', import.meta.url));
let server: Server;
let url = '';
let readyCalls = 0;
let answer: 'mask' | 'grey' | 'small' | 'error' = 'mask';

beforeAll(async () => {
  const mask = await sharp(Buffer.alloc(512 * 512, 255), { raw: { width: 512, height: 512, channels: 1 } }).png().toBuffer();
  const grey = await sharp(Buffer.alloc(512 * 512, 128), { raw: { width: 512, height: 512, channels: 1 } }).png().toBuffer();
  const small = await sharp(Buffer.alloc(16 * 16, 0), { raw: { width: 16, height: 16, channels: 1 } }).png().toBuffer();
  server = createServer((req, res) => {
    req.resume();
    if (req.url === '/readyz') {
      readyCalls++;
      res.writeHead(readyCalls < 3 ? 503 : 200, { 'content-type': 'application/json' }).end(JSON.stringify({ status: readyCalls < 3 ? 'loading' : 'ready' }));
    } else if (answer === 'error') res.writeHead(415).end('{"code":"E_UNSUPPORTED"}');
    else res.writeHead(200, { 'content-type': 'image/png' }).end(answer === 'mask' ? mask : answer === 'grey' ? grey : small);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('scripts/check-served-segmentation.js', () => {
  it('waits for /readyz 200, then checks the mask of a slice', async () => {
    const { ready } = await waitReady(url, 10_000);
    expect(ready).toEqual({ status: 'ready' });
    expect(readyCalls).toBe(3);
    answer = 'mask';
    expect(await segmentOnce(url, SLICE)).toMatchObject({ width: 512, height: 512, foreground: 1 });
  });

  it('fails with one line naming what was expected and found', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    await expect(waitReady(`http://127.0.0.1:${port}`, 1200)).rejects.toThrow(`http://127.0.0.1:${port}/readyz: expected 200 within 1.2 s, last answer: ECONNREFUSED`);
    answer = 'grey';
    await expect(segmentOnce(url, SLICE)).rejects.toThrow('POST /v1/segment: expected mask values 0 and 255, found 128');
    answer = 'small';
    await expect(segmentOnce(url, SLICE)).rejects.toThrow('POST /v1/segment: expected a 512x512 mask, found 16x16');
    answer = 'error';
    await expect(segmentOnce(url, SLICE)).rejects.toThrow('POST /v1/segment: expected 200, found 415: {"code":"E_UNSUPPORTED"}');
  });
});

describe('scripts/check-image.sh', () => {
  it('is valid shell and reads the Node major and Debian suite of the real base from the Dockerfile', async () => {
    const script = new URL('../scripts/check-image.sh', import.meta.url).pathname;
    await promisify(execFile)('bash', ['-n', script]);
    const text = readFileSync(script, 'utf8');
    const nodeImage = /^ARG NODE_IMAGE=(\S+)$/m.exec(readFileSync(new URL('../Dockerfile', import.meta.url), 'utf8'))![1]!;
    const read = async (expr: string) => (await promisify(execFile)('sh', ['-c', `printf '%s' '${nodeImage}' | sed -n '${expr}'`])).stdout;
    const [majorExpr, suiteExpr] = [...text.matchAll(/sed -n '(s\/\^node:[^']+)'/g)].map((m) => m[1]!);
    expect(await read(majorExpr!)).toBe(/^node:(\d+)-/.exec(nodeImage)![1]);
    expect(await read(suiteExpr!)).toBe('bookworm');
    expect(JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).scripts['check:image']).toBe('bash scripts/check-image.sh');
  });
});
