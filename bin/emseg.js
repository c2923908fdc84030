#!/usr/bin/env node
// Entry point of the `emseg` command: runs the CLI compiled into dist/ (`npm run build`, run by
// `npm ci` and `npm pack` through the `prepare` script).
import { existsSync } from 'node:fs';

const compiled = new URL('../dist/cli/run.js', import.meta.url);
if (!existsSync(compiled)) {
  process.stderr.write('emseg: dist/ is missing; build it with `npm run build` (npm ci does it through `prepare`)\n');
  process.exit(1);
}
const { runCli } = await import(compiled.href);
process.exitCode = await runCli(process.argv.slice(2));
