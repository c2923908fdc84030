/**
 * The web demo's provider choice (no browser): WebGPU on a hardware adapter, WASM with a reason on
 * a software adapter (SwiftShader, or one the browser marks as its fallback adapter) or without
 * WebGPU, and a forced provider as asked; the other provider is offered whenever the browser has it.
 */
import { describe, expect, it } from 'vitest';
import { chooseProvider, describeAdapter, softwareAdapter, type AdapterFacts, type WebGpuProbe } from '../../web-demo/src/provider-choice.ts';

/** What headless Chromium 156 with --enable-unsafe-webgpu and no GPU reports (GPUAdapter.info). */
const SWIFTSHADER: AdapterFacts = { vendor: 'google', architecture: 'swiftshader', device: '', description: '', isFallbackAdapter: true };
/** SwiftShader in a browser that does not mark it as the fallback adapter. */
const SWIFTSHADER_UNMARKED: AdapterFacts = { ...SWIFTSHADER, isFallbackAdapter: false };
/** Older Chromium: requestAdapterInfo() names SwiftShader only in the description. */
const SWIFTSHADER_OLD: AdapterFacts = { vendor: '', architecture: '', description: 'Google SwiftShader' };
/** Another browser's software fallback, recognisable only by isFallbackAdapter. */
const FALLBACK: AdapterFacts = { vendor: 'mesa', architecture: 'llvmpipe', description: '', isFallbackAdapter: true };
const NVIDIA: AdapterFacts = { vendor: 'nvidia', architecture: 'ampere', device: '', description: '', isFallbackAdapter: false };
const APPLE: AdapterFacts = { vendor: 'apple', architecture: 'metal-3', description: '' };

const adapter = (facts: AdapterFacts): WebGpuProbe => ({ available: true, adapter: facts });
const none: WebGpuProbe = { available: false, reason: 'this browser has no WebGPU (navigator.gpu is missing)' };

describe('web demo provider choice', () => {
  it('recognises software adapters by name or by the fallback flag, and hardware ones as hardware', () => {
    expect(softwareAdapter(SWIFTSHADER)).toBe('SwiftShader');
    expect(softwareAdapter(SWIFTSHADER_UNMARKED)).toBe('SwiftShader');
    expect(softwareAdapter(SWIFTSHADER_OLD)).toBe('SwiftShader');
    expect(softwareAdapter(FALLBACK)).toBe('mesa llvmpipe');
    expect(softwareAdapter({ isFallbackAdapter: true })).toBe('a fallback adapter');
    expect(softwareAdapter(NVIDIA)).toBeUndefined();
    expect(softwareAdapter(APPLE)).toBeUndefined();
    expect(softwareAdapter({})).toBeUndefined();
  });

  it('auto: WebGPU on a hardware adapter, offering WASM', () => {
    for (const facts of [NVIDIA, APPLE]) {
      expect(chooseProvider('auto', adapter(facts))).toEqual({ provider: 'webgpu', note: undefined, alternative: 'wasm' });
    }
    expect(describeAdapter(NVIDIA)).toBe('nvidia ampere');
  });

  it('auto: WASM on a software adapter, saying why, offering WebGPU', () => {
    expect(chooseProvider('auto', adapter(SWIFTSHADER))).toEqual({
      provider: 'wasm',
      note: 'WebGPU here is a software adapter (SwiftShader), slower than WASM: using WASM',
      alternative: 'webgpu',
    });
    expect(chooseProvider('auto', adapter(FALLBACK))).toMatchObject({ provider: 'wasm', note: expect.stringContaining('(mesa llvmpipe)'), alternative: 'webgpu' });
  });

  it('auto without WebGPU: WASM with the reason, nothing to offer', () => {
    expect(chooseProvider('auto', none)).toEqual({ provider: 'wasm', note: `WebGPU: ${none.available ? '' : none.reason}`, alternative: undefined });
  });

  it('a forced provider is used as asked, even a software WebGPU adapter', () => {
    expect(chooseProvider('webgpu', adapter(SWIFTSHADER))).toEqual({ provider: 'webgpu', note: undefined, alternative: 'wasm' });
    expect(chooseProvider('wasm', adapter(NVIDIA))).toEqual({ provider: 'wasm', note: undefined, alternative: 'webgpu' });
    expect(chooseProvider('wasm', none)).toEqual({ provider: 'wasm', note: undefined, alternative: undefined });
  });
});
