/**
 * Prometheus metrics of one server (prom-client, a registry per app so that tests and several apps
 * in one process do not mix): requests and their latency by route, method and status; queue depth
 * and requests running; session calls (inference time, tiles per batch); the execution provider;
 * and prom-client's default process metrics (CPU, memory, event-loop lag) under the one prefix
 * `emseg_` (`emseg_process_cpu_seconds_total`, `emseg_nodejs_eventloop_lag_seconds`, ...). Counts
 * are Counters named `_total` (OpenMetrics), also those read from elsewhere at scrape time.
 */
import type { MiddlewareHandler } from 'hono';
import { matchedRoutes } from 'hono/route';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { BatchReport } from '../core/tile-batcher.ts';

export interface ServerMetrics {
  registry: Registry;
  requests: Counter<'route' | 'method' | 'status'>;
  requestSeconds: Histogram<'route' | 'method' | 'status'>;
  inferenceSeconds: Histogram<never>;
  batchTiles: Histogram<never>;
  /** Records one session call of the batcher. */
  observeBatch: (batch: BatchReport) => void;
  /** Sets the provider in use (one series with value 1). */
  setProvider: (provider: string) => void;
}

export interface MetricsOptions {
  /** Read at scrape time: requests waiting for a slot. */
  queueDepth: () => number;
  /** Read at scrape time: requests holding a slot. */
  running: () => number;
  /** Read at scrape time: tiles waiting in the batcher. */
  pendingTiles: () => number;
  /** Read at scrape time: session calls so far by session kind (a pool's scheduler), if known. */
  sessionRuns?: () => { wide: number; narrow: number } | undefined;
  /** Also collect prom-client's default process metrics. Default true. */
  processMetrics?: boolean;
}

/** The prefix of every metric of the server, prom-client's default ones included. */
export const METRIC_PREFIX = 'emseg_';

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

export function createServerMetrics(options: MetricsOptions): ServerMetrics {
  const registry = new Registry();
  if (options.processMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: METRIC_PREFIX });
  const registers = [registry];
  const requests = new Counter({
    name: 'emseg_http_requests_total',
    help: 'HTTP requests answered, by route template, method and status',
    labelNames: ['route', 'method', 'status'] as const,
    registers,
  });
  const requestSeconds = new Histogram({
    name: 'emseg_http_request_duration_seconds',
    help: 'HTTP request latency in seconds, by route template, method and status',
    labelNames: ['route', 'method', 'status'] as const,
    buckets: LATENCY_BUCKETS,
    registers,
  });
  new Gauge({
    name: 'emseg_queue_depth',
    help: 'Segmentation requests waiting for a processing slot',
    registers,
    collect() {
      this.set(options.queueDepth());
    },
  });
  new Gauge({
    name: 'emseg_requests_running',
    help: 'Segmentation requests holding a processing slot',
    registers,
    collect() {
      this.set(options.running());
    },
  });
  new Counter({
    name: 'emseg_session_calls_total',
    help: 'Session calls by session: wide (a request alone in the server, all cores) or narrow (side by side)',
    labelNames: ['session'] as const,
    registers,
    collect() {
      // The scheduler keeps the counts; a Counter has no set(), so it is refilled from them.
      const runs = options.sessionRuns?.();
      if (!runs) return;
      this.reset();
      this.inc({ session: 'wide' }, runs.wide);
      this.inc({ session: 'narrow' }, runs.narrow);
    },
  });
  new Gauge({
    name: 'emseg_batcher_pending_tiles',
    help: 'Tiles waiting in the dynamic batcher for a session call',
    registers,
    collect() {
      this.set(options.pendingTiles());
    },
  });
  const inferenceSeconds = new Histogram({
    name: 'emseg_inference_seconds',
    help: 'Duration of one session call (one dynamic batch) in seconds',
    buckets: LATENCY_BUCKETS,
    registers,
  });
  const batchTiles = new Histogram({
    name: 'emseg_batch_tiles',
    help: 'Tiles per session call',
    buckets: [1, 2, 3, 4, 6, 8, 12, 16, 32, 64],
    registers,
  });
  const provider = new Gauge({
    name: 'emseg_execution_provider',
    help: 'Execution provider in use (value 1 on the provider label)',
    labelNames: ['provider'] as const,
    registers,
  });
  return {
    registry,
    requests,
    requestSeconds,
    inferenceSeconds,
    batchTiles,
    observeBatch: (batch) => {
      inferenceSeconds.observe(batch.seconds);
      batchTiles.observe(batch.tiles);
    },
    setProvider: (name) => {
      provider.reset();
      provider.set({ provider: name }, 1);
    },
  };
}

/**
 * Middleware counting every request and its latency. The route label is the matched route
 * template (`/v1/segment`), never the raw path, so unknown paths do not create series: they are
 * labelled `unmatched`; the web demo's files share `/*`. An answer given by a middleware before the
 * route's handler (503 E_BODIES_FULL, 413 from the body limit) counts under the route it answered.
 */
export function requestMetrics(options: { metrics: ServerMetrics }): MiddlewareHandler {
  const { metrics } = options;
  return async (c, next) => {
    const started = performance.now();
    try {
      await next();
    } finally {
      // The handler that answered (Hono records its index as the chain runs), not the last route
      // that matched: the web demo's GET /* matches every GET path after the API routes.
      // An answer from a route's middleware (body budget, body limit, shutdown gate) counts under
      // the route whose request it answered.
      const routes = matchedRoutes(c);
      const handler = routes[c.req.routeIndex];
      const route = handler && handler.method !== 'ALL' ? handler.path : (routes.find((r) => r.method === c.req.method)?.path ?? 'unmatched');
      const labels = { route, method: c.req.method, status: String(c.res.status) };
      metrics.requests.inc(labels);
      metrics.requestSeconds.observe(labels, (performance.now() - started) / 1000);
    }
  };
}
