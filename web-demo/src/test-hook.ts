/**
 * `window.emsegDemo`: a small hook for the browser tests (and for curious users in the console).
 * It reads the page's state and runs the downloaded model raw on a chosen provider, so a test can
 * compare WebGPU with WASM on the same input. It changes nothing on the page.
 *
 *   await emsegDemo.ready()                      // resolves when the model is loaded (or failed)
 *   emsegDemo.provider()                         // { name: 'webgpu' | 'wasm', label, failures, alternative, warmupMs }
 *   emsegDemo.model()                            // { file, name, version, precision: 'int8' | 'fp32', sha256, threshold, tile, halo } of the model that runs
 *   emsegDemo.maskBase64()                       // current slice's mask, width*height bytes, base64
 *   emsegDemo.probabilityBase64()                // current slice's probability, float32 little-endian, base64
 *   await emsegDemo.runRaw('webgpu', [..], 1, 64, 64)  // model output (number[]) on that provider only
 *   emsegDemo.timings()                          // { step: ms }
 */
import type { SliceResult } from './segment.ts';
import type { Precision } from './page-options.ts';
import { createSession, runRaw, type ChosenSession, type ProviderName } from './runtime.ts';

/** The model file the page runs, and the card values it runs with. */
export interface RunningModel {
  /** Path in the build, e.g. model/isbi2012-unet.int8.onnx. */
  file: string;
  name: string;
  version: string;
  precision: Precision;
  sha256: string;
  threshold: number;
  tile: number;
  halo: number;
}

export interface TestHookSources {
  modelBytes: () => Uint8Array | undefined;
  provider: () => { name: ProviderName; label: string; failures: string[]; alternative: ProviderName | undefined; warmupMs: number } | undefined;
  model: () => RunningModel | undefined;
  result: () => SliceResult | undefined;
  timings: () => Record<string, number>;
}

export interface EmsegDemoHook {
  state: () => string | undefined;
  provider: TestHookSources['provider'];
  model: TestHookSources['model'];
  timings: TestHookSources['timings'];
  /** Size and base64 bytes of the current slice's mask, or undefined before a result. */
  maskBase64: () => { width: number; height: number; threshold: number; base64: string } | undefined;
  /** The current slice's probability map as float32 (little-endian) bytes in base64. */
  probabilityBase64: () => { width: number; height: number; base64: string } | undefined;
  runRaw: (provider: ProviderName, input: number[], n: number, height: number, width: number) => Promise<{ label: string; output: number[] }>;
}

declare global {
  interface Window {
    emsegDemo?: EmsegDemoHook;
  }
}

function toBase64(bytes: Uint8Array): string {
  let text = '';
  for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(text);
}

export function installTestHook(sources: TestHookSources): void {
  const sessions = new Map<ProviderName, Promise<ChosenSession>>();
  window.emsegDemo = {
    state: () => document.body.dataset.state,
    provider: sources.provider,
    model: sources.model,
    timings: sources.timings,
    maskBase64: () => {
      const result = sources.result();
      if (!result) return undefined;
      return { width: result.mask.width, height: result.mask.height, threshold: result.threshold, base64: toBase64(result.mask.data) };
    },
    probabilityBase64: () => {
      const result = sources.result();
      if (!result) return undefined;
      const { width, height, data } = result.probability;
      return { width, height, base64: toBase64(new Uint8Array(data.buffer, data.byteOffset, data.byteLength)) };
    },
    runRaw: async (provider, input, n, height, width) => {
      const bytes = sources.modelBytes();
      if (!bytes) throw new Error('emsegDemo.runRaw: the model is not loaded yet');
      let session = sessions.get(provider);
      if (!session) {
        session = createSession(bytes, provider);
        sessions.set(provider, session);
      }
      const chosen = await session;
      const output = await runRaw(chosen.session, Float32Array.from(input), n, height, width);
      return { label: chosen.label, output: Array.from(output) };
    },
  };
}
