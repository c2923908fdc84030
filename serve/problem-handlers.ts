/**
 * The app's error and not-found handlers, both answering RFC 9457 problems (serve/problem.ts):
 *
 *   app.onError(problemOnError({ log }));
 *   app.notFound(problemNotFound({ webRoot }));
 *
 * An error becomes its problem; a 500 says nothing internal and is logged with its stack. A
 * client that hung up mid-upload is no server error: one info line. A known API route asked with
 * another method answers 405 with Allow; any other path 404 (saying when the web demo is not built).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { ErrorHandler, NotFoundHandler } from 'hono';
import { DEFAULT_SERVE_CONFIG } from './config.ts';
import { nodeIncoming } from './keep-alive.ts';
import { API_ROUTES } from './openapi.ts';
import { ProblemError, problemFrom, problemResponse } from './problem.ts';
import { stderrLog, type ServerLog } from './server-log.ts';

export function problemOnError(options: { log?: ServerLog } = {}): ErrorHandler {
  const log = options.log ?? stderrLog;
  return (error, c) => {
    const incoming = nodeIncoming(c.env);
    if (incoming && (incoming.errored || incoming.destroyed) && !incoming.complete) {
      log.info(`${c.req.method} ${c.req.path}: the client closed the connection before sending the whole body`);
      return problemResponse(new ProblemError(400, 'the request body was not received completely', { code: 'E_BODY_INCOMPLETE' }));
    }
    const { problem, internal } = problemFrom(error);
    if (internal) log.error(`${c.req.method} ${c.req.path} failed`, error);
    return problemResponse(problem);
  };
}

export interface NotFoundOptions {
  /** Folder of the web demo, named in a GET's 404 when its index.html is missing. Default 'web-demo/dist'. */
  webRoot?: string;
  /** Routes answered with 405 and Allow for another method (HEAD comes with GET). Default API_ROUTES. */
  routes?: readonly { method: string; path: string }[];
}

export function problemNotFound(options: NotFoundOptions = {}): NotFoundHandler {
  const webRoot = options.webRoot ?? DEFAULT_SERVE_CONFIG.webRoot;
  const allowedMethods = new Map(
    (options.routes ?? API_ROUTES).map((route) => {
      const method = route.method.toUpperCase();
      return [route.path, method === 'GET' ? ['GET', 'HEAD'] : [method]] as const;
    }),
  );
  return (c) => {
    const allowed = allowedMethods.get(c.req.path);
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
  };
}
