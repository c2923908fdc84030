/** GET /metrics: the app's Prometheus registry (serve/metrics.ts) in the text exposition format. */
import type { ServerMetrics } from '../metrics.ts';
import { metricsRoute } from '../openapi.ts';
import { createRouter } from './router.ts';

export function metricsRoutes(options: { metrics: ServerMetrics }) {
  const { registry } = options.metrics;
  const router = createRouter();
  router.openapi(metricsRoute, async (c) => c.text(await registry.metrics(), 200, { 'Content-Type': registry.contentType }));
  return router;
}
