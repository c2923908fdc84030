#!/usr/bin/env node
// Fetches onnxruntime's CUDA execution provider for onnxruntime-node (linux x64) from its NuGet
// package, verifies the package against a checksum, and writes the provider libraries into a
// folder. Run by the Dockerfile; exits 1 with one line on any failure.
//
//   node deploy/fetch-onnxruntime-cuda.js <out-folder> [--url <nupkg url>] [--sha512 <base64|hex> | --sha256 <hex>]
//
// Defaults: the NuGet package Microsoft.ML.OnnxRuntime.Gpu.Linux of the onnxruntime-node version in
// the lockfile, checked against the checksum pinned below for that version.
//
// The checksum: nuget.org publishes a SHA-512 of every package (the catalog entry's `packageHash`,
// base64), not a SHA-256. No value is pinned for 1.30.0: this project's machine cannot reach
// nuget.org, so none was read or computed here, and an unverified pin would claim a check that was
// never made. Without a checksum the script downloads the package, prints its SHA-512 and SHA-256,
// and refuses to install it: compare the SHA-512 with the packageHash nuget.org publishes, then
// pass it (Docker: --build-arg ORT_CUDA_SHA512=...) or pin it below for the next builds.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { unzipSync } from 'fflate';

/**
 * Checksums of the .nupkg by onnxruntime version: `sha512` as nuget.org publishes it (base64) or
 * hex, or `sha256` hex computed from a package verified that way. Only values someone has checked.
 */
export const PINNED = {};
/** The libraries onnxruntime-node loads for the CUDA provider (its install-metadata.js). */
export const PROVIDER_LIBRARIES = ['libonnxruntime_providers_cuda.so', 'libonnxruntime_providers_shared.so', 'libonnxruntime_providers_tensorrt.so'];
const IN_PACKAGE = 'runtimes/linux-x64/native/';

/** `{ algorithm, hex }` of a checksum given as SHA-512 (base64 as nuget.org shows it, or hex) or SHA-256 hex. */
export function parseChecksum(value, algorithm) {
  const text = String(value).trim();
  if (algorithm === 'sha256') {
    if (!/^[0-9a-f]{64}$/i.test(text)) throw new Error(`--sha256: expected 64 hex digits, found '${text}'`);
    return { algorithm, hex: text.toLowerCase() };
  }
  if (/^[0-9a-f]{128}$/i.test(text)) return { algorithm, hex: text.toLowerCase() };
  const bytes = Buffer.from(text, 'base64');
  if (bytes.length !== 64 || bytes.toString('base64') !== text) throw new Error(`--sha512: expected 128 hex digits or 88 base64 characters (nuget.org's packageHash), found '${text}'`);
  return { algorithm, hex: bytes.toString('hex') };
}

export function nupkgUrl(version) {
  return `https://api.nuget.org/v3-flatcontainer/microsoft.ml.onnxruntime.gpu.linux/${version}/microsoft.ml.onnxruntime.gpu.linux.${version}.nupkg`;
}

/** `sha512 <base64> (hex <hex>), sha256 <hex>` of `bytes`, for the message that asks for a checksum. */
export function describeDigests(bytes) {
  const sha512 = createHash('sha512').update(bytes).digest();
  return `SHA-512 ${sha512.toString('base64')} (hex ${sha512.toString('hex')}), SHA-256 ${createHash('sha256').update(bytes).digest('hex')}`;
}

/**
 * Checks `bytes` against `checksum` ({ algorithm: 'sha512' | 'sha256', hex }) and writes the
 * provider libraries into `outDir`; throws with one line, writing nothing, on any mismatch.
 */
export function extractProvider(bytes, checksum, outDir, what) {
  const name = checksum.algorithm === 'sha512' ? 'SHA-512' : 'SHA-256';
  const actual = createHash(checksum.algorithm).update(bytes).digest('hex');
  if (actual !== checksum.hex) throw new Error(`${what}: ${name} ${actual}, expected ${checksum.hex}; refusing to install it`);
  const files = unzipSync(bytes, { filter: (file) => PROVIDER_LIBRARIES.some((name) => file.name === IN_PACKAGE + name) });
  const missing = PROVIDER_LIBRARIES.filter((name) => !files[IN_PACKAGE + name]);
  if (missing.length > 0) throw new Error(`${what}: ${missing.join(', ')} not in ${IN_PACKAGE}`);
  mkdirSync(outDir, { recursive: true });
  for (const name of PROVIDER_LIBRARIES) writeFileSync(join(outDir, name), files[IN_PACKAGE + name]);
  return PROVIDER_LIBRARIES.map((name) => join(outDir, name));
}

/** The checksum to check against: a flag, else the pin of `version`, else undefined. */
export function chooseChecksum(values, version, pinned = PINNED) {
  if (values.sha512 !== undefined && values.sha256 !== undefined) throw new Error('give --sha512 or --sha256, not both');
  if (values.sha512 !== undefined) return parseChecksum(values.sha512, 'sha512');
  if (values.sha256 !== undefined) return parseChecksum(values.sha256, 'sha256');
  const pin = pinned[version];
  if (!pin) return undefined;
  return pin.sha512 !== undefined ? parseChecksum(pin.sha512, 'sha512') : parseChecksum(pin.sha256, 'sha256');
}

function lockedOnnxruntimeVersion() {
  const lock = JSON.parse(readFileSync(new URL('../package-lock.json', import.meta.url), 'utf8'));
  return lock.packages['node_modules/onnxruntime-node'].version;
}

async function main() {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { url: { type: 'string' }, sha256: { type: 'string' }, sha512: { type: 'string' } } });
  const outDir = positionals[0];
  if (!outDir) throw new Error('usage: fetch-onnxruntime-cuda.js <out-folder> [--url <nupkg url>] [--sha512 <base64|hex> | --sha256 <hex>]');
  const version = lockedOnnxruntimeVersion();
  const checksum = chooseChecksum(values, version);
  const url = values.url ?? nupkgUrl(version);
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  const bytes = new Uint8Array(await response.arrayBuffer());
  if (!checksum) {
    throw new Error(
      `no checksum for onnxruntime ${version}: none pinned in deploy/fetch-onnxruntime-cuda.js and no --sha512/--sha256 given. Downloaded ${url}: ${describeDigests(bytes)}. Compare the SHA-512 with the packageHash nuget.org publishes for Microsoft.ML.OnnxRuntime.Gpu.Linux ${version}, then pass it: --build-arg ORT_CUDA_SHA512=<base64>`,
    );
  }
  const written = extractProvider(bytes, checksum, outDir, url);
  process.stdout.write(`fetch-onnxruntime-cuda: ${written.length} libraries of onnxruntime ${version} verified (${checksum.algorithm}) and written to ${outDir}\n`);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((error) => {
    process.stderr.write(`fetch-onnxruntime-cuda: ${error.message}\n`);
    process.exit(1);
  });
}
