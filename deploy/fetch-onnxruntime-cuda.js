#!/usr/bin/env node
// Fetches onnxruntime's CUDA execution provider for onnxruntime-node (linux x64) from its NuGet
// package, verifies the package's SHA-256 against the pinned value, and writes the provider
// libraries into a folder. Run by the Dockerfile; exits 1 with one line on any failure.
//
//   node deploy/fetch-onnxruntime-cuda.js <out-folder> [--url <nupkg url>] [--sha256 <hex>]
//
// Defaults: the NuGet package Microsoft.ML.OnnxRuntime.Gpu.Linux of the onnxruntime-node version in
// the lockfile, and the SHA-256 pinned below for it. A new onnxruntime version needs a new pin.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { unzipSync } from 'fflate';

/** SHA-256 of the .nupkg of each onnxruntime version, as published on nuget.org. */
export const PINNED_SHA256 = {
  '1.30.0': '77ca23682fc164789e67cd0fa4ce022b1b1c94e1978046c6446eee5fb0a3a3d6',
};
/** The libraries onnxruntime-node loads for the CUDA provider (its install-metadata.js). */
export const PROVIDER_LIBRARIES = ['libonnxruntime_providers_cuda.so', 'libonnxruntime_providers_shared.so', 'libonnxruntime_providers_tensorrt.so'];
const IN_PACKAGE = 'runtimes/linux-x64/native/';

export function nupkgUrl(version) {
  return `https://api.nuget.org/v3-flatcontainer/microsoft.ml.onnxruntime.gpu.linux/${version}/microsoft.ml.onnxruntime.gpu.linux.${version}.nupkg`;
}

/** Checks `bytes` against `sha256` and writes the provider libraries into `outDir`; throws with one line. */
export function extractProvider(bytes, sha256, outDir, what) {
  const actual = createHash('sha256').update(bytes).digest('hex');
  if (actual !== sha256) throw new Error(`${what}: SHA-256 ${actual}, expected ${sha256}; refusing to install it`);
  const files = unzipSync(bytes, { filter: (file) => PROVIDER_LIBRARIES.some((name) => file.name === IN_PACKAGE + name) });
  const missing = PROVIDER_LIBRARIES.filter((name) => !files[IN_PACKAGE + name]);
  if (missing.length > 0) throw new Error(`${what}: ${missing.join(', ')} not in ${IN_PACKAGE}`);
  mkdirSync(outDir, { recursive: true });
  for (const name of PROVIDER_LIBRARIES) writeFileSync(join(outDir, name), files[IN_PACKAGE + name]);
  return PROVIDER_LIBRARIES.map((name) => join(outDir, name));
}

function lockedOnnxruntimeVersion() {
  const lock = JSON.parse(readFileSync(new URL('../package-lock.json', import.meta.url), 'utf8'));
  return lock.packages['node_modules/onnxruntime-node'].version;
}

async function main() {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { url: { type: 'string' }, sha256: { type: 'string' } } });
  const outDir = positionals[0];
  if (!outDir) throw new Error('usage: fetch-onnxruntime-cuda.js <out-folder> [--url <nupkg url>] [--sha256 <hex>]');
  const version = lockedOnnxruntimeVersion();
  const sha256 = values.sha256 ?? PINNED_SHA256[version];
  if (!sha256) throw new Error(`no SHA-256 pinned for onnxruntime ${version} in deploy/fetch-onnxruntime-cuda.js`);
  const url = values.url ?? nupkgUrl(version);
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  const written = extractProvider(new Uint8Array(await response.arrayBuffer()), sha256, outDir, url);
  process.stdout.write(`fetch-onnxruntime-cuda: ${written.length} libraries of onnxruntime ${version} verified and written to ${outDir}\n`);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((error) => {
    process.stderr.write(`fetch-onnxruntime-cuda: ${error.message}\n`);
    process.exit(1);
  });
}
