/** GET /healthz (liveness: answers at once) and GET /readyz (the model is loaded and no shutdown has begun). */
import { healthRoute, readyRoute } from '../openapi.ts';
import type { Lifecycle } from '../lifecycle.ts';
import type { ServedModelState } from '../model-state.ts';
import { ProblemError } from '../problem.ts';
import { createRouter } from './router.ts';

export function healthRoutes(options: { lifecycle: Lifecycle; model: ServedModelState }) {
  const { lifecycle, model: state } = options;
  const router = createRouter();
  router.openapi(healthRoute, (c) => c.json({ status: 'ok' as const }, 200));
  router.openapi(readyRoute, (c) => {
    if (lifecycle.shuttingDown) throw new ProblemError(503, 'the server is shutting down', { code: 'E_SHUTTING_DOWN' });
    const { model } = state.use();
    return c.json({ status: 'ready' as const, provider: model.provider, model: `${model.card.name}@${model.card.version}` }, 200);
  });
  return router;
}
