/**
 * Memory given back after big requests (serve/memory-return.ts, node/inference-worker.ts): the
 * arena setting reaches the sessions, an idle session is released and made again (same outputs, a
 * call during the swap waits for it), and the server says at start-up what keeps memory.
 */
import { rm } from 'node:fs/promises';
import { beforeAll, describe, expect, it } from 'vitest';
import { resolveServeConfig } from '../serve/config.ts';
import { GLIBC_MEMORY_RETURN_ENV, memoryReturnNotes, sessionMemoryOptions } from '../serve/memory-return.ts';
import { loadOnnxModelInWorker } from '../node/worker-model.ts';
import { tinyUNetOnnx } from './helpers/tiny-unet-onnx.ts';

const tiles = (n: number, size: number) => Float32Array.from({ length: n * size * size }, (_, i) => Math.cos(i / 53) * 2);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('memory settings', () => {
  it('keeps the arena by default, releases idle sessions after 10 s, and reads both settings', () => {
    const config = resolveServeConfig({});
    expect(config.memoryArena).toBe(1);
    expect(config.idleReleaseMs).toBe(10_000);
    expect(sessionMemoryOptions(config.memoryArena)).toEqual({ enableCpuMemArena: true, enableMemPattern: true });
    expect(sessionMemoryOptions(resolveServeConfig({ EMSEG_MEMORY_ARENA: '0' }).memoryArena)).toEqual({ enableCpuMemArena: false, enableMemPattern: false });
    expect(resolveServeConfig({ EMSEG_MEMORY_ARENA: '0' }, { memoryArena: '1' }).memoryArena).toBe(1);
    expect(resolveServeConfig({ EMSEG_IDLE_RELEASE_MS: '0' }).idleReleaseMs).toBe(0);
  });

  it('refuses other values, naming the variable or flag', () => {
    expect(() => resolveServeConfig({ EMSEG_MEMORY_ARENA: '2' })).toThrow(/EMSEG_MEMORY_ARENA/);
    expect(() => resolveServeConfig({ EMSEG_MEMORY_ARENA: 'yes' })).toThrow(/EMSEG_MEMORY_ARENA/);
    expect(() => resolveServeConfig({}, { idleReleaseMs: '-1' })).toThrow(/--idle-release-ms/);
    expect(() => resolveServeConfig({ EMSEG_IDLE_RELEASE_MS: '0x10' })).toThrow(/EMSEG_IDLE_RELEASE_MS/);
  });

  it('says at start-up what keeps memory, and nothing when everything is set for giving it back', () => {
    const defaults = resolveServeConfig({});
    expect(memoryReturnNotes(defaults, {}, 'linux')).toEqual([expect.stringMatching(/MALLOC_MMAP_THRESHOLD_=1048576 is not set/)]);
    expect(memoryReturnNotes(defaults, { MALLOC_MMAP_THRESHOLD_: '' }, 'linux')).toHaveLength(1);
    expect(memoryReturnNotes(defaults, { ...GLIBC_MEMORY_RETURN_ENV }, 'linux')).toEqual([]);
    expect(memoryReturnNotes(defaults, {}, 'darwin')).toEqual([]);
    expect(memoryReturnNotes({ memoryArena: 1, idleReleaseMs: 0 }, { ...GLIBC_MEMORY_RETURN_ENV }, 'linux')).toEqual([expect.stringMatching(/EMSEG_IDLE_RELEASE_MS=0/)]);
    expect(memoryReturnNotes({ memoryArena: 0, idleReleaseMs: 0 }, { ...GLIBC_MEMORY_RETURN_ENV }, 'linux')).toEqual([]);
  });
});

describe('an idle session is released and made again', () => {
  let path: string;
  beforeAll(async () => {
    path = (await tinyUNetOnnx({ depth: 2, baseFilters: 4 })).path;
  });

  it('after idleReleaseMs without a call, with the same outputs after; never while calls run', async () => {
    let releases = 0;
    const model = await loadOnnxModelInWorker(path, { providers: 'cpu', idleReleaseMs: 400, onIdleRelease: () => (releases += 1) });
    try {
      const input = tiles(2, 64);
      const before = await model.predictor(input, 2, 64, 64);
      // Calls closer together than idleReleaseMs: no release.
      for (let i = 0; i < 4; i++) {
        await sleep(20);
        await model.predictor(input, 2, 64, 64);
      }
      expect(releases).toBe(0);
      await sleep(1500);
      expect(releases).toBe(1); // once per idle period, not every 400 ms
      expect(Array.from(await model.predictor(input, 2, 64, 64))).toEqual(Array.from(before));
      // A call arriving about when the session is released and made again gets the same output.
      await sleep(390);
      const during = await model.predictor(input, 2, 64, 64);
      expect(Array.from(during)).toEqual(Array.from(before));
    } finally {
      await model.close();
    }
  });

  it('keeps the old session when a new one cannot be made (the file is gone), and says so', async () => {
    const copy = (await tinyUNetOnnx({ depth: 2, baseFilters: 4, seed: 7 })).path;
    const logs: string[] = [];
    let releases = 0;
    const model = await loadOnnxModelInWorker(copy, { providers: 'cpu', idleReleaseMs: 100, log: (m) => logs.push(m), onIdleRelease: () => (releases += 1) });
    try {
      const input = tiles(1, 64);
      const before = await model.predictor(input, 1, 64, 64);
      await rm(copy);
      await sleep(1000);
      expect(releases).toBe(0);
      expect(logs.some((m) => /idle session was kept/.test(m))).toBe(true);
      expect(Array.from(await model.predictor(input, 1, 64, 64))).toEqual(Array.from(before));
    } finally {
      await model.close();
    }
  });

  it('never, with idleReleaseMs 0', async () => {
    let releases = 0;
    const model = await loadOnnxModelInWorker(path, { providers: 'cpu', idleReleaseMs: 0, onIdleRelease: () => (releases += 1) });
    try {
      await model.predictor(tiles(1, 64), 1, 64, 64);
      await sleep(300);
      expect(releases).toBe(0);
    } finally {
      await model.close();
    }
  });
});

