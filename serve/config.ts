/**
 * Server settings: one table, read by the server from environment variables and mirrored by the
 * `emseg serve` flags (the CLI builds its arguments from this table, serve/README.md lists it, and a
 * test checks that the README names every variable). A flag wins over its variable, which wins over
 * the default.
 */
import { EmsegError } from '../core/errors.ts';
import { parseNumberText, type NumberRule } from '../core/number-text.ts';
import { DEFAULT_MODEL } from '../node/shipped-model.ts';

export interface ServeConfig {
  /** ONNX model file. */
  model: string;
  /** Execution providers in order of preference, as EMSEG_EP (parsed by node/onnx-providers.ts). */
  providers: string;
  host: string;
  port: number;
  /** Largest request body accepted, in bytes. */
  maxBodyBytes: number;
  /** Bytes of request bodies held at once (being received or processed); beyond it 503 with Retry-After. */
  maxBodiesBytes: number;
  /** Largest image (one page), in pixels. */
  maxPixels: number;
  /** Largest stack (all pages together), in pixels. */
  maxStackPixels: number;
  /** Most pages in one stack. */
  maxPages: number;
  /** Segmentation requests processed at the same time (decode, inference, encode). */
  concurrency: number;
  /** Requests allowed to wait for a free slot; beyond it the server answers 503 with Retry-After. */
  queueSize: number;
  /** Time limit of one request, waiting included, in milliseconds. */
  timeoutMs: number;
  /** Most tiles in one session call of the dynamic batcher; 0 = auto (1 on the CPU provider, 8 on GPU providers). */
  batchSize: number;
  /** How long the batcher waits for more tiles of the same shape when the session is idle, in ms. */
  batchWaitMs: number;
  /** Sessions of the model, each in its own worker thread; 0 = auto (2 on the CPU provider, 1 on GPU providers). */
  inferenceWorkers: number;
  /** onnxruntime intra-op threads per session; 0 = auto (cores / workers on the CPU provider, onnxruntime's default on GPU providers). */
  intraOpThreads: number;
  /** Intra-op threads of the extra session that runs a request alone in the server; 0 = auto (all the workers' threads on the CPU provider, none on GPU providers), 1 = none. */
  loneRequestThreads: number;
  /** Folder of the web demo's static files. */
  webRoot: string;
  /** How long a shutdown waits for in-flight requests, in milliseconds. */
  shutdownGraceMs: number;
  /** 1: serve the web demo's source maps (*.map); 0: answer 404 for them. */
  serveSourceMaps: number;
  /** 1: onnxruntime's CPU memory arena keeps the largest call's buffers; 0: they are freed after each call (serve/memory-return.ts). */
  memoryArena: number;
  /** Sessions idle this long (ms) are released and made again, giving their arena's memory back; 0 = never. */
  idleReleaseMs: number;
}

interface Setting<K extends keyof ServeConfig> {
  key: K;
  env: string;
  flag: string;
  default: ServeConfig[K];
  description: string;
}

type AnySetting = { [K in keyof ServeConfig]: Setting<K> }[keyof ServeConfig];

const MiB = 1024 * 1024;

export const SERVE_SETTINGS: readonly AnySetting[] = [
  { key: 'model', env: 'EMSEG_MODEL', flag: 'model', default: DEFAULT_MODEL, description: 'ONNX model file (when not set and not in the current folder: the one shipped in the emseg package)' },
  { key: 'providers', env: 'EMSEG_EP', flag: 'ep', default: 'auto', description: 'execution providers in order of preference, e.g. cuda,cpu (an unavailable one is skipped with a warning that says why); auto: cuda if it starts, else cpu, without a warning' },
  { key: 'host', env: 'HOST', flag: 'host', default: '127.0.0.1', description: 'address to listen on (0.0.0.0 for all interfaces, as in the Docker image)' },
  { key: 'port', env: 'PORT', flag: 'port', default: 8787, description: 'TCP port' },
  { key: 'maxBodyBytes', env: 'EMSEG_MAX_BODY_BYTES', flag: 'max-body-bytes', default: 100 * MiB, description: 'largest request body in bytes (413 above)' },
  { key: 'maxBodiesBytes', env: 'EMSEG_MAX_BODIES_BYTES', flag: 'max-bodies-bytes', default: 400 * MiB, description: 'bytes of request bodies held at once, being received or processed (503 with Retry-After above)' },
  { key: 'maxPixels', env: 'EMSEG_MAX_PIXELS', flag: 'max-pixels', default: 64_000_000, description: 'largest image (one page) in pixels, checked from the header before decoding (413 above)' },
  { key: 'maxStackPixels', env: 'EMSEG_MAX_STACK_PIXELS', flag: 'max-stack-pixels', default: 128_000_000, description: 'largest stack (all pages) in pixels (413 above)' },
  { key: 'maxPages', env: 'EMSEG_MAX_PAGES', flag: 'max-pages', default: 1000, description: 'most pages in one stack (413 above)' },
  { key: 'concurrency', env: 'EMSEG_CONCURRENCY', flag: 'concurrency', default: 4, description: 'segmentation requests processed at the same time; their tiles share the batcher' },
  { key: 'queueSize', env: 'EMSEG_QUEUE_SIZE', flag: 'queue-size', default: 32, description: 'requests waiting for a free slot; when full, 503 with Retry-After' },
  { key: 'timeoutMs', env: 'EMSEG_TIMEOUT_MS', flag: 'timeout-ms', default: 120_000, description: 'time limit of one segmentation request, waiting included (503 when exceeded)' },
  { key: 'batchSize', env: 'EMSEG_BATCH_SIZE', flag: 'batch-size', default: 0, description: 'most tiles in one session call of the dynamic batcher; 0 = auto: 1 on the CPU provider, 8 on GPU providers' },
  { key: 'batchWaitMs', env: 'EMSEG_BATCH_WAIT_MS', flag: 'batch-wait-ms', default: 2, description: 'how long an idle batcher waits for more tiles of the same shape' },
  { key: 'inferenceWorkers', env: 'EMSEG_INFERENCE_WORKERS', flag: 'inference-workers', default: 0, description: 'sessions of the model, each in a worker thread; 0 = auto: 2 on the CPU provider, 1 on GPU providers' },
  { key: 'intraOpThreads', env: 'EMSEG_INTRA_OP_THREADS', flag: 'intra-op-threads', default: 0, description: "onnxruntime threads per session; 0 = auto: cores / workers on the CPU provider, onnxruntime's default on GPU providers" },
  { key: 'loneRequestThreads', env: 'EMSEG_LONE_REQUEST_THREADS', flag: 'lone-request-threads', default: 0, description: 'onnxruntime threads of an extra session that runs a request alone in the server; 0 = auto: the threads of all workers together on the CPU provider, none on GPU providers; 1 = no extra session' },
  { key: 'webRoot', env: 'EMSEG_WEB_ROOT', flag: 'web-root', default: 'web-demo/dist', description: 'folder of the web demo served at /' },
  { key: 'shutdownGraceMs', env: 'EMSEG_SHUTDOWN_GRACE_MS', flag: 'shutdown-grace-ms', default: 30_000, description: 'on SIGTERM, how long in-flight requests may take to finish' },
  { key: 'serveSourceMaps', env: 'EMSEG_SERVE_SOURCE_MAPS', flag: 'serve-source-maps', default: 0, description: "1 = serve the web demo's source maps (*.map), 0 = answer 404 for them" },
  { key: 'memoryArena', env: 'EMSEG_MEMORY_ARENA', flag: 'memory-arena', default: 1, description: "1 = onnxruntime's CPU memory arena keeps the buffers of the largest session call for the next one (given back when the session is idle, see EMSEG_IDLE_RELEASE_MS); 0 = buffers freed after each call (slower)" },
  { key: 'idleReleaseMs', env: 'EMSEG_IDLE_RELEASE_MS', flag: 'idle-release-ms', default: 10_000, description: 'on the CPU provider, a session idle this long (no call) is released and made again, which gives back the memory its arena kept; 0 = never' },
];

/** Tiles per session call when EMSEG_BATCH_SIZE is 0 (auto), by execution provider. */
export function autoBatchSize(provider: string): number {
  // On the CPU, batched convolutions were no faster per tile than single ones and slower under
  // load (bigger working set); serializing single-tile calls is what keeps throughput there.
  return provider === 'cpu' ? 1 : 8;
}

export const DEFAULT_SERVE_CONFIG: Readonly<ServeConfig> = Object.fromEntries(
  SERVE_SETTINGS.map((setting) => [setting.key, setting.default]),
) as unknown as ServeConfig;

function parseValue(setting: AnySetting, raw: string, source: string): string | number {
  if (typeof setting.default === 'string') {
    if (raw.trim() === '') throw new EmsegError('E_BAD_ARGUMENT', `${source}: expected a non-empty value, found ''`);
    return raw;
  }
  const zeroAllowed: readonly (keyof ServeConfig)[] = ['port', 'batchWaitMs', 'queueSize', 'batchSize', 'inferenceWorkers', 'intraOpThreads', 'loneRequestThreads', 'serveSourceMaps', 'memoryArena', 'idleReleaseMs'];
  const max = setting.key === 'port' ? 65535 : setting.key === 'serveSourceMaps' || setting.key === 'memoryArena' ? 1 : undefined;
  const rule: NumberRule = { integer: true, min: zeroAllowed.includes(setting.key) ? 0 : 1, ...(max !== undefined ? { max } : {}) };
  return parseNumberText(raw, source, rule);
}

/**
 * Resolves the configuration: `flags` (keyed by ServeConfig key, as given on the command line)
 * over `env` over the defaults. Every value is checked; a bad one is an E_BAD_ARGUMENT naming the
 * flag or variable.
 */
export function resolveServeConfig(
  env: Record<string, string | undefined> = process.env,
  flags: Partial<Record<keyof ServeConfig, string | number | undefined>> = {},
): ServeConfig {
  const config: Record<string, string | number> = {};
  for (const setting of SERVE_SETTINGS) {
    const flag = flags[setting.key];
    const fromEnv = env[setting.env];
    // A flag given empty is a mistake; an empty variable counts as unset (compose files and systemd pass them).
    if (flag !== undefined) config[setting.key] = parseValue(setting, String(flag), `--${setting.flag}`);
    else if (fromEnv !== undefined && fromEnv !== '') config[setting.key] = parseValue(setting, fromEnv, setting.env);
    else config[setting.key] = setting.default;
  }
  return config as unknown as ServeConfig;
}
