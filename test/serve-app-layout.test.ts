/**
 * The app's layout (issue 27): createApp only assembles the app, in under 80 lines; every route of
 * the API has its handler in one route group of serve/routes/, none in serve/app.ts.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { API_ROUTES, healthRoute, metricsRoute, modelRoute, openapiRoute, readyRoute, segmentRoute } from '../serve/openapi.ts';

const appSource = readFileSync('serve/app.ts', 'utf8');

/** Lines of a top-level function, from its `function` line to its closing brace at column 0. */
function functionLines(source: string, name: string): number {
  const lines = source.split('\n');
  const start = lines.findIndex((line) => new RegExp(`^export function ${name}\\(`).test(line));
  expect(start, `function ${name}`).toBeGreaterThanOrEqual(0);
  const end = lines.findIndex((line, i) => i > start && line === '}');
  return end - start + 1;
}

describe('serve/app.ts', () => {
  it('createApp is under 80 lines', () => {
    expect(functionLines(appSource, 'createApp')).toBeLessThan(80);
  });

  it('registers no handler itself: each API route is handled in exactly one serve/routes/ file', () => {
    expect(appSource).not.toMatch(/\.(openapi|get|post|put|delete|all)\(/);
    const names = new Map<unknown, string>([
      [healthRoute, 'healthRoute'],
      [readyRoute, 'readyRoute'],
      [modelRoute, 'modelRoute'],
      [metricsRoute, 'metricsRoute'],
      [openapiRoute, 'openapiRoute'],
      [segmentRoute, 'segmentRoute'],
    ]);
    expect(API_ROUTES.map((route) => names.get(route))).not.toContain(undefined);
    const groups = readdirSync('serve/routes').map((file) => readFileSync(join('serve/routes', file), 'utf8'));
    for (const name of names.values()) {
      expect(groups.filter((source) => source.includes(`.openapi(${name},`)), name).toHaveLength(1);
    }
  });
});
