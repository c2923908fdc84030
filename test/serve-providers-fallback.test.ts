/**
 * The server as deployed: `emseg serve`'s configuration with EMSEG_EP=cuda,cpu on a machine
 * without CUDA starts on the CPU, logs a warning saying why, and reports the provider on /readyz,
 * /v1/model, the response header and /metrics. A model that cannot be loaded leaves /readyz at 503.
 */
import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import { encodePng } from '../node/png.ts';
import { resolveServeConfig } from '../serve/config.ts';
import { startServer } from '../serve/server.ts';
import { tinyUNetOnnx } from './helpers/tiny-unet-onnx.ts';
import { captureLog, patternImage } from './serve-fixtures.ts';

describe('startServer with the configured model loader', () => {
  it('falls back from cuda to cpu with a warning and reports the provider everywhere', async () => {
    const tiny = await tinyUNetOnnx({ depth: 2, baseFilters: 4 });
    const log = captureLog();
    const config = resolveServeConfig({ EMSEG_EP: 'cuda,cpu', EMSEG_MODEL: tiny.path, HOST: '127.0.0.1', PORT: '0' });
    const server = await startServer(config, { log, processMetrics: false });
    try {
      const model = await server.emseg.ready;
      expect(model.provider).toBe('cpu');
      expect(log.lines.join('\n')).toMatch(/warn execution provider cuda failed .*falling back to cpu/);
      const ready = (await (await fetch(`${server.url}/readyz`)).json()) as { provider: string };
      expect(ready.provider).toBe('cpu');
      const info = (await (await fetch(`${server.url}/v1/model`)).json()) as { provider: string; card: { name: string }; batching: { concurrentRuns: number } };
      expect(info).toMatchObject({ provider: 'cpu', card: { name: tiny.card.name } });
      // auto plan on the CPU provider: two single-model workers (one on a one-core machine)
      expect(info.batching.concurrentRuns).toBe(Math.min(2, availableParallelism()));
      expect(log.lines.join('\n')).toMatch(/inference: \d worker\(s\) on cpu/);
      const png = (await encodePng(patternImage(40, 36))) as Uint8Array<ArrayBuffer>;
      const answer = await fetch(`${server.url}/v1/segment`, { method: 'POST', body: png, headers: { 'Content-Type': 'image/png' } });
      expect(answer.status).toBe(200);
      expect(answer.headers.get('x-emseg-provider')).toBe('cpu');
      expect(answer.headers.get('server-timing')).toMatch(/infer;dur=\d/);
      expect(await (await fetch(`${server.url}/metrics`)).text()).toMatch(/emseg_execution_provider\{provider="cpu"\} 1/);
    } finally {
      await server.shutdown('test over');
    }
  });

  it('stays alive but not ready when the model file is missing, and logs why', async () => {
    const log = captureLog();
    const config = resolveServeConfig({ EMSEG_EP: 'cpu', EMSEG_MODEL: '/nonexistent/model.onnx', HOST: '127.0.0.1', PORT: '0' });
    const server = await startServer(config, { log, processMetrics: false });
    try {
      await expect(server.emseg.ready).rejects.toThrow(/no such model file/);
      expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
      const ready = await fetch(`${server.url}/readyz`);
      expect(ready.status).toBe(503);
      expect(await ready.text()).not.toMatch(/nonexistent/);
      expect(log.lines.join('\n')).toMatch(/model failed to load.*no such model file/s);
    } finally {
      await server.shutdown('test over');
    }
  });
});
