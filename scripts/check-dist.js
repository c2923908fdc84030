#!/usr/bin/env node
// Run by `npm run build` after tsc. Removes compiled files whose source is gone (tsc never deletes
// outputs, and they would be packed), then fails when a compiled module in dist/ still imports a
// relative `.ts` path (tsc's rewriteRelativeImportExtensions misses some positions, e.g. dynamic
// imports inside `export default <expression>`), which would work from the sources but not from the package.
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('../dist/', import.meta.url).pathname;
const relativeTsImport = /(?:\bfrom\s*|\bimport\s*\(\s*)(['"])(\.{1,2}\/[^'"]*\.[mc]?ts)\1/g;
const repo = new URL('..', import.meta.url).pathname;
const problems = [];
for (const entry of readdirSync(root, { recursive: true, withFileTypes: true })) {
  if (!entry.isFile() || !/\.(js|d\.ts)$/.test(entry.name)) continue;
  const path = join(entry.parentPath, entry.name);
  const source = join(repo, path.slice(root.length).replace(/\.(js|d\.ts)$/, '.ts'));
  if (!existsSync(source)) {
    rmSync(path);
    continue;
  }
  if (!entry.name.endsWith('.js')) continue;
  for (const match of readFileSync(path, 'utf8').matchAll(relativeTsImport)) problems.push(`${path.slice(root.length)}: ${match[2]}`);
}
if (problems.length > 0) {
  process.stderr.write(`build: ${problems.length} import(s) of .ts files left in dist/ (name the default export first):\n  ${problems.join('\n  ')}\n`);
  process.exit(1);
}
