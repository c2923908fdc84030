/**
 * deploy/fetch-onnxruntime-cuda.js, which the Dockerfile runs: it installs the CUDA provider
 * libraries only from a package whose SHA-256 is the pinned one, and only when all of them are in it.
 * (The real NuGet download is not made here: the machine has no access to nuget.org.)
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { zipSync } from 'fflate';
import { afterEach, describe, expect, it } from 'vitest';
// @ts-expect-error plain JavaScript module without declarations
import { PINNED_SHA256, PROVIDER_LIBRARIES, extractProvider, nupkgUrl } from '../deploy/fetch-onnxruntime-cuda.js';

const NATIVE = 'runtimes/linux-x64/native/';
const dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

function fakeNupkg(names: readonly string[]): Uint8Array {
  const entries: Record<string, Uint8Array> = { 'Microsoft.ML.OnnxRuntime.Gpu.Linux.nuspec': new TextEncoder().encode('<package/>') };
  for (const name of names) entries[NATIVE + name] = new TextEncoder().encode(`contents of ${name}`);
  return zipSync(entries);
}
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

describe('fetch-onnxruntime-cuda', () => {
  it('pins a SHA-256 for the onnxruntime-node version in the lockfile and fetches it from NuGet', () => {
    const lock = JSON.parse(readFileSync(new URL('../package-lock.json', import.meta.url), 'utf8')) as { packages: Record<string, { version: string }> };
    const version = lock.packages['node_modules/onnxruntime-node']!.version;
    expect((PINNED_SHA256 as Record<string, string>)[version]).toMatch(/^[0-9a-f]{64}$/);
    expect(nupkgUrl(version)).toBe(`https://api.nuget.org/v3-flatcontainer/microsoft.ml.onnxruntime.gpu.linux/${version}/microsoft.ml.onnxruntime.gpu.linux.${version}.nupkg`);
  });

  it('writes the provider libraries of a package with the expected checksum', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'emseg-cuda-'));
    dirs.push(dir);
    const bytes = fakeNupkg(PROVIDER_LIBRARIES);
    const written = extractProvider(bytes, sha256(bytes), dir, 'fake.nupkg') as string[];
    expect(written.map((path) => readFileSync(path, 'utf8'))).toEqual((PROVIDER_LIBRARIES as string[]).map((name) => `contents of ${name}`));
  });

  it('refuses a package whose checksum differs, writing nothing', async () => {
    const dir = join(await mkdtemp(join(tmpdir(), 'emseg-cuda-')), 'out');
    dirs.push(dir);
    const bytes = fakeNupkg(PROVIDER_LIBRARIES);
    const wrong = sha256(new Uint8Array([1, 2, 3]));
    expect(() => extractProvider(bytes, wrong, dir, 'fake.nupkg')).toThrow(`fake.nupkg: SHA-256 ${sha256(bytes)}, expected ${wrong}; refusing to install it`);
    expect(existsSync(dir)).toBe(false);
  });

  it('refuses a package that lacks one of the libraries', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'emseg-cuda-'));
    dirs.push(dir);
    const bytes = fakeNupkg(PROVIDER_LIBRARIES.slice(1));
    expect(() => extractProvider(bytes, sha256(bytes), dir, 'fake.nupkg')).toThrow(/libonnxruntime_providers_cuda\.so not in runtimes\/linux-x64\/native\//);
  });
});
