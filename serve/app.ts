/**
 * The HTTP app of the segmentation server (Hono, tested in-process with `app.request()`):
 *
 *   POST /v1/segment   image in, mask / probability / overlay out (serve/segment.ts)
 *   GET  /v1/model     model card, provider, batching and limits
 *   GET  /healthz      liveness          GET /readyz   readiness (model loaded, provider)
 *   GET  /metrics      Prometheus        GET /openapi.json   generated from serve/openapi.ts
 *   GET  /*            the web demo's static files (web-demo/dist; source maps only when asked)
 *
 * Hostile input (serve/README.md, "Hostile input"): TIFF uploads decode in their own worker pool
 * with a work budget (serve/decode-pool.ts), bodies in flight are capped before they are read
 * (serve/body-budget.ts), early answers close keep-alive connections (serve/keep-alive.ts), a
 * known route with another method answers 405 with Allow, and work the server cannot finish within
 * the request timeout is refused at once by its estimated cost (serve/work-admission.ts).
 *
 * Every error is an RFC 9457 problem (serve/problem.ts); a 500 says nothing internal and is logged.
 * Every response carries COOP/COEP (the web demo needs cross-origin isolation for threaded WASM)
 * and the usual hardening headers. The model may still be loading when the app starts: /healthz
 * answers at once, /readyz and /v1/segment answer 503 until it is ready.
 */
import { OpenAPIHono } from '@hono/zod-openapi';
import { serveStatic } from '@hono/node-server/serve-static';
import { secureHeaders } from 'hono/secure-headers';
import type { Context } from 'hono';
import type { ModelCard } from '../core/contract.ts';
import { isEmsegError } from '../core/errors.ts';
import type { TilePredictor } from '../core/tiling.ts';
import { decodeImageBytes } from '../node/image-files.ts';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { AdmissionQueue } from './admission.ts';
import { createBodyBudget, type BodyBudget } from './body-budget.ts';
import { DecodePool, type DecodeBudget } from './decode-pool.ts';
import { closeOnUnreadBody, nodeIncoming } from './keep-alive.ts';
import { multipartFile } from './multipart.ts';
import { createBatchingPredictor, type BatchingPredictor } from '../core/tile-batcher.ts';
import { DEFAULT_SERVE_CONFIG, autoBatchSize } from './config.ts';
import { createLifecycle, type Lifecycle } from './lifecycle.ts';
import { requestBodyLimit, type ImageLimits } from './limits.ts';
import { createServerMetrics, requestMetrics, type ServerMetrics } from './metrics.ts';
import { OPENAPI_INFO, healthRoute, metricsRoute, modelRoute, openapiRoute, readyRoute, segmentRoute } from './openapi.ts';
import { ProblemError, problemFrom, problemResponse } from './problem.ts';
import { inspectUpload, segmentUpload, type UploadPlan } from './segment.ts';
import { WorkAdmission } from './work-admission.ts';

/** What the app needs of a loaded model (node/load-onnx-model.ts's loadOnnxModel gives more). */
export interface ServedModel {
  predictor: TilePredictor;
  /** Execution provider in use, e.g. 'cuda' or 'cpu'. */
  provider: string;
  card: ModelCard;
  /** Session calls that may run at the same time (sessions in a worker pool). Default 1. */
  concurrentRuns?: number;
  /** Told how to count the segmentation requests in the server (a pool's session scheduler uses it). */
  setDemand?: (demand: () => number) => void;
  /** Session calls so far, on the wide session (lone requests) and on the narrow ones (a pool's). */
  readonly runs?: { wide: number; narrow: number };
}

export interface ServerLog {
  info: (message: string) => void;
  warn: (message: string) => void;
  error: (message: string, error?: unknown) => void;
}

/** Log lines on stderr, one per event, with an ISO time. */
export const stderrLog: ServerLog = {
  info: (message) => process.stderr.write(`${new Date().toISOString()} info ${message}\n`),
  warn: (message) => process.stderr.write(`${new Date().toISOString()} warn ${message}\n`),
  error: (message, error) => {
    // An EmsegError is a one-line message by design; anything else gets its stack (server-side only).
    const detail = isEmsegError(error) ? `: ${error.message}` : error instanceof Error ? `\n${error.stack ?? error.message}` : error === undefined ? '' : ` ${String(error)}`;
    process.stderr.write(`${new Date().toISOString()} error ${message}${detail}\n`);
  },
};

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

export interface EmsegApp {
  app: OpenAPIHono;
  metrics: ServerMetrics;
  admission: AdmissionQueue;
  batcher: BatchingPredictor | undefined;
  lifecycle: Lifecycle;
  decodePool: DecodePool;
  bodyBudget: BodyBudget;
  /** Admission by estimated cost (serve/work-admission.ts). */
  work: WorkAdmission;
  /** Resolves when the model is loaded (rejects if loading failed). */
  ready: Promise<ServedModel>;
}

type ModelState =
  | { status: 'loading' }
  | { status: 'ready'; model: ServedModel; batcher: BatchingPredictor }
  | { status: 'failed' };

export function createApp(options: AppOptions): EmsegApp {
  const defaults = DEFAULT_SERVE_CONFIG;
  const log = options.log ?? stderrLog;
  const maxBodyBytes = options.maxBodyBytes ?? defaults.maxBodyBytes;
  const limits: ImageLimits = {
    maxPixels: options.limits?.maxPixels ?? defaults.maxPixels,
    maxStackPixels: options.limits?.maxStackPixels ?? defaults.maxStackPixels,
    maxPages: options.limits?.maxPages ?? defaults.maxPages,
  };
  const timeoutMs = options.timeoutMs ?? defaults.timeoutMs;
  const batching = { maxBatch: options.batchSize ?? defaults.batchSize, maxWaitMs: options.batchWaitMs ?? defaults.batchWaitMs, concurrentRuns: 1 };
  const requestedBatch = batching.maxBatch;
  const webRoot = options.webRoot ?? defaults.webRoot;
  const admission = new AdmissionQueue({
    concurrency: options.concurrency ?? defaults.concurrency,
    queueSize: options.queueSize ?? defaults.queueSize,
  });
  const lifecycle = createLifecycle();
  const work = new WorkAdmission({
    timeoutMs,
    ...(options.secondsPerModelPixel !== undefined ? { secondsPerModelPixel: options.secondsPerModelPixel } : {}),
  });
  const bodyBudget = createBodyBudget({
    maxBytes: options.maxBodiesBytes ?? defaults.maxBodiesBytes,
    maxBodyBytes,
    retryAfterSeconds: () => admission.retryAfterSeconds(),
  });
  const decodePool = new DecodePool({
    ...(options.decodeWorkers !== undefined ? { workers: options.decodeWorkers } : {}),
    ...(options.decodeBudget !== undefined ? { budget: options.decodeBudget } : {}),
  });
  // TIFF in the decode pool; PNG and JPEG through sharp, whose libvips threads do not block the loop.
  const decodeUpload = (bytes: Uint8Array, plan: UploadPlan, signal: AbortSignal | undefined) =>
    plan.format === 'tiff'
      ? decodePool.decode({
          bytes,
          name: plan.name,
          declaredPixels: plan.declaredPixels,
          maxPages: limits.maxPages,
          maxTotalSamples: limits.maxStackPixels * 4,
          ...(signal ? { signal } : {}),
        })
      : decodeImageBytes(bytes, plan.name);

  let state: ModelState = { status: 'loading' };
  let segmentRequests = 0;
  const metrics = createServerMetrics({
    queueDepth: () => admission.waiting,
    running: () => admission.running,
    pendingTiles: () => (state.status === 'ready' ? state.batcher.pendingTiles : 0),
    sessionRuns: () => (state.status === 'ready' ? state.model.runs : undefined),
    processMetrics: options.processMetrics ?? true,
  });
  const ready = Promise.resolve(options.model).then(
    (model) => {
      batching.maxBatch = requestedBatch > 0 ? requestedBatch : autoBatchSize(model.provider);
      batching.concurrentRuns = model.concurrentRuns ?? 1;
      model.setDemand?.(() => segmentRequests);
      const batcher = createBatchingPredictor(model.predictor, {
        ...batching,
        maxConcurrentRuns: batching.concurrentRuns,
        loneRequest: () => segmentRequests <= 1,
        onBatch: (batch) => {
          metrics.observeBatch(batch);
          work.observe(batch);
        },
      });
      state = { status: 'ready', model, batcher };
      metrics.setProvider(model.provider);
      result.batcher = batcher;
      return model;
    },
    (error: unknown) => {
      state = { status: 'failed' };
      log.error('model failed to load', error);
      throw error;
    },
  );
  ready.catch(() => {}); // reported through /readyz and the log; the caller may await it too

  const readyModel = (): { model: ServedModel; batcher: BatchingPredictor } => {
    if (state.status === 'ready') return state;
    const detail = state.status === 'loading' ? 'the model is still loading' : 'the model failed to load; see the server log';
    throw new ProblemError(503, detail, { code: 'E_NOT_READY', headers: { 'Retry-After': '5' } });
  };

  const app = new OpenAPIHono({
    defaultHook: (result) => {
      if (!result.success) {
        const issue = result.error.issues[0];
        const where = issue?.path.join('.') || result.target;
        throw new ProblemError(400, `${where}: ${issue?.message ?? 'invalid value'}`, { code: 'E_BAD_ARGUMENT' });
      }
    },
  });

  app.onError((error, c) => {
    // A client that hung up mid-upload is no server error: one info line, no stack.
    const incoming = nodeIncoming(c.env);
    if (incoming && (incoming.errored || incoming.destroyed) && !incoming.complete) {
      log.info(`${c.req.method} ${c.req.path}: the client closed the connection before sending the whole body`);
      return problemResponse(new ProblemError(400, 'the request body was not received completely', { code: 'E_BODY_INCOMPLETE' }));
    }
    const { problem, internal } = problemFrom(error);
    if (internal) log.error(`${c.req.method} ${c.req.path} failed`, error);
    return problemResponse(problem);
  });
  app.notFound((c) => {
    const allowed = ALLOWED_METHODS.get(c.req.path);
    if (allowed) {
      return problemResponse(new ProblemError(405, `${c.req.method} ${c.req.path}: use ${allowed.join(' or ')}`, { code: 'E_METHOD_NOT_ALLOWED' }), {
        Allow: allowed.join(', '),
      });
    }
    const detail =
      c.req.method === 'GET' && !existsSync(join(webRoot, 'index.html'))
        ? `no route GET ${c.req.path}, and the web demo is not built (${webRoot}/index.html missing; run npm run build:web)`
        : `no route ${c.req.method} ${c.req.path}`;
    return problemResponse(new ProblemError(404, detail, { code: 'E_NOT_FOUND' }));
  });

  app.use(
    '*',
    secureHeaders({
      crossOriginOpenerPolicy: 'same-origin',
      crossOriginEmbedderPolicy: 'require-corp',
      crossOriginResourcePolicy: 'same-origin',
      strictTransportSecurity: false, // a TLS proxy in front decides about HSTS
    }),
  );
  app.use('*', closeOnUnreadBody());
  app.use('*', requestMetrics({ metrics }));
  app.use('*', lifecycle.gate());

  app.openapi(healthRoute, (c) => c.json({ status: 'ok' as const }, 200));

  app.openapi(readyRoute, (c) => {
    if (lifecycle.shuttingDown) throw new ProblemError(503, 'the server is shutting down', { code: 'E_SHUTTING_DOWN' });
    const { model } = readyModel();
    return c.json({ status: 'ready' as const, provider: model.provider, model: `${model.card.name}@${model.card.version}` }, 200);
  });

  app.openapi(modelRoute, (c) => {
    const { model } = readyModel();
    return c.json(
      {
        provider: model.provider,
        card: model.card as unknown as Record<string, unknown>,
        batching,
        limits: { maxBodyBytes, maxBodiesBytes: bodyBudget.maxBytes, ...limits, timeoutMs },
      },
      200,
    );
  });

  app.openapi(metricsRoute, async (c) => {
    const text = await metrics.registry.metrics();
    return c.text(text, 200, { 'Content-Type': metrics.registry.contentType });
  });

  app.openapi(openapiRoute, (c) => c.json(app.getOpenAPI31Document(OPENAPI_INFO) as unknown as Record<string, unknown>, 200));

  // Segmentation requests in the server, from their first byte to their answer: a pool's session
  // scheduler gives a request all the cores when it is the only one.
  app.use(segmentRoute.getRoutingPath(), async (_c, next) => {
    segmentRequests += 1;
    try {
      await next();
    } finally {
      segmentRequests -= 1;
    }
  });
  app.use(segmentRoute.getRoutingPath(), bodyBudget.middleware());
  app.use(segmentRoute.getRoutingPath(), requestBodyLimit({ maxBytes: maxBodyBytes }));
  app.openapi(segmentRoute, async (c) => {
    const { model, batcher } = readyModel();
    const query = c.req.valid('query');
    const readStarted = performance.now();
    const { bytes, name } = await readUpload(c);
    const plan = inspectUpload(bytes, name, query, limits, model.card);
    const readMs = performance.now() - readStarted;
    // Work this server cannot finish within the timeout is answered now, not after it (413/503).
    const releaseWork = work.admit({ ...plan, tta: plan.tta ?? model.card.tta ?? false }, model.card);
    let workEnded: Promise<unknown> = Promise.resolve();

    const controller = new AbortController();
    const timeoutError = new ProblemError(503, `the request took longer than the limit of ${timeoutMs} ms`, {
      code: 'E_TIMEOUT',
      headers: { 'Retry-After': String(admission.retryAfterSeconds()) },
    });
    const timer = setTimeout(() => controller.abort(timeoutError), timeoutMs);
    // A client that hangs up takes its queued work with it.
    const clientGone = () => controller.abort(new ProblemError(503, 'the client closed the connection', { code: 'E_CLIENT_GONE' }));
    c.req.raw.signal?.addEventListener('abort', clientGone, { once: true });
    const queued = performance.now();
    try {
      const release = await admission.acquire(controller.signal);
      const queueMs = performance.now() - queued;
      const segmenting = segmentUpload(bytes, plan, {
        predictor: batcher.forSignal(controller.signal),
        card: model.card,
        signal: controller.signal,
        pagesAtOnce: Math.max(2, batching.maxBatch * batching.concurrentRuns),
        decode: decodeUpload,
        limits,
      });
      void segmenting.then(release, release); // the slot is held until the work really ends
      workEnded = segmenting;
      const answer = await abortable(segmenting, controller.signal);
      const { decodeMs, inferMs, encodeMs } = answer.timings;
      return c.body(answer.body as Uint8Array<ArrayBuffer>, 200, {
        'Content-Type': answer.contentType,
        'Server-Timing': `read;dur=${readMs.toFixed(1)}, queue;dur=${queueMs.toFixed(1)}, decode;dur=${decodeMs.toFixed(1)}, infer;dur=${inferMs.toFixed(1)}, encode;dur=${encodeMs.toFixed(1)}`,
        'X-Emseg-Provider': model.provider,
        'X-Emseg-Pages': String(answer.pages),
        'X-Emseg-Model': `${model.card.name}@${model.card.version}`,
        'X-Emseg-Pixel-Size': headerText(answer.pixelSizeLine),
        ...(answer.warning ? { 'X-Emseg-Warning': headerText(answer.warning) } : {}),
      });
    } catch (error) {
      throw controller.signal.aborted && controller.signal.reason === timeoutError ? timeoutError : error;
    } finally {
      clearTimeout(timer);
      c.req.raw.signal?.removeEventListener('abort', clientGone);
      void workEnded.then(releaseWork, releaseWork);
    }
  });

  // Registered when the folder exists at start (build the demo before starting the server).
  if (existsSync(webRoot)) {
    const files = serveStatic({ root: webRoot });
    const sourceMaps = options.serveSourceMaps ?? false;
    app.get('/*', (c, next) => (!sourceMaps && c.req.path.endsWith('.map') ? next() : files(c, next)));
  }

  const result: EmsegApp = { app, metrics, admission, batcher: undefined, lifecycle, decodePool, bodyBudget, work, ready };
  return result;
}

/** Methods of each API route, for the 405 answer's Allow header (HEAD comes with GET). */
const ALLOWED_METHODS: ReadonlyMap<string, readonly string[]> = new Map(
  [healthRoute, readyRoute, modelRoute, metricsRoute, openapiRoute, segmentRoute].map((route) => {
    const method = route.method.toUpperCase();
    return [route.path, method === 'GET' ? ['GET', 'HEAD'] : [method]] as const;
  }),
);

/** Resolves with `work`, or rejects with the signal's reason as soon as it aborts. */
/** A line as an HTTP header value: printable ASCII only (an upload's file name may hold anything). */
function headerText(line: string): string {
  return line.replace(/[^\x20-\x7e]/g, '?');
}

function abortable<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

const IMAGE_TYPES = new Set(['image/png', 'image/jpeg', 'image/tiff', 'image/tif', 'application/octet-stream']);

/**
 * The uploaded bytes and a name for messages. A raw body must be declared as an image type or
 * application/octet-stream (or not declared at all); a multipart form carries the file in `file`
 * (or its first file field), found within MULTIPART_LIMITS. The format itself is sniffed from the bytes.
 */
async function readUpload(c: Context): Promise<{ bytes: Uint8Array; name: string }> {
  const declared = (c.req.header('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
  if (declared === 'multipart/form-data') {
    // Bounded walk over the parts (serve/multipart.ts), not a general form parser on the event loop.
    return multipartFile(new Uint8Array(await c.req.arrayBuffer()), c.req.header('content-type') ?? '');
  }
  if (declared !== '' && !IMAGE_TYPES.has(declared)) {
    throw new ProblemError(
      415,
      `Content-Type ${declared}: expected image/png, image/jpeg, image/tiff, application/octet-stream or multipart/form-data`,
      { code: 'E_UNSUPPORTED_MEDIA_TYPE' },
    );
  }
  return { bytes: new Uint8Array(await c.req.arrayBuffer()), name: 'request body' };
}
