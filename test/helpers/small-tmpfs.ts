/**
 * A small tmpfs for tests of full, read-only and vanishing disks (`mount -t tmpfs -o size=...`,
 * root only). `tmpfsUnavailable` says why the tests that need one are skipped elsewhere.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface SmallTmpfs {
  path: string;
  /** `mount -o remount,<options>`, e.g. 'ro' or 'size=20m'. */
  remount(options: string): void;
  unmount(): void;
}

function run(command: string, args: string[]): string | undefined {
  const result = spawnSync(command, args, { encoding: 'utf8' });
  return result.status === 0 ? undefined : (result.stderr || result.error?.message || `exit ${result.status}`).trim();
}

export function mountSmallTmpfs(size: string): SmallTmpfs {
  const path = mkdtempSync(join(tmpdir(), 'emseg-tmpfs-'));
  const failure = run('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', path]);
  if (failure) throw new Error(`mount -t tmpfs at ${path}: ${failure}`);
  return {
    path,
    remount: (options) => {
      const problem = run('mount', ['-o', `remount,${options}`, path]);
      if (problem) throw new Error(`mount -o remount,${options} ${path}: ${problem}`);
    },
    unmount: () => {
      run('umount', ['-l', path]);
      rmSync(path, { recursive: true, force: true });
    },
  };
}

/** Why a small tmpfs cannot be mounted here (not root, no mount), or undefined when it can. */
export const tmpfsUnavailable: string | undefined = (() => {
  try {
    mountSmallTmpfs('1m').unmount();
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
})();
