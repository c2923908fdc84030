/**
 * The hostile-input corpus (test/helpers/hostile-inputs.ts) against a real server listening on
 * 127.0.0.1, over a real keep-alive client (node:http Agent, one socket). For every case: the
 * documented status and problem code; `/healthz` keeps answering within 1 s while the case is
 * processed; and a good request sent next through the same agent (the same connection unless the
 * answer said `Connection: close`) gets the right mask.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent, request } from 'node:http';
import { connect } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodePng } from '../node/png.ts';
import { DEFAULT_SERVE_CONFIG } from '../serve/config.ts';
import { startServer, type RunningServer } from '../serve/server.ts';
import { captureLog, fakeModel, patternImage } from './serve-fixtures.ts';
import { hostileCorpus, type HostileCase } from './helpers/hostile-inputs.ts';
import { tempDir } from './helpers/temp-dir.ts';

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  reusedSocket: boolean;
}

function send(url: string, agent: Agent | undefined, options: { method?: string; path: string; headers?: Record<string, string>; body?: Uint8Array }): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}${options.path}`, { method: options.method ?? 'GET', agent: agent ?? false, headers: options.headers ?? {} }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks), reusedSocket: req.reusedSocket }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

const limits = { maxBodyBytes: 12 * 1024 * 1024, maxPages: 1000 };
const log = captureLog();
let server: RunningServer;
let goodPng: Uint8Array;
let expectedMask: Buffer;

beforeAll(async () => {
  const webRoot = tempDir('emseg-web-');
  writeFileSync(join(webRoot, 'index.html'), '<!doctype html><title>demo</title>');
  writeFileSync(join(webRoot, 'app.js'), 'console.log(1);\n//# sourceMappingURL=app.js.map');
  writeFileSync(join(webRoot, 'app.js.map'), '{"version":3,"sources":["../src/secret.ts"],"mappings":""}');
  server = await startServer(
    { ...DEFAULT_SERVE_CONFIG, host: '127.0.0.1', port: 0, webRoot, maxBodyBytes: limits.maxBodyBytes, maxPixels: 4_000_000, maxStackPixels: 8_000_000, maxPages: limits.maxPages },
    { log, processMetrics: false, loadModel: async () => fakeModel() },
  );
  await server.emseg.ready;
  goodPng = await encodePng(patternImage(96, 80));
  const first = await send(server.url, undefined, { method: 'POST', path: '/v1/segment', headers: { 'Content-Type': 'image/png' }, body: goodPng });
  expect(first.status).toBe(200);
  expectedMask = first.body;
});

afterAll(async () => {
  await server?.shutdown('test over');
});

/** Polls /healthz on its own connections until stopped; returns the slowest answer in ms. */
function watchHealth(url: string): () => Promise<{ slowestMs: number; answers: number }> {
  let running = true;
  let slowestMs = 0;
  let answers = 0;
  const loop = (async () => {
    while (running) {
      const started = performance.now();
      const timeout = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), 1500));
      const outcome = await Promise.race([send(url, undefined, { path: '/healthz' }).then((a) => a.status), timeout]);
      const ms = performance.now() - started;
      slowestMs = Math.max(slowestMs, outcome === 'timeout' ? Number.POSITIVE_INFINITY : ms);
      if (outcome === 200) answers += 1;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  })();
  return async () => {
    running = false;
    await loop;
    return { slowestMs, answers };
  };
}

const corpus = await hostileCorpus(limits);

describe('the hostile-input corpus on a real keep-alive connection', () => {
  it.each(corpus.map((c) => [c.name, c] as [string, HostileCase]))('%s', async (_name, hostile) => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const stop = watchHealth(server.url);
      const headers: Record<string, string> = hostile.contentType ? { 'Content-Type': hostile.contentType } : {};
      const answer = await send(server.url, agent, {
        method: hostile.method ?? 'POST',
        path: `${hostile.path ?? '/v1/segment'}${hostile.query ?? ''}`,
        headers,
        ...(hostile.body ? { body: hostile.body } : {}),
      });
      const health = await stop();
      expect(answer.status, answer.body.toString().slice(0, 300)).toBe(hostile.status);
      if (hostile.code) {
        expect(answer.headers['content-type']).toBe('application/problem+json');
        const problem = JSON.parse(answer.body.toString()) as { status: number; code: string; type: string; detail: string };
        expect(problem).toMatchObject({ type: 'about:blank', status: hostile.status, code: hostile.code });
        expect(problem.detail).not.toMatch(/\n|at .*\.ts:/);
      }
      for (const [name, value] of Object.entries(hostile.headers ?? {})) expect(answer.headers[name]).toMatch(value);
      expect(health.answers).toBeGreaterThan(0);
      expect(health.slowestMs).toBeLessThan(1000);

      const next = await send(server.url, agent, { method: 'POST', path: '/v1/segment', headers: { 'Content-Type': 'image/png' }, body: goodPng });
      expect(next.status).toBe(200);
      expect(next.body.equals(expectedMask)).toBe(true);
      // The same connection was used again unless the server asked to close it.
      if (answer.headers.connection !== 'close' && !(hostile.code === undefined && hostile.status !== 200)) expect(next.reusedSocket).toBe(true);
    } finally {
      agent.destroy();
    }
  });

  const rawExchange = (text: string) =>
    new Promise<string>((resolve, reject) => {
      const socket = connect(server.port, '127.0.0.1', () => socket.write(text));
      let answer = '';
      socket.on('data', (chunk) => (answer += chunk.toString()));
      socket.on('end', () => resolve(answer));
      socket.on('error', reject);
    });

  it.each([
    ['a malformed header line', 'GET /healthz HTTP/1.1\r\nHost: x\r\nBad Header Line\r\n\r\n', 400, 'Bad Request', 'E_BAD_REQUEST'],
    ['32 KiB of headers', `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(32 * 1024)}\r\n\r\n`, 431, 'Request Header Fields Too Large', 'E_HEADERS_TOO_LARGE'],
  ] as const)('answers %s with a problem JSON and closes, and keeps serving', async (_name, text, status, title, code) => {
    const raw = await rawExchange(text);
    expect(raw.startsWith(`HTTP/1.1 ${status} ${title}\r\n`)).toBe(true);
    expect(raw).toMatch(/content-type: application\/problem\+json/i);
    expect(raw).toMatch(/connection: close/i);
    expect(JSON.parse(raw.slice(raw.indexOf('\r\n\r\n') + 4))).toMatchObject({ status, code });
    expect((await send(server.url, undefined, { path: '/healthz' })).status).toBe(200);
  });

  it('labels each route in the metrics, and logs no stack for the corpus', async () => {
    const metrics = (await send(server.url, undefined, { path: '/metrics' })).body.toString();
    expect(metrics).toMatch(/emseg_http_requests_total\{[^}]*route="\/healthz"/);
    expect(metrics).toMatch(/route="\/v1\/segment"/);
    expect(metrics).not.toMatch(/route="\/\*",method="GET",status="200"[^\n]*\n[^\n]*route="\/\*"/);
    expect(log.lines.filter((line) => line.startsWith('error'))).toEqual([]);
  });
});
