/**
 * deploy/fetch-onnxruntime-cuda.js, which the Dockerfile runs: it installs the CUDA provider
 * libraries only from a package whose SHA-512 (as nuget.org publishes it) or SHA-256 is the one
 * given or pinned, only when all of them are in it, and refuses when there is no checksum at all.
 * (The real NuGet download is not made here: the machine has no access to nuget.org, so no
 * checksum is pinned; the test checks that no unverified one is.)
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
// @ts-expect-error plain JavaScript module without declarations
import { PINNED, PROVIDER_LIBRARIES, chooseChecksum, describeDigests, extractProvider, nupkgUrl, parseChecksum } from '../deploy/fetch-onnxruntime-cuda.js';
import { tempDir } from './helpers/temp-dir.ts';

const NATIVE = 'runtimes/linux-x64/native/';

function fakeNupkg(names: readonly string[]): Uint8Array {
  const entries: Record<string, Uint8Array> = { 'Microsoft.ML.OnnxRuntime.Gpu.Linux.nuspec': new TextEncoder().encode('<package/>') };
  for (const name of names) entries[NATIVE + name] = new TextEncoder().encode(`contents of ${name}`);
  return zipSync(entries);
}
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
const sha512 = (bytes: Uint8Array) => createHash('sha512').update(bytes).digest();
const checksum256 = (bytes: Uint8Array) => ({ algorithm: 'sha256', hex: sha256(bytes) });

describe('fetch-onnxruntime-cuda', () => {
  it('fetches the onnxruntime-node version of the lockfile from NuGet, and pins no checksum that nobody computed', () => {
    const lock = JSON.parse(readFileSync(new URL('../package-lock.json', import.meta.url), 'utf8')) as { packages: Record<string, { version: string }> };
    const version = lock.packages['node_modules/onnxruntime-node']!.version;
    expect(nupkgUrl(version)).toBe(`https://api.nuget.org/v3-flatcontainer/microsoft.ml.onnxruntime.gpu.linux/${version}/microsoft.ml.onnxruntime.gpu.linux.${version}.nupkg`);
    // deploy/README.md says the checksum is unverified for this version; a pin added later must come with that sentence changed.
    expect(PINNED).toEqual({});
    expect(readFileSync(new URL('../deploy/README.md', import.meta.url), 'utf8')).toMatch(/no checksum is pinned/i);
    expect(chooseChecksum({}, version)).toBeUndefined();
  });

  it("takes SHA-512 as nuget.org publishes it (base64) or hex, or SHA-256 hex, and refuses anything else", () => {
    const bytes = fakeNupkg(PROVIDER_LIBRARIES);
    const hex = sha512(bytes).toString('hex');
    expect(parseChecksum(sha512(bytes).toString('base64'), 'sha512')).toEqual({ algorithm: 'sha512', hex });
    expect(parseChecksum(hex.toUpperCase(), 'sha512')).toEqual({ algorithm: 'sha512', hex });
    expect(chooseChecksum({ sha256: sha256(bytes) }, '9.9.9')).toEqual(checksum256(bytes));
    expect(chooseChecksum({}, '9.9.9', { '9.9.9': { sha512: hex } })).toEqual({ algorithm: 'sha512', hex });
    expect(() => parseChecksum(sha256(bytes), 'sha512')).toThrow(/--sha512: expected 128 hex digits or 88 base64 characters/);
    expect(() => parseChecksum('xyz', 'sha256')).toThrow("--sha256: expected 64 hex digits, found 'xyz'");
    expect(() => chooseChecksum({ sha256: sha256(bytes), sha512: hex }, '9.9.9')).toThrow('give --sha512 or --sha256, not both');
    expect(describeDigests(bytes)).toBe(`SHA-512 ${sha512(bytes).toString('base64')} (hex ${hex}), SHA-256 ${sha256(bytes)}`);
  });

  it('writes the provider libraries of a package with the expected checksum', async () => {
    const dir = tempDir('emseg-cuda-');
    const bytes = fakeNupkg(PROVIDER_LIBRARIES);
    const written = extractProvider(bytes, { algorithm: 'sha512', hex: sha512(bytes).toString('hex') }, dir, 'fake.nupkg') as string[];
    expect(written.map((path) => readFileSync(path, 'utf8'))).toEqual((PROVIDER_LIBRARIES as string[]).map((name) => `contents of ${name}`));
  });

  it('refuses a package whose checksum differs, writing nothing', async () => {
    const dir = join(tempDir('emseg-cuda-'), 'out');
    const bytes = fakeNupkg(PROVIDER_LIBRARIES);
    const wrong = sha256(new Uint8Array([1, 2, 3]));
    expect(() => extractProvider(bytes, { algorithm: 'sha256', hex: wrong }, dir, 'fake.nupkg')).toThrow(`fake.nupkg: SHA-256 ${sha256(bytes)}, expected ${wrong}; refusing to install it`);
    expect(existsSync(dir)).toBe(false);
  });

  it('refuses a package that lacks one of the libraries', async () => {
    const dir = tempDir('emseg-cuda-');
    const bytes = fakeNupkg(PROVIDER_LIBRARIES.slice(1));
    expect(() => extractProvider(bytes, checksum256(bytes), dir, 'fake.nupkg')).toThrow(/libonnxruntime_providers_cuda\.so not in runtimes\/linux-x64\/native\//);
  });
});
