/**
 * onnxruntime-web for the demo: where the runtime files live, how many WASM threads, which
 * execution provider runs (WebGPU where the browser gives an adapter, WASM otherwise; every
 * failure on the way is kept and shown), and the session as a core TilePredictor.
 */
import * as ort from 'onnxruntime-web';
import { INPUT_NAME, OUTPUT_NAME } from '../../core/contract.ts';
import { EmsegError } from '../../core/errors.ts';
import type { TilePredictor } from '../../core/tiling.ts';

export type ProviderName = 'webgpu' | 'wasm';
/** 'auto' tries WebGPU, then WASM. */
export type ProviderRequest = ProviderName | 'auto';

export interface RuntimeInfo {
  /** Threads of the WASM provider (1 unless the page is cross-origin isolated). */
  wasmThreads: number;
  crossOriginIsolated: boolean;
  ortVersion: string;
  /**
   * Whether WASM inference runs in onnxruntime-web's proxy worker (so the page stays responsive
   * while the model runs). Decided at the first session: yes when that session is a WASM one.
   */
  workerProxy: boolean;
}

let configured: RuntimeInfo | undefined;
/** Set once the first InferenceSession.create was called: ort.env.wasm.proxy is fixed from then on. */
let ortStarted = false;

/**
 * Sets ort.env once, before the first session: runtime files from `<page>/ort/`, threads only
 * when the page is cross-origin isolated (SharedArrayBuffer needs COOP/COEP), at most 4.
 */
export function configureRuntime(): RuntimeInfo {
  if (configured) return configured;
  const isolated = globalThis.crossOriginIsolated === true;
  const cores = navigator.hardwareConcurrency || 1;
  const wasmThreads = isolated ? Math.max(1, Math.min(4, cores)) : 1;
  ort.env.wasm.wasmPaths = new URL('ort/', document.baseURI).href;
  ort.env.wasm.numThreads = wasmThreads;
  ort.env.logLevel = 'error';
  configured = { wasmThreads, crossOriginIsolated: isolated, ortVersion: ort.env.versions.web ?? 'unknown', workerProxy: false };
  return configured;
}

/**
 * Before the first session only: run WASM in ort's proxy worker when that first session is a WASM
 * one (the proxy cannot host WebGPU, and the setting cannot change once ort has started).
 */
function startOrt(provider: ProviderName): void {
  const info = configureRuntime();
  if (ortStarted) return;
  ortStarted = true;
  info.workerProxy = provider === 'wasm';
  ort.env.wasm.proxy = info.workerProxy;
}

export interface ChosenSession {
  session: ort.InferenceSession;
  provider: ProviderName;
  /** For people: e.g. "WebGPU (NVIDIA ...)" or "WASM, 4 threads". */
  label: string;
  /** Why earlier providers were not used, one line each. */
  failures: string[];
}

/** A reason WebGPU cannot be used here, or the adapter's description. */
async function probeWebGpu(): Promise<{ ok: true; description: string } | { ok: false; reason: string }> {
  const gpu = (navigator as Navigator & { gpu?: { requestAdapter: () => Promise<unknown> } }).gpu;
  if (!gpu) return { ok: false, reason: 'this browser has no WebGPU (navigator.gpu is missing)' };
  try {
    const adapter = (await gpu.requestAdapter()) as { info?: { vendor?: string; architecture?: string; description?: string } } | null;
    if (!adapter) return { ok: false, reason: 'WebGPU gives no adapter (no usable GPU or it is blocked)' };
    const info = adapter.info;
    const description = [info?.vendor, info?.architecture, info?.description].filter(Boolean).join(' ').trim();
    return { ok: true, description: description || 'adapter' };
  } catch (error) {
    return { ok: false, reason: `WebGPU adapter request failed (${(error as Error).message})` };
  }
}

function message(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0]!;
}

/** Creates a session on the first provider that works, in the order WebGPU, WASM (or only the one asked for). */
export async function createSession(model: Uint8Array, request: ProviderRequest = 'auto'): Promise<ChosenSession> {
  const info = configureRuntime();
  const order: ProviderName[] = request === 'auto' ? ['webgpu', 'wasm'] : [request];
  const failures: string[] = [];
  for (const provider of order) {
    let label: string;
    if (provider === 'webgpu') {
      const probe = await probeWebGpu();
      if (!probe.ok) {
        failures.push(`webgpu: ${probe.reason}`);
        continue;
      }
      label = `WebGPU (${probe.description})`;
    } else {
      label = info.wasmThreads > 1 ? `WASM, ${info.wasmThreads} threads` : 'WASM, single thread';
      if (!info.crossOriginIsolated) label += ' (page not cross-origin isolated)';
    }
    startOrt(provider);
    if (provider === 'wasm' && info.workerProxy) label += ', in a worker';
    try {
      // A copy: a failed attempt must not consume the bytes the next provider needs.
      const session = await ort.InferenceSession.create(model.slice(), { executionProviders: [provider] });
      return { session, provider, label, failures };
    } catch (error) {
      failures.push(`${provider}: ${message(error)}`);
    }
  }
  throw new EmsegError('E_BACKEND', `no execution provider could run the model: ${failures.join('; ')}`);
}

export interface PredictorStats {
  /** Session calls made and tiles passed. */
  calls: number;
  tiles: number;
  /** Milliseconds inside session.run (tensor upload and download included). */
  inferenceMs: number;
}

/**
 * The session as a core TilePredictor (NCHW, C = 1). Calls are serialized: an ort-web session
 * runs one inference at a time. `onTiles` is told after each call how many tiles are done.
 */
export function sessionPredictor(
  session: ort.InferenceSession,
  stats: PredictorStats,
  onTiles?: (tilesDone: number) => void,
): TilePredictor {
  let queue: Promise<unknown> = Promise.resolve();
  return (tiles, n, height, width) => {
    const run = queue.then(async () => {
      const started = performance.now();
      // A copy: in proxy mode ort transfers the buffer to its worker, which would empty the caller's array.
      const input = new ort.Tensor('float32', tiles.slice(), [n, 1, height, width]);
      const outputs = await session.run({ [INPUT_NAME]: input });
      const output = outputs[OUTPUT_NAME];
      if (!output) throw new EmsegError('E_MODEL', `the model has no output named '${OUTPUT_NAME}'`);
      const data = (await output.getData()) as Float32Array;
      output.dispose();
      stats.inferenceMs += performance.now() - started;
      stats.calls += 1;
      stats.tiles += n;
      onTiles?.(stats.tiles);
      return data;
    });
    queue = run.catch(() => undefined);
    return run;
  };
}

/** One raw run of the model on an NCHW input (used by the test hook to compare providers). */
export async function runRaw(session: ort.InferenceSession, input: Float32Array, n: number, height: number, width: number): Promise<Float32Array> {
  const stats: PredictorStats = { calls: 0, tiles: 0, inferenceMs: 0 };
  return sessionPredictor(session, stats)(input, n, height, width);
}
