/**
 * onnxruntime-web for the demo: where the runtime files live and which build (JSEP or plain WASM),
 * how many WASM threads, the session options (page-options.ts), which execution provider runs
 * (provider-choice.ts from what WebGPU offers: WebGPU on a hardware adapter, WASM otherwise; every
 * reason on the way is kept and shown), the warm-up run, and the session as a core TilePredictor.
 */
import * as ort from 'onnxruntime-web';
import { INPUT_NAME, OUTPUT_NAME } from '../../core/contract.ts';
import { EmsegError } from '../../core/errors.ts';
import type { TilePredictor } from '../../core/tiling.ts';
import { ortSessionOptions, parsePageOptions, type PageOptions, type ProviderName, type ProviderRequest } from './page-options.ts';
import { chooseProvider, describeAdapter, type AdapterFacts, type ProviderChoice, type WebGpuProbe } from './provider-choice.ts';

/** The plain (WASM-only) onnxruntime-web build, copied to ort/ beside the JSEP build by web-demo/build.ts. */
export const ORT_PLAIN_FILES = { mjs: 'ort-wasm-simd-threaded.mjs', wasm: 'ort-wasm-simd-threaded.wasm' } as const;

export type { ProviderName, ProviderRequest } from './page-options.ts';

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
  /** The onnxruntime-web WebAssembly build loaded: 'jsep' (WebGPU and WASM) or 'plain' (WASM only). */
  wasmBuild: 'plain' | 'jsep' | undefined;
}

let configured: RuntimeInfo | undefined;
let pageOptions: PageOptions = parsePageOptions('');
/** Set once the first InferenceSession.create was called: ort.env.wasm.proxy is fixed from then on. */
let ortStarted = false;

/**
 * Sets ort.env once, before the first session: runtime files from `<page>/ort/`, threads only
 * when the page is cross-origin isolated (SharedArrayBuffer needs COOP/COEP): `?threads=N`, else
 * the cores, at most 4. The first call's options hold for the page's life.
 */
export function configureRuntime(options?: PageOptions): RuntimeInfo {
  if (configured) return configured;
  if (options) pageOptions = options;
  const isolated = globalThis.crossOriginIsolated === true;
  const cores = navigator.hardwareConcurrency || 1;
  const wasmThreads = isolated ? (pageOptions.threads ?? Math.max(1, Math.min(4, cores))) : 1;
  ort.env.wasm.wasmPaths = new URL('ort/', document.baseURI).href;
  ort.env.wasm.numThreads = wasmThreads;
  ort.env.logLevel = 'error';
  configured = { wasmThreads, crossOriginIsolated: isolated, ortVersion: ort.env.versions.web ?? 'unknown', workerProxy: false, wasmBuild: undefined };
  return configured;
}

/**
 * Before the first session only: run WASM in ort's proxy worker when that first session is a WASM
 * one (the proxy cannot host WebGPU, and the setting cannot change once ort has started). Such a
 * page can never run WebGPU, so it loads the plain WASM build (half the size of the JSEP build
 * that also serves WebGPU) unless `?build=jsep`.
 */
function startOrt(provider: ProviderName): void {
  const info = configureRuntime();
  if (ortStarted) return;
  ortStarted = true;
  info.workerProxy = provider === 'wasm';
  ort.env.wasm.proxy = info.workerProxy;
  info.wasmBuild = provider === 'wasm' ? pageOptions.wasmBuild : 'jsep';
  if (info.wasmBuild === 'plain') {
    const base = new URL('ort/', document.baseURI);
    ort.env.wasm.wasmPaths = { mjs: new URL(ORT_PLAIN_FILES.mjs, base).href, wasm: new URL(ORT_PLAIN_FILES.wasm, base).href };
  }
}

export interface ChosenSession {
  session: ort.InferenceSession;
  provider: ProviderName;
  /** For people: e.g. "WebGPU (NVIDIA ...)" or "WASM, 4 threads". */
  label: string;
  /** Why earlier providers were not used, one line each (the software-adapter note included). */
  failures: string[];
  /** The other provider the page can offer (provider-choice.ts), if this browser has it. */
  alternative: ProviderName | undefined;
  /** Milliseconds of the warm-up run inside session creation (0 without one). */
  warmupMs: number;
}

type GpuAdapterLike = { info?: AdapterFacts; isFallbackAdapter?: boolean; requestAdapterInfo?: () => Promise<AdapterFacts> };

/** Asks the browser for a WebGPU adapter and what it is. */
export async function probeWebGpu(): Promise<WebGpuProbe> {
  const gpu = (navigator as Navigator & { gpu?: { requestAdapter: () => Promise<unknown> } }).gpu;
  if (!gpu) return { available: false, reason: 'this browser has no WebGPU (navigator.gpu is missing)' };
  try {
    const adapter = (await gpu.requestAdapter()) as GpuAdapterLike | null;
    if (!adapter) return { available: false, reason: 'WebGPU gives no adapter (no usable GPU or it is blocked)' };
    const info: AdapterFacts = adapter.info ?? (adapter.requestAdapterInfo ? await adapter.requestAdapterInfo() : {});
    const facts: AdapterFacts = {
      vendor: info.vendor,
      architecture: info.architecture,
      device: info.device,
      description: info.description,
      isFallbackAdapter: info.isFallbackAdapter ?? adapter.isFallbackAdapter,
    };
    return { available: true, adapter: facts };
  } catch (error) {
    return { available: false, reason: `WebGPU adapter request failed (${message(error)})` };
  }
}

function message(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0]!;
}

/** The provider a session for `request` will try first, and what WebGPU offers here. */
export interface ProviderPlan {
  probe: WebGpuProbe;
  choice: ProviderChoice;
}

/** Asks WebGPU what it offers and picks the provider (before the model is downloaded: which model file depends on it). */
export async function planProvider(request: ProviderRequest): Promise<ProviderPlan> {
  const probe = await probeWebGpu();
  return { probe, choice: chooseProvider(request, probe) };
}

/**
 * Creates a session on the provider chooseProvider picks for `request` (with 'auto', a WebGPU
 * session that fails falls back to WASM, with the same model bytes). `plan`: planProvider's
 * answer for the same request, if the caller has it already. A WASM session then runs once on a
 * zero input of `warmupSize`² pixels (0: not), so that the first slice does not pay for the
 * WebAssembly code's tier-up and the first allocations (measured by bench:web; not done on
 * WebGPU, unmeasured there).
 */
export async function createSession(model: Uint8Array, request: ProviderRequest = 'auto', warmupSize = 0, plan?: ProviderPlan): Promise<ChosenSession> {
  const info = configureRuntime();
  const { probe, choice } = plan ?? (await planProvider(request));
  const order: ProviderName[] = request === 'auto' && choice.provider === 'webgpu' ? ['webgpu', 'wasm'] : [choice.provider];
  const failures: string[] = choice.note ? [choice.note] : [];
  for (const provider of order) {
    let label: string;
    if (provider === 'webgpu') {
      if (!probe.available) {
        failures.push(`webgpu: ${probe.reason}`);
        continue;
      }
      label = `WebGPU (${describeAdapter(probe.adapter) ?? 'adapter'})`;
    } else {
      label = info.wasmThreads > 1 ? `WASM, ${info.wasmThreads} threads` : 'WASM, single thread';
      if (!info.crossOriginIsolated) label += ' (page not cross-origin isolated)';
    }
    startOrt(provider);
    if (provider === 'wasm' && info.workerProxy) label += ', in a worker';
    try {
      // A copy: a failed attempt must not consume the bytes the next provider needs.
      const session = await ort.InferenceSession.create(model.slice(), ortSessionOptions(provider, pageOptions.session));
      const started = performance.now();
      const warm = provider === 'wasm' && warmupSize > 0;
      if (warm) await runRaw(session, new Float32Array(warmupSize * warmupSize), 1, warmupSize, warmupSize);
      const warmupMs = warm ? performance.now() - started : 0;
      const alternative = provider === choice.provider ? choice.alternative : provider === 'wasm' ? undefined : 'wasm';
      return { session, provider, label, failures, alternative, warmupMs };
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
