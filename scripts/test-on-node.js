#!/usr/bin/env node
// Runs test files on the Node.js that runs this script, after checking its major version:
//
//   npm exec --yes --package=node@26 -- node scripts/test-on-node.js 26 <vitest filters>...
//
// `npm run test:node26` (part of README.md's test command, so of .ci/run) and `test:node26:all`
// use it for the parts that the image runs on Node 26 while
// `npm test` runs on the project's Node 20: the server, the package and the streaming inference.
// npm exec puts node@26's binary first on PATH, so vitest's workers and any `node`/`npm` the tests
// spawn run on it too; the npm package `node` fetches the binary from the npm registry once, then
// works offline from the npm cache.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const [major, ...filters] = process.argv.slice(2);
if (!/^\d+$/.test(major ?? '')) {
  process.stderr.write('test-on-node: usage: test-on-node.js <node major> <vitest filters>...\n');
  process.exit(2);
}
const running = process.versions.node.split('.')[0];
if (running !== major) {
  process.stderr.write(`test-on-node: expected Node ${major}, found ${process.version} (${process.execPath}); run it through npm exec --package=node@${major}\n`);
  process.exit(1);
}
process.stdout.write(`test-on-node: ${process.version} (${process.execPath}), vitest ${filters.join(' ')}\n`);
const vitest = fileURLToPath(new URL('../node_modules/vitest/vitest.mjs', import.meta.url));
const result = spawnSync(process.execPath, [vitest, 'run', ...filters], { stdio: 'inherit' });
process.exit(result.status ?? 1);
