/**
 * Which execution provider the page runs, from what WebGPU offers: a hardware adapter runs
 * WebGPU; a software adapter (the browser's fallback adapter, or SwiftShader, Chromium's CPU
 * emulation of a GPU) is slower than WASM by far (39-51 s against 0.4-0.7 s per 512x512 slice on
 * the 2-core build machine, issue 15), so the page runs WASM and says why. Pure: adapter facts in,
 * the decision out; runtime.ts asks the browser for the facts.
 */
import type { ProviderName, ProviderRequest } from './page-options.ts';

/** What GPUAdapter.info (or the older requestAdapterInfo()) and isFallbackAdapter tell. */
export interface AdapterFacts {
  vendor?: string;
  architecture?: string;
  device?: string;
  description?: string;
  isFallbackAdapter?: boolean;
}

/** What asking the browser for a WebGPU adapter gave. */
export type WebGpuProbe = { available: true; adapter: AdapterFacts } | { available: false; reason: string };

export interface ProviderChoice {
  /** The provider to try first. */
  provider: ProviderName;
  /** One line for people when the choice is not the obvious one (why not WebGPU), else undefined. */
  note: string | undefined;
  /** The other provider the page can offer with one click, when this browser has it. */
  alternative: ProviderName | undefined;
}

/** "nvidia ampere", the adapter as people read it; undefined when it says nothing. */
export function describeAdapter(adapter: AdapterFacts): string | undefined {
  const text = [adapter.vendor, adapter.architecture, adapter.description].filter((part) => part && part.trim()).join(' ').trim();
  return text || undefined;
}

/** Why an adapter is a software one ("SwiftShader", "a fallback adapter"), or undefined for hardware. */
export function softwareAdapter(adapter: AdapterFacts): string | undefined {
  const text = [adapter.vendor, adapter.architecture, adapter.device, adapter.description].join(' ');
  if (/swiftshader/i.test(text)) return 'SwiftShader';
  if (adapter.isFallbackAdapter === true) return describeAdapter(adapter) ?? 'a fallback adapter';
  return undefined;
}

/**
 * The provider for a request: 'wasm' or 'webgpu' as asked; 'auto' runs WebGPU on a hardware
 * adapter and WASM otherwise, with a note saying why when WebGPU exists but is software.
 */
export function chooseProvider(request: ProviderRequest, probe: WebGpuProbe): ProviderChoice {
  const webgpuHere = probe.available;
  if (request === 'wasm') return { provider: 'wasm', note: undefined, alternative: webgpuHere ? 'webgpu' : undefined };
  if (request === 'webgpu') return { provider: 'webgpu', note: undefined, alternative: 'wasm' };
  if (!probe.available) return { provider: 'wasm', note: `WebGPU: ${probe.reason}`, alternative: undefined };
  const software = softwareAdapter(probe.adapter);
  if (software) {
    return { provider: 'wasm', note: `WebGPU here is a software adapter (${software}), slower than WASM: using WASM`, alternative: 'webgpu' };
  }
  return { provider: 'webgpu', note: undefined, alternative: 'wasm' };
}
