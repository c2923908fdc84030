#!/usr/bin/env node
// Runs a benchmark from bench/ (`npm run bench:train`, `npm run bench:serve`, `npm run bench:load`, `npm run bench:large`, `npm run bench:int8`, `npm run bench:web`, `npm run bench:seeds`, `npm run bench:link`): `emseg-bench <name> [args]`.
import { register } from 'tsx/esm/api';

register();
const [name, ...args] = process.argv.slice(2);
const benches = { train: '../bench/train.ts', serve: '../bench/serve.ts', load: '../bench/load.ts', large: '../bench/large.ts', int8: '../bench/int8.ts', web: '../bench/web.ts', seeds: '../bench/seed-rule.ts', link: '../bench/section-links.ts' };
const path = benches[name];
if (!path) {
  process.stderr.write(`emseg-bench: unknown benchmark '${name}', expected one of ${Object.keys(benches).join(', ')}\n`);
  process.exit(1);
}
const { runBench } = await import(path);
process.exitCode = await runBench(args);
