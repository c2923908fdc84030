/**
 * The Node HTTP server's limits (serve/http-hardening.ts): set deliberately, and a request that
 * does not arrive in time, or that Node's parser refuses, is answered as problem JSON.
 */
import { createServer } from 'node:http';
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { HTTP_TIMEOUTS, hardenHttpServer } from '../serve/http-hardening.ts';

const servers: ReturnType<typeof createServer>[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

async function listen(timeouts = HTTP_TIMEOUTS) {
  const server = createServer({ connectionsCheckingInterval: 100 }, (_req, res) => res.end('ok'));
  servers.push(server);
  hardenHttpServer(server, timeouts);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as { port: number }).port };
}

describe('hardenHttpServer', () => {
  it('sets the headers, request and keep-alive timeouts', async () => {
    const { server } = await listen();
    expect([server.headersTimeout, server.requestTimeout, server.keepAliveTimeout]).toEqual([20_000, 120_000, 65_000]);
    expect(server.headersTimeout).toBeLessThan(server.requestTimeout);
  });

  it('answers headers that never finish (slowloris) with 408 problem JSON and closes', async () => {
    const { port } = await listen({ headersTimeoutMs: 300, requestTimeoutMs: 600, keepAliveTimeoutMs: 200, checkIntervalMs: 100 });
    const started = performance.now();
    const raw = await new Promise<string>((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => socket.write('GET / HTTP/1.1\r\nHost: x\r\nX-Slow: a'));
      let text = '';
      socket.on('data', (chunk) => (text += chunk.toString()));
      socket.on('end', () => resolve(text));
      socket.on('error', reject);
    });
    expect(performance.now() - started).toBeLessThan(3000);
    expect(raw.startsWith('HTTP/1.1 408 Request Timeout\r\n')).toBe(true);
    expect(JSON.parse(raw.slice(raw.indexOf('\r\n\r\n') + 4))).toMatchObject({ status: 408, code: 'E_REQUEST_TIMEOUT' });
  });
});
