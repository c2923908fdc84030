/**
 * A router of the app: an OpenAPIHono whose query validation answers 400 E_BAD_ARGUMENT problems
 * naming the parameter. Every route group (serve/routes/*.ts) is one router, mounted by createApp
 * with `app.route('/', group)`; its routes join the app's /openapi.json document.
 */
import { OpenAPIHono } from '@hono/zod-openapi';
import { ProblemError } from '../problem.ts';

export function createRouter(): OpenAPIHono {
  return new OpenAPIHono({
    defaultHook: (result) => {
      if (!result.success) {
        const issue = result.error.issues[0];
        const where = issue?.path.join('.') || result.target;
        throw new ProblemError(400, `${where}: ${issue?.message ?? 'invalid value'}`, { code: 'E_BAD_ARGUMENT' });
      }
    },
  });
}
