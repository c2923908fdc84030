/**
 * The code of a worker thread that runs a module beside the caller, for `new Worker(code, { eval: true })`.
 * From the compiled package (dist/, `.js` files) the module is imported as it is; from the
 * TypeScript sources (tests, development) tsx is registered in the worker first, since a worker
 * does not inherit the main thread's loader.
 *
 *   new Worker(workerEntrySource(import.meta.url, './inference-worker'), { eval: true, workerData })
 */
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

/** `callerUrl` is the caller's import.meta.url; `modulePath` is relative to it, without extension. */
export function workerEntrySource(callerUrl: string, modulePath: string): string {
  const fromSources = new URL(callerUrl).pathname.endsWith('.ts');
  const entry = new URL(`${modulePath}${fromSources ? '.ts' : '.js'}`, callerUrl).href;
  if (!fromSources) return `import(${JSON.stringify(entry)});`;
  // tsx's ESM entry (require.resolve gives the CommonJS one, index.cjs, beside it).
  const tsx = pathToFileURL(createRequire(callerUrl).resolve('tsx/esm/api').replace(/\.cjs$/, '.mjs')).href;
  return `import(${JSON.stringify(tsx)}).then(({ register }) => { register(); return import(${JSON.stringify(entry)}); });`;
}
