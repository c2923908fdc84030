/**
 * Installs npm projects in temporary folders without the network: the versions come from the
 * repository's package-lock.json and the tarballs from the npm cache that `npm ci` of the repository
 * filled. Used by the tests of the packed tarball and of the server's production install.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, rmdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
export const REPO = new URL('../..', import.meta.url).pathname.replace(/\/$/, '');

interface LockEntry {
  version?: string;
  dev?: boolean;
  [key: string]: unknown;
}
interface Lockfile {
  packages: Record<string, LockEntry>;
}

/** The repository's lockfile entries that a production install holds (no dev-only packages). */
export function productionLockEntries(): Record<string, LockEntry> {
  const lock = JSON.parse(readFileSync(join(REPO, 'package-lock.json'), 'utf8')) as Lockfile;
  return Object.fromEntries(Object.entries(lock.packages).filter(([path, entry]) => path !== '' && entry.dev !== true));
}

/**
 * Writes package.json and package-lock.json of a project that depends only on the packed emseg
 * tarball `tarballName` (in `dir`), pinned to the versions of the repository's lockfile.
 */
export async function writeConsumerProject(dir: string, tarballName: string): Promise<void> {
  const manifest = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as Record<string, unknown>;
  const tarball = readFileSync(join(dir, tarballName));
  const spec = `file:${tarballName}`;
  const emseg: LockEntry = {
    version: manifest.version as string,
    resolved: spec,
    integrity: `sha512-${createHash('sha512').update(tarball).digest('base64')}`,
    license: manifest.license,
    dependencies: manifest.dependencies,
    bin: manifest.bin,
    engines: manifest.engines,
    peerDependencies: manifest.peerDependencies,
    peerDependenciesMeta: manifest.peerDependenciesMeta,
  };
  const pkg = { name: 'emseg-consumer', version: '1.0.0', private: true, type: 'module', dependencies: { emseg: spec } };
  const lock = {
    name: pkg.name,
    version: pkg.version,
    lockfileVersion: 3,
    requires: true,
    packages: { '': { name: pkg.name, version: pkg.version, dependencies: pkg.dependencies }, 'node_modules/emseg': emseg, ...productionLockEntries() },
  };
  await writeFile(join(dir, 'package.json'), `${JSON.stringify(pkg, null, 2)}\n`);
  await writeFile(join(dir, 'package-lock.json'), `${JSON.stringify(lock, null, 2)}\n`);
}

/** Runs a command in `cwd`; resolves with its output, rejects with stdout and stderr in the message. */
export async function runIn(cwd: string, command: string, args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<string> {
  try {
    const { stdout } = await run(command, args, { cwd, env: { ...process.env, ...env }, maxBuffer: 64 * 1024 * 1024 });
    return stdout;
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; message: string };
    throw new Error(`${command} ${args.join(' ')} failed in ${cwd}:\n${e.stdout ?? ''}\n${e.stderr ?? e.message}`);
  }
}

/** `npm ci` from the cache only (ENOTCACHED when a tarball is missing: run `npm ci` in the repository first). */
export function npmCiOffline(cwd: string, extraArgs: readonly string[] = [], env: NodeJS.ProcessEnv = {}): Promise<string> {
  return runIn(cwd, 'npm', ['ci', '--offline', '--no-audit', '--no-fund', ...extraArgs], env);
}

/**
 * Builds dist/ (`npm run build`, incremental: quick when it is current) and runs `use` on it while
 * holding a lock folder, so that test files running in parallel never read dist/ while another
 * one rebuilds it, and the project is compiled once rather than once per test file.
 */
export async function withBuiltDist<T>(use: () => Promise<T>): Promise<T> {
  const lock = join(REPO, '.emseg-tmp-dist-lock');
  const deadline = Date.now() + 10 * 60_000;
  for (;;) {
    try {
      await mkdir(lock);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const age = Date.now() - (await stat(lock).catch(() => ({ mtimeMs: Date.now() }))).mtimeMs;
      if (age > 10 * 60_000) await rmdir(lock).catch(() => undefined); // left by a killed run
      if (Date.now() > deadline) throw new Error(`${lock}: still locked after 10 minutes`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
  try {
    await runIn(REPO, 'npm', ['run', 'build']);
    return await use();
  } finally {
    await rmdir(lock).catch(() => undefined);
  }
}
