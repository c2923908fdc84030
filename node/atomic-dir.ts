/**
 * Replacing a whole folder (a checkpoint, a tfjs model folder, the built web demo) so that a reader
 * never sees it half-written and a crash at any moment loses nothing:
 *
 *   1. the new content is written into `<parent>/.<name>.tmp-<pid>-<n>`;
 *   2. the current folder, if any, is renamed to `<parent>/.<name>.previous`;
 *   3. the temp folder is renamed to `<name>`;
 *   4. the previous folder is removed.
 *
 * A crash after 1 leaves a stale temp folder (the old `<name>` intact); after 2 only the previous
 * folder (`completeDir` reads it, `recoverInterruptedWrites` renames it back); after 3 a stale
 * previous folder. `recoverInterruptedWrites(parent)` puts every such state right: it restores a
 * previous folder whose `<name>` is missing and removes the temp and previous folders, and the temp
 * files of node/atomic-write.ts, left by processes that are no longer running. A completed output
 * is never removed.
 */
import { existsSync } from 'node:fs';
import { mkdir, readdir, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { parseLeftover, processIsRunning, writerState } from './leftovers.ts';

/** The steps of a replacement, for tests that simulate a crash after one of them. */
export type ReplaceStep = 'filled' | 'moved-aside' | 'renamed';

export interface ReplaceDirOptions {
  /** Awaited after each step (tests: a promise that never settles stops the replacement there, like a kill). */
  afterStep?: (step: ReplaceStep) => unknown;
}

let counter = 0;

/** `<parent>/.<name>.previous`: where the current folder waits while the new one is renamed in. */
export function previousDirOf(target: string): string {
  return join(dirname(target), `.${basename(target)}.previous`);
}

/**
 * The folder to read `target` from: `target` itself, or its previous copy when a crash stopped a
 * replacement between steps 2 and 3; undefined when neither exists.
 */
export function completeDir(target: string): string | undefined {
  if (existsSync(target)) return target;
  for (const previous of [previousDirOf(target), `${target}.previous`]) if (existsSync(previous)) return previous;
  return undefined;
}

/** Replaces folder `target` by a folder that `fill(tempDir)` writes (steps in the module comment). */
export async function replaceDirAtomic(target: string, fill: (tempDir: string) => unknown, options: ReplaceDirOptions = {}): Promise<void> {
  const parent = dirname(target);
  const temp = join(parent, `.${basename(target)}.tmp-${process.pid}-${Date.now()}-${counter++}`);
  const previous = previousDirOf(target);
  await mkdir(temp, { recursive: true });
  try {
    await fill(temp);
  } catch (error) {
    await rm(temp, { recursive: true, force: true });
    throw error;
  }
  await options.afterStep?.('filled');
  // A previous copy left by a crash is stale only when the target exists; otherwise it is the
  // last complete copy, and it stays until the new one is in place.
  let movedAside = false;
  if (existsSync(target)) {
    await rm(previous, { recursive: true, force: true });
    await rename(target, previous);
    movedAside = true;
  }
  await options.afterStep?.('moved-aside');
  await rename(temp, target);
  await options.afterStep?.('renamed');
  if (movedAside || existsSync(previous)) await rm(previous, { recursive: true, force: true });
}

export interface RecoveryReport {
  /** Folders renamed back from their previous copy (a crash between steps 2 and 3). */
  restored: string[];
  /** Temp and stale previous folders and files removed. */
  removed: string[];
}

export interface RecoveryOptions {
  /** The outputs whose leftovers are handled, e.g. ['model', 'last-model']; other entries are left alone. */
  names: readonly string[];
  /** Whether the process that wrote a leftover still runs (its leftovers are then left alone). Default: process.kill(pid, 0), true for this process. */
  isRunning?: (pid: number) => boolean;
}

/**
 * Puts `folder` right after interrupted replacements and writes of the outputs `names` (see the
 * module comment): restores, then removes leftovers of processes no longer running. Entries of
 * other names, and the outputs themselves, are never touched. A missing folder is fine.
 */
export async function recoverInterruptedWrites(folder: string, options: RecoveryOptions): Promise<RecoveryReport> {
  const isRunning = options.isRunning ?? processIsRunning;
  const report: RecoveryReport = { restored: [], removed: [] };
  let names: string[];
  try {
    names = await readdir(folder);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return report;
    throw error;
  }
  for (const entry of names) {
    const leftover = parseLeftover(entry);
    if (!leftover || !options.names.includes(leftover.name)) continue;
    const path = join(folder, entry);
    if (leftover.source !== 'previous-folder') {
      // A temp file naming its whole writer (node/leftovers.ts) goes only when that writer is proven gone.
      const gone = leftover.writer ? writerState(leftover.writer) === 'gone' : leftover.pid !== undefined && !isRunning(leftover.pid);
      if (!gone) continue;
      await rm(path, { recursive: true, force: true });
      report.removed.push(path);
      continue;
    }
    const target = join(folder, leftover.name);
    if (existsSync(target)) {
      await rm(path, { recursive: true, force: true });
      report.removed.push(path);
    } else {
      await rename(path, target);
      report.restored.push(target);
    }
  }
  return report;
}
