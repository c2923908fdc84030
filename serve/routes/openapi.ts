/** GET /openapi.json: the OpenAPI 3.1 document of the whole app, generated from its route table (serve/openapi.ts). */
import type { OpenAPIHono } from '@hono/zod-openapi';
import { OPENAPI_INFO, openapiRoute } from '../openapi.ts';
import { createRouter } from './router.ts';

export function openapiRoutes(options: { app: OpenAPIHono }) {
  const router = createRouter();
  router.openapi(openapiRoute, (c) => c.json(options.app.getOpenAPI31Document(OPENAPI_INFO) as unknown as Record<string, unknown>, 200));
  return router;
}
