/**
 * The HTTP app of the segmentation server (Hono, tested in-process with `app.request()`).
 * createApp only assembles it; each route group is one router (serve/routes/):
 *
 *   POST /v1/segment   image in, mask / probability / overlay out   routes/segment.ts
 *   GET  /v1/model     model card, provider, batching and limits    routes/model.ts
 *   GET  /healthz      liveness; GET /readyz readiness              routes/health.ts
 *   GET  /metrics      Prometheus                                   routes/metrics.ts
 *   GET  /openapi.json generated from serve/openapi.ts              routes/openapi.ts
 *   GET  /*            the web demo's static files                  routes/web-demo.ts
 *
 * Hostile input (serve/README.md, "Hostile input"): TIFF uploads decode in their own worker pool
 * with a work budget (serve/decode-pool.ts), bodies in flight are capped before they are read
 * (serve/body-budget.ts), early answers close keep-alive connections (serve/keep-alive.ts), a
 * known route with another method answers 405 with Allow, and work the server cannot finish within
 * the request timeout is refused at once by its estimated cost (serve/work-admission.ts).
 *
 * Every error is an RFC 9457 problem (serve/problem-handlers.ts); a 500 says nothing internal and
 * is logged. Every response carries COOP/COEP (serve/security-headers.ts). The model may still be
 * loading when the app starts (serve/model-state.ts): /healthz answers at once, /readyz and
 * /v1/segment answer 503 until it is ready.
 */
import type { OpenAPIHono } from '@hono/zod-openapi';
import { AdmissionQueue } from './admission.ts';
import { resolveAppOptions, type AppOptions } from './app-options.ts';
import type { BatchingPredictor } from '../core/tile-batcher.ts';
import { createBodyBudget, type BodyBudget } from './body-budget.ts';
import { DecodePool } from './decode-pool.ts';
import { closeOnUnreadBody } from './keep-alive.ts';
import { createLifecycle, type Lifecycle } from './lifecycle.ts';
import { createServerMetrics, requestMetrics, type ServerMetrics } from './metrics.ts';
import { loadServedModel, type ServedModel } from './model-state.ts';
import { problemNotFound, problemOnError } from './problem-handlers.ts';
import { createRequestCounter } from './request-counter.ts';
import { healthRoutes } from './routes/health.ts';
import { metricsRoutes } from './routes/metrics.ts';
import { modelRoutes } from './routes/model.ts';
import { openapiRoutes } from './routes/openapi.ts';
import { createRouter } from './routes/router.ts';
import { segmentRoutes } from './routes/segment.ts';
import { webDemoRoutes } from './routes/web-demo.ts';
import { securityHeaders } from './security-headers.ts';
import { WorkAdmission } from './work-admission.ts';

export type { AppOptions } from './app-options.ts';
export type { ServedModel } from './model-state.ts';
export { stderrLog, type ServerLog } from './server-log.ts';

export interface EmsegApp {
  app: OpenAPIHono;
  metrics: ServerMetrics;
  admission: AdmissionQueue;
  /** The dynamic batcher, once the model is ready. */
  readonly batcher: BatchingPredictor | undefined;
  lifecycle: Lifecycle;
  decodePool: DecodePool;
  bodyBudget: BodyBudget;
  /** Admission by estimated cost (serve/work-admission.ts). */
  work: WorkAdmission;
  /** Resolves when the model is loaded (rejects if loading failed). */
  ready: Promise<ServedModel>;
}

export function createApp(options: AppOptions): EmsegApp {
  const settings = resolveAppOptions(options);
  const { log, limits, maxBodyBytes, timeoutMs } = settings;
  const admission = new AdmissionQueue({ concurrency: settings.concurrency, queueSize: settings.queueSize });
  const lifecycle = createLifecycle();
  const work = new WorkAdmission({ timeoutMs, secondsPerModelPixel: settings.secondsPerModelPixel });
  const retryAfterSeconds = () => admission.retryAfterSeconds();
  const bodyBudget = createBodyBudget({ maxBytes: settings.maxBodiesBytes, maxBodyBytes, retryAfterSeconds });
  const decodePool = new DecodePool({ workers: settings.decodeWorkers, budget: settings.decodeBudget });
  const segmentRequests = createRequestCounter();
  const metrics = createServerMetrics({
    queueDepth: () => admission.waiting,
    running: () => admission.running,
    pendingTiles: () => model.pendingTiles,
    sessionRuns: () => model.sessionRuns,
    processMetrics: settings.processMetrics,
  });
  const model = loadServedModel(settings.model, {
    batchSize: settings.batchSize,
    batchWaitMs: settings.batchWaitMs,
    segmentRequests: () => segmentRequests.count,
    onBatch: (batch) => {
      metrics.observeBatch(batch);
      work.observe(batch);
    },
    onReady: (served) => metrics.setProvider(served.provider),
    log,
  });

  const app = createRouter();
  app.onError(problemOnError({ log }));
  app.notFound(problemNotFound({ webRoot: settings.webRoot }));
  app.use('*', securityHeaders());
  app.use('*', closeOnUnreadBody());
  app.use('*', requestMetrics({ metrics }));
  app.use('*', lifecycle.gate());
  app.route('/', healthRoutes({ lifecycle, model }));
  app.route('/', modelRoutes({ model, limits: { maxBodyBytes, maxBodiesBytes: bodyBudget.maxBytes, ...limits, timeoutMs } }));
  app.route('/', metricsRoutes({ metrics }));
  app.route('/', openapiRoutes({ app }));
  app.route('/', segmentRoutes({ model, requests: segmentRequests, admission, work, bodyBudget, decodePool, limits, maxBodyBytes, timeoutMs }));
  app.route('/', webDemoRoutes({ root: settings.webRoot, sourceMaps: settings.serveSourceMaps }));

  return { app, metrics, admission, get batcher() { return model.batcher; }, lifecycle, decodePool, bodyBudget, work, ready: model.ready };
}
