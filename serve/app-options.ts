/**
 * The options of createApp (serve/app.ts) and their defaults, which are the server's
 * (serve/config.ts DEFAULT_SERVE_CONFIG): `resolveAppOptions` fills in every default once.
 */
import { DEFAULT_SERVE_CONFIG } from './config.ts';
import type { DecodeBudget } from './decode-pool.ts';
import type { ImageLimits } from './limits.ts';
import type { ServedModel } from './model-state.ts';
import { stderrLog, type ServerLog } from './server-log.ts';

export interface AppOptions {
  /** The model, or a promise of it while it loads. */
  model: ServedModel | Promise<ServedModel>;
  /** Largest request body in bytes. Default 100 MiB. */
  maxBodyBytes?: number;
  /** Bytes of request bodies held at once (serve/body-budget.ts). Default 400 MiB. */
  maxBodiesBytes?: number;
  /** Threads decoding TIFF uploads (serve/decode-pool.ts). Default 2. */
  decodeWorkers?: number;
  /** Work budget of one TIFF decode. Default DEFAULT_DECODE_BUDGET. */
  decodeBudget?: DecodeBudget;
  /** Serve the web demo's source maps (*.map). Default false (404). */
  serveSourceMaps?: boolean;
  /** Pixel and page limits, checked from the header. Defaults: 64 Mpx per image, 128 Mpx per stack, 1000 pages. */
  limits?: Partial<ImageLimits>;
  /** Segmentation requests processed at once. Default 4. */
  concurrency?: number;
  /** Requests waiting for a slot before 503. Default 32. */
  queueSize?: number;
  /** Time limit of one segmentation request, waiting included, in ms. Default 120000. */
  timeoutMs?: number;
  /** Most tiles per session call; 0 = auto by provider (autoBatchSize: 1 on CPU, 8 on GPU). Default 0. */
  batchSize?: number;
  /** How long an idle batcher waits for more tiles, in ms. Default 2. */
  batchWaitMs?: number;
  /** Folder of the web demo's static files. Default 'web-demo/dist'. */
  webRoot?: string;
  /** Where log lines go. Default stderrLog. */
  log?: ServerLog;
  /** Collect prom-client's default process metrics. Default true. */
  processMetrics?: boolean;
  /**
   * The model's speed in seconds per model pixel, when known (serve/work-admission.ts). Default:
   * unknown until measured (startServer's measureModelSpeed) or learnt from completed session calls.
   */
  secondsPerModelPixel?: number;
}

/** AppOptions with every default filled in; the options whose default belongs to another module stay optional. */
export type ResolvedAppOptions = Required<Omit<AppOptions, 'limits' | 'decodeWorkers' | 'decodeBudget' | 'secondsPerModelPixel'>> &
  Pick<AppOptions, 'decodeWorkers' | 'decodeBudget' | 'secondsPerModelPixel'> & { limits: ImageLimits };

export function resolveAppOptions(options: AppOptions): ResolvedAppOptions {
  const defaults = DEFAULT_SERVE_CONFIG;
  return {
    ...options,
    maxBodyBytes: options.maxBodyBytes ?? defaults.maxBodyBytes,
    maxBodiesBytes: options.maxBodiesBytes ?? defaults.maxBodiesBytes,
    serveSourceMaps: options.serveSourceMaps ?? false,
    limits: {
      maxPixels: options.limits?.maxPixels ?? defaults.maxPixels,
      maxStackPixels: options.limits?.maxStackPixels ?? defaults.maxStackPixels,
      maxPages: options.limits?.maxPages ?? defaults.maxPages,
    },
    concurrency: options.concurrency ?? defaults.concurrency,
    queueSize: options.queueSize ?? defaults.queueSize,
    timeoutMs: options.timeoutMs ?? defaults.timeoutMs,
    batchSize: options.batchSize ?? defaults.batchSize,
    batchWaitMs: options.batchWaitMs ?? defaults.batchWaitMs,
    webRoot: options.webRoot ?? defaults.webRoot,
    log: options.log ?? stderrLog,
    processMetrics: options.processMetrics ?? true,
  };
}
