/** GET /v1/model: the model card, the execution provider, the batcher's settings and the request limits. */
import type { ImageLimits } from '../limits.ts';
import type { ServedModelState } from '../model-state.ts';
import { modelRoute } from '../openapi.ts';
import { createRouter } from './router.ts';

/** The limits /v1/model reports. */
export interface RequestLimits extends ImageLimits {
  maxBodyBytes: number;
  maxBodiesBytes: number;
  timeoutMs: number;
}

export function modelRoutes(options: { model: ServedModelState; limits: RequestLimits }) {
  const { model: state, limits } = options;
  const router = createRouter();
  router.openapi(modelRoute, (c) => {
    const { model } = state.use();
    const { maxBodyBytes, maxBodiesBytes, maxPixels, maxStackPixels, maxPages, timeoutMs } = limits;
    return c.json(
      {
        provider: model.provider,
        card: model.card as unknown as Record<string, unknown>,
        batching: state.batching,
        limits: { maxBodyBytes, maxBodiesBytes, maxPixels, maxStackPixels, maxPages, timeoutMs },
      },
      200,
    );
  });
  return router;
}
