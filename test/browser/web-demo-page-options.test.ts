/**
 * The web demo's URL options (no browser): defaults, each option read, a bad value named in one
 * line, the provider switch's URL keeping the other options.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_SESSION_OPTIONS, describeOverrides, ortSessionOptions, parsePageOptions, withPrecision, withProvider } from '../../web-demo/src/page-options.ts';

describe('web demo page options', () => {
  it('defaults: provider chosen by the page, session defaults, warm-up on the tile, plain build', () => {
    const options = parsePageOptions('');
    expect(options).toEqual({ provider: 'auto', threads: undefined, session: DEFAULT_SESSION_OPTIONS, warmupSize: undefined, wasmBuild: 'plain', precision: 'auto' });
    expect(describeOverrides(options)).toEqual([]);
  });

  it('turns the page options into onnxruntime-web session options', () => {
    expect(ortSessionOptions('wasm', DEFAULT_SESSION_OPTIONS)).toEqual({
      executionProviders: ['wasm'],
      graphOptimizationLevel: 'all',
      enableCpuMemArena: true,
      enableMemPattern: true,
      executionMode: 'sequential',
      extra: { session: { 'intra_op.allow_spinning': '1' } },
    });
    const custom = parsePageOptions('?opt=basic&arena=0&memPattern=0&mode=parallel&spin=0').session;
    expect(ortSessionOptions('webgpu', custom)).toEqual({
      executionProviders: ['webgpu'],
      graphOptimizationLevel: 'basic',
      enableCpuMemArena: false,
      enableMemPattern: false,
      executionMode: 'parallel',
      extra: { session: { 'intra_op.allow_spinning': '0' } },
    });
  });

  it('reads every option', () => {
    const options = parsePageOptions('?provider=wasm&threads=2&opt=basic&arena=0&memPattern=0&mode=parallel&spin=0&warmup=64&build=jsep&precision=fp32');
    expect(options).toEqual({
      provider: 'wasm',
      threads: 2,
      session: { graphOptimizationLevel: 'basic', enableCpuMemArena: false, enableMemPattern: false, executionMode: 'parallel', allowSpinning: false },
      warmupSize: 64,
      wasmBuild: 'jsep',
      precision: 'fp32',
    });
    expect(describeOverrides(options)).toEqual(['opt=basic', 'arena=0', 'memPattern=0', 'mode=parallel', 'spin=0', 'warmup=64', 'build=jsep', 'precision=fp32']);
    expect(parsePageOptions('?provider=webgpu').provider).toBe('webgpu');
    expect(parsePageOptions('?precision=int8').precision).toBe('int8');
    expect(parsePageOptions('?precision=auto').precision).toBe('auto');
  });

  it('names the parameter, what it takes and what it got', () => {
    expect(() => parsePageOptions('?provider=webgl')).toThrow('?provider: expected auto or wasm or webgpu, found "webgl"');
    expect(() => parsePageOptions('?threads=0')).toThrow('?threads: expected an integer from 1 to 16, found "0"');
    expect(() => parsePageOptions('?threads=')).toThrow('?threads: expected an integer from 1 to 16, found ""');
    expect(() => parsePageOptions('?arena=yes')).toThrow('?arena: expected 0 or 1, found "yes"');
    expect(() => parsePageOptions('?warmup=-1')).toThrow(/^\?warmup: expected an integer from 0 to 4096/);
    expect(() => parsePageOptions('?precision=float16')).toThrow('?precision: expected auto or int8 or fp32, found "float16"');
    expect(() => parsePageOptions('?precision=INT8')).toThrow('?precision: expected auto or int8 or fp32, found "INT8"');
  });

  it('the switch URL forces the other provider and keeps the rest', () => {
    expect(withProvider('http://127.0.0.1:8787/demo/?threads=2', 'webgpu')).toBe('http://127.0.0.1:8787/demo/?threads=2&provider=webgpu');
    expect(withProvider('http://127.0.0.1:8787/?provider=webgpu&threads=2', 'wasm')).toBe('http://127.0.0.1:8787/?provider=wasm&threads=2');
  });

  it('the precision switch URL forces the other model and keeps the rest', () => {
    expect(withPrecision('http://127.0.0.1:8787/demo/?provider=wasm', 'fp32')).toBe('http://127.0.0.1:8787/demo/?provider=wasm&precision=fp32');
    expect(withPrecision('http://127.0.0.1:8787/?precision=fp32&threads=2', 'int8')).toBe('http://127.0.0.1:8787/?precision=int8&threads=2');
    expect(parsePageOptions(new URL(withPrecision('http://x/?threads=3', 'int8')).search)).toMatchObject({ precision: 'int8', threads: 3 });
  });
});
