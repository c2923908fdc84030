/**
 * Execution-provider selection: parsing EMSEG_EP, and falling back from CUDA (absent on this
 * machine: onnxruntime-node's CPU binary has no CUDA provider libraries) to the CPU with a warning
 * that says which provider failed and why.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmsegError } from '../core/errors.ts';
import { createSessionWithFallback, knownProviders, parseProviders } from '../node/onnx-providers.ts';
import { loadOnnxModel } from '../node/load-onnx-model.ts';
import { encodePng } from '../node/png.ts';
import { patternImage } from './serve-fixtures.ts';
import { tinyUNetOnnx, type TinyUNetOnnx } from './helpers/tiny-unet-onnx.ts';

let tiny: TinyUNetOnnx;

beforeAll(async () => {
  tiny = await tinyUNetOnnx({ depth: 2, baseFilters: 4 });
});

describe('parseProviders', () => {
  it('defaults to auto (cuda, then cpu) and normalizes the list', () => {
    expect(parseProviders(undefined)).toEqual(['cuda', 'cpu']);
    expect(parseProviders(' Auto ')).toEqual(['cuda', 'cpu']);
    expect(parseProviders(' CUDA , cpu,cpu ')).toEqual(['cuda', 'cpu']);
    expect(parseProviders(['cpu'])).toEqual(['cpu']);
  });

  it('refuses unknown names and empty lists, listing the valid ones', () => {
    const error = (() => {
      try {
        parseProviders('cuda,rocm,npu', 'EMSEG_EP');
      } catch (caught) {
        return caught;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(EmsegError);
    expect((error as EmsegError).code).toBe('E_BAD_ARGUMENT');
    expect((error as EmsegError).message).toContain('EMSEG_EP');
    expect((error as EmsegError).message).toContain('"rocm", "npu"');
    for (const name of knownProviders()) expect((error as EmsegError).message).toContain(name);
    expect(() => parseProviders(' , ')).toThrow(/EMSEG_EP: expected a comma-separated list/);
  });
});

describe('session creation with fallback', () => {
  const loaded: { close: () => Promise<void> }[] = [];
  afterAll(async () => {
    for (const model of loaded) await model.close();
  });

  it('asked for cuda,cpu on a machine without CUDA, starts on the CPU with one calm warning saying why', async () => {
    const warnings: string[] = [];
    const details: string[] = [];
    const model = await loadOnnxModel(tiny.path, { providers: 'cuda,cpu', log: (message) => warnings.push(message), debug: (message) => details.push(message) });
    loaded.push(model);
    expect(model.provider).toBe('cpu');
    expect(model.failures.map((failure) => failure.provider)).toEqual(['cuda']);
    expect(model.failures[0]!.message).toMatch(/Failed to load shared library.*deploy\/fetch-onnxruntime-cuda\.js/);
    expect(warnings).toEqual([`execution provider cuda failed for ${tiny.path}: its provider libraries are not installed (see serve/README.md); falling back to cpu`]);
    // The whole error, with what to install, is kept for the debug log.
    expect(details).toEqual([`execution provider cuda for ${tiny.path}: ${model.failures[0]!.message}`]);
    const out = await model.predictor(new Float32Array(2 * 16 * 32), 2, 16, 32);
    expect(out).toHaveLength(2 * 16 * 32);
  });

  it('prints one warning line and nothing from onnxruntime itself on a CPU machine (a real process: onnxruntime writes to fd 2)', async () => {
    const out = join(tmpdir(), `emseg-calm-${process.pid}.png`);
    const slice = join(tmpdir(), `emseg-calm-${process.pid}-in.png`);
    writeFileSync(slice, await encodePng(patternImage(64, 48)));
    const env = { ...process.env, EMSEG_DEBUG: '' };
    const run = spawnSync(process.execPath, ['bin/emseg.js', 'predict', slice, '-o', out, '--model', tiny.path, '--ep', 'cuda,cpu'], { encoding: 'utf8', env });
    expect(run.status, run.stderr).toBe(0);
    const lines = run.stderr.trim().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^emseg: warning: execution provider cuda failed for .*: its provider libraries are not installed \(see serve\/README\.md\); falling back to cpu$/);
    expect(lines[1]).toMatch(/ on cpu: \S+\.onnx$/);
    expect(lines[2]).toMatch(/^pixel size: .* states none, not rescaled/);
    expect(run.stderr).not.toContain('\x1b');
  });

  it('by default (auto: nothing asked, or EMSEG_EP=auto) starts on the CPU without a word about CUDA (issue 23, item 7)', async () => {
    const saved = process.env['EMSEG_EP'];
    try {
      for (const value of [undefined, 'auto']) {
        if (value === undefined) delete process.env['EMSEG_EP'];
        else process.env['EMSEG_EP'] = value;
        const warnings: string[] = [];
        const details: string[] = [];
        const model = await loadOnnxModel(tiny.path, { log: (message) => warnings.push(message), debug: (message) => details.push(message) });
        loaded.push(model);
        expect(model.provider).toBe('cpu');
        expect(model.failures.map((failure) => failure.provider)).toEqual(['cuda']);
        expect(warnings).toEqual([]);
        expect(details).toHaveLength(1); // EMSEG_DEBUG still shows why
      }
    } finally {
      if (saved === undefined) delete process.env['EMSEG_EP'];
      else process.env['EMSEG_EP'] = saved;
    }
  });

  it('reports every failure when no provider works', async () => {
    const warnings: string[] = [];
    const attempt = createSessionWithFallback(tiny.bytes, ['cuda', 'tensorrt'], { what: 'tiny.onnx', log: (m) => warnings.push(m) });
    await expect(attempt).rejects.toMatchObject({ code: 'E_BACKEND' });
    await expect(attempt).rejects.toThrow(/tiny\.onnx: no execution provider could run it \(cuda: .+; tensorrt: .+\)/);
    expect(warnings).toHaveLength(2);
    expect(warnings[1]).toContain('no provider left');
  });

  it('reads EMSEG_EP when no providers are given', async () => {
    const saved = process.env['EMSEG_EP'];
    process.env['EMSEG_EP'] = 'cpu';
    try {
      const warnings: string[] = [];
      const model = await loadOnnxModel(tiny.path, { log: (m) => warnings.push(m) });
      loaded.push(model);
      expect(model.provider).toBe('cpu');
      expect(warnings).toEqual([]);
      process.env['EMSEG_EP'] = 'gpu';
      await expect(loadOnnxModel(tiny.path)).rejects.toThrow(/EMSEG_EP: unknown execution provider "gpu"/);
    } finally {
      if (saved === undefined) delete process.env['EMSEG_EP'];
      else process.env['EMSEG_EP'] = saved;
    }
  });
});
