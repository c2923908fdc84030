/**
 * GET /*: the web demo's static files, when their folder exists at start (build the demo before
 * starting the server). Source maps (*.map) only when asked; otherwise they fall through to 404.
 */
import { existsSync } from 'node:fs';
import { serveStatic } from '@hono/node-server/serve-static';
import { Hono } from 'hono';
import { DEFAULT_SERVE_CONFIG } from '../config.ts';

export interface WebDemoOptions {
  /** Folder of the built demo. Default 'web-demo/dist'. */
  root?: string;
  /** Serve *.map files. Default false. */
  sourceMaps?: boolean;
}

export function webDemoRoutes(options: WebDemoOptions = {}): Hono {
  const root = options.root ?? DEFAULT_SERVE_CONFIG.webRoot;
  const sourceMaps = options.sourceMaps ?? false;
  const router = new Hono();
  if (existsSync(root)) {
    const files = serveStatic({ root });
    router.get('/*', (c, next) => (!sourceMaps && c.req.path.endsWith('.map') ? next() : files(c, next)));
  }
  return router;
}
