#!/usr/bin/env node
// The `prepare` script (npm ci, npm install, npm pack): builds dist/ with `npm run build`. A
// production install (`npm ci --omit=dev`) has no TypeScript to build with: then it says so in one
// line and leaves dist/ as it is, instead of failing the install. Packing always builds.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';

const packing = ['pack', 'publish'].includes(process.env.npm_command ?? '');
let typescript = true;
try {
  createRequire(import.meta.url).resolve('typescript');
} catch {
  typescript = false;
}
if (!typescript && !packing) {
  process.stderr.write('emseg prepare: TypeScript is not installed (a production install), dist/ not built; build first: npm ci && npm run build && npm prune --omit=dev\n');
  process.exit(0);
}
const result = spawnSync('npm', ['run', 'build'], { stdio: 'inherit' });
process.exit(result.status ?? 1);
