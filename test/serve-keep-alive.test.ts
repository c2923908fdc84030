/**
 * Keep-alive safety and admission before buffering, on a real server on 127.0.0.1 with a real
 * keep-alive client: an answer sent before the body was read closes the connection, so a slow
 * next request is not lost; bodies in flight are capped (503 + Retry-After before reading);
 * a client that hangs up mid-upload is one info line; a shutdown that cuts requests off says so.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Agent, request, type ClientRequest } from 'node:http';
import { connect, type Socket } from 'node:net';
import type { HttpTimeouts } from '../serve/http-hardening.ts';
import { encodePng } from '../node/png.ts';
import { DEFAULT_SERVE_CONFIG, type ServeConfig } from '../serve/config.ts';
import { startServer, type RunningServer } from '../serve/server.ts';
import { captureLog, fakeModel, patternImage, type CapturedLog } from './serve-fixtures.ts';

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

function send(url: string, agent: Agent | false, options: { method?: string; path?: string; headers?: Record<string, string>; body?: Uint8Array }): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}${options.path ?? '/v1/segment'}`, { method: options.method ?? 'POST', agent, headers: options.headers ?? {} }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

const servers: RunningServer[] = [];
async function start(config: Partial<ServeConfig>, delayMs = 0, httpTimeouts?: HttpTimeouts): Promise<{ server: RunningServer; log: CapturedLog }> {
  const log = captureLog();
  const server = await startServer(
    { ...DEFAULT_SERVE_CONFIG, host: '127.0.0.1', port: 0, webRoot: '/nonexistent', ...config },
    { log, processMetrics: false, loadModel: async () => fakeModel({ delayMs }), ...(httpTimeouts ? { httpTimeouts } : {}) },
  );
  servers.push(server);
  await server.emseg.ready;
  return { server, log };
}
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.shutdown('test over')));
});

const png = await encodePng(patternImage(96, 80));

describe('keep-alive safety', () => {
  it('does not lose a slow request sent after an early answer on the same keep-alive agent', async () => {
    // Each tile call takes 900 ms: the good request takes longer than the adapter's 500 ms drain.
    const { server } = await start({}, 900);
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const early = await send(server.url, agent, { headers: { 'Content-Type': 'text/plain' }, body: new Uint8Array(4 * 1024 * 1024) });
      expect(early.status).toBe(415);
      expect(early.headers.connection).toBe('close');
      const slow = await send(server.url, agent, { headers: { 'Content-Type': 'image/png' }, body: png });
      expect(slow.status).toBe(200);
      // A request whose body was read keeps its connection open.
      expect(slow.headers.connection).toBe('keep-alive');
    } finally {
      agent.destroy();
    }
  });
});

describe('keep-alive safety when the event loop stalls', () => {
  it('does not lose the next request after an early answer and a 800 ms stall (the loss of issue 16)', async () => {
    // The server runs in this process: blocking this thread stalls its event loop as a loaded
    // server's would. Without `Connection: close`, the adapter's 500 ms drain timer fires first
    // after the stall and destroys the connection the agent has just reused: ECONNRESET.
    const { server } = await start({});
    for (const size of [200_000, 2_000_000]) {
      const agent = new Agent({ keepAlive: true, maxSockets: 1 });
      try {
        const early = await new Promise<number>((resolve, reject) => {
          const req = request(`${server.url}/v1/segment`, { method: 'POST', agent, headers: { 'Content-Type': 'text/plain' } }, (res) => {
            res.resume();
            res.on('end', () => {
              const until = Date.now() + 800;
              while (Date.now() < until); // the stall
              resolve(res.statusCode!);
            });
          });
          req.on('error', reject);
          req.end(new Uint8Array(size));
        });
        expect(early).toBe(415);
        const next = await send(server.url, agent, { headers: { 'Content-Type': 'image/png' }, body: png });
        expect(next.status).toBe(200);
      } finally {
        agent.destroy();
      }
    }
  });
});

describe('admission before buffering', () => {
  it('answers 503 with Retry-After before reading a body that would go over the bodies cap; hang-ups are info lines', async () => {
    const { server, log } = await start({ maxBodiesBytes: 3_000_000, maxBodyBytes: 2_000_000 });
    // Two uploads that announce 1.4 MB each and stall after 64 KiB hold 2.8 MB of the 3 MB.
    const stalled: ClientRequest[] = [];
    const hungUp: Promise<unknown>[] = [];
    for (let i = 0; i < 2; i += 1) {
      const req = request(`${server.url}/v1/segment`, { method: 'POST', agent: false, headers: { 'Content-Type': 'image/tiff', 'Content-Length': '1400000' } });
      hungUp.push(new Promise((resolve) => req.on('error', resolve).on('close', resolve)));
      req.write(new Uint8Array(65536));
      stalled.push(req);
    }
    await expect.poll(() => server.emseg.bodyBudget.reserved, { timeout: 5000 }).toBe(2_800_000);
    const refused = await send(server.url, false, { headers: { 'Content-Type': 'image/png' }, body: new Uint8Array(300_000) });
    expect(refused.status).toBe(503);
    expect(refused.headers['retry-after']).toMatch(/^\d+$/);
    expect(refused.headers.connection).toBe('close');
    expect(JSON.parse(refused.body.toString())).toMatchObject({ code: 'E_BODIES_FULL' });
    // A small request still fits.
    expect((await send(server.url, false, { headers: { 'Content-Type': 'image/png' }, body: png })).status).toBe(200);

    for (const req of stalled) req.destroy();
    await Promise.all(hungUp);
    await expect.poll(() => server.emseg.bodyBudget.reserved, { timeout: 5000 }).toBe(0);
    await expect.poll(() => log.lines.filter((line) => line.includes('closed the connection')).length, { timeout: 5000 }).toBe(2);
    expect(log.lines.filter((line) => line.startsWith('error'))).toEqual([]);
    expect((await send(server.url, false, { headers: { 'Content-Type': 'image/png' }, body: new Uint8Array(300_000) })).status).toBe(415);
  });
});

describe('the body budget when a request times out (issue 26, item 1)', () => {
  it('releases the reservations of stalled chunked uploads at their 408, although their clients keep the sockets open', async () => {
    const { server } = await start({ maxBodiesBytes: 4_000_000, maxBodyBytes: 1_000_000 }, 0, {
      headersTimeoutMs: 400,
      requestTimeoutMs: 800,
      keepAliveTimeoutMs: 500,
      checkIntervalMs: 100,
    });
    const { port } = new URL(server.url);
    // Four chunked uploads (each reserves the largest body, 1 MB) send one chunk and then nothing,
    // and keep their sockets open even after the server's FIN (allowHalfOpen): the whole budget is held.
    const sockets: Socket[] = [];
    const answers: Promise<string>[] = [];
    for (let i = 0; i < 4; i += 1) {
      const socket = connect({ port: Number(port), host: '127.0.0.1', allowHalfOpen: true });
      sockets.push(socket);
      let text = '';
      socket.on('data', (chunk) => (text += chunk.toString()));
      answers.push(new Promise((resolve) => socket.on('end', () => resolve(text)).on('error', () => undefined)));
      socket.write('POST /v1/segment HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\nTransfer-Encoding: chunked\r\n\r\n400\r\n');
      socket.write(Buffer.alloc(0x400));
      socket.write('\r\n');
    }
    await expect.poll(() => server.emseg.bodyBudget.reserved, { timeout: 5000 }).toBe(4_000_000);
    const refused = await send(server.url, false, { headers: { 'Content-Type': 'image/png' }, body: png });
    expect(refused.status).toBe(503);
    expect(JSON.parse(refused.body.toString())).toMatchObject({ code: 'E_BODIES_FULL' });
    // Counted under its route, not as an unmatched path (issue 26, item 7).
    expect(await server.emseg.metrics.registry.metrics()).toMatch(/emseg_http_requests_total\{route="\/v1\/segment",method="POST",status="503"\} 1\n/);
    // At their request timeout each gets its 408 and the server closes the connection itself.
    for (const text of await Promise.all(answers)) expect(text).toMatch(/^HTTP\/1\.1 408 /);
    await expect.poll(() => server.emseg.bodyBudget.reserved, { timeout: 5000 }).toBe(0);
    expect((await send(server.url, false, { headers: { 'Content-Type': 'image/png' }, body: png })).status).toBe(200);
    for (const socket of sockets) socket.destroy();
  });
});

describe('shutdown', () => {
  it('reports the requests cut off when the grace runs out', async () => {
    const { server } = await start({ shutdownGraceMs: 100 }, 1500);
    const inFlight = send(server.url, false, { headers: { 'Content-Type': 'image/png' }, body: png }).catch((error: unknown) => error);
    await expect.poll(() => server.emseg.lifecycle.inFlight).toBe(1);
    await server.shutdown('test');
    expect(server.dropped).toBe(1);
    await inFlight;
  });

  it('reports nothing dropped after a clean drain', async () => {
    const { server } = await start({ shutdownGraceMs: 5000 });
    expect((await send(server.url, false, { headers: { 'Content-Type': 'image/png' }, body: png })).status).toBe(200);
    await server.shutdown('test');
    expect(server.dropped).toBe(0);
  });
});
