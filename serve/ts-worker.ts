/**
 * Source of a worker thread that runs one of our TypeScript modules: tsx is registered first,
 * because a worker does not inherit the main thread's loader. Used with `new Worker(source, { eval: true })`.
 */
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

export function typescriptWorkerSource(entry: URL): string {
  // The package's ESM entry (require.resolve gives the CommonJS one, index.cjs, beside it).
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx/esm/api').replace(/\.cjs$/, '.mjs')).href;
  return `import(${JSON.stringify(tsx)}).then(({ register }) => { register(); return import(${JSON.stringify(entry.href)}); })`;
}
