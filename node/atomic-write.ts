/**
 * Writing outputs safely: a temp file in the same folder, then a rename, so a reader never sees a
 * half-written file and a crash leaves the old file intact. Refuses to write onto any of the
 * command's input files (the same path, a symlink to it, or a hard link: same device and inode).
 * A temp file left by a killed process (`.<name>.<pid>.<hex>.tmp`, its pid no longer running) is
 * removed the first time a process writes into the same folder; completed outputs never match.
 */
import { mkdir, readdir, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { EmsegError } from '../core/errors.ts';
import { parseLeftover, processIsRunning } from './leftovers.ts';

export interface WriteFileAtomicOptions {
  /** Files this command reads; writing onto one of them is refused with E_OUTPUT_EXISTS. */
  inputs?: readonly string[];
  /** When false, an existing file at `path` is refused with E_OUTPUT_EXISTS. Default true. */
  overwrite?: boolean;
}

async function identity(path: string): Promise<string | undefined> {
  try {
    const s = await stat(path);
    return `${s.dev}:${s.ino}`;
  } catch {
    return undefined;
  }
}

/** Throws E_OUTPUT_EXISTS when `output` is (or links to) one of `inputs`. Call before writing anything. */
export async function assertNotAnInput(output: string, inputs: readonly string[]): Promise<void> {
  const target = resolve(output);
  const targetId = await identity(target);
  for (const input of inputs) {
    const same = resolve(input) === target || (targetId !== undefined && (await identity(input)) === targetId);
    if (same) {
      throw new EmsegError('E_OUTPUT_EXISTS', `${output}: is also an input (${input}); refusing to overwrite an input, choose another output path`);
    }
  }
}

const cleanedFolders = new Set<string>();

/**
 * Removes the temp files of writeFileAtomic in `folder` whose writer is no longer running (killed
 * between creating and renaming them). Returns the names removed.
 */
export async function removeStaleTempFiles(folder: string): Promise<string[]> {
  const names = await readdir(folder).catch(() => [] as string[]);
  const removed: string[] = [];
  for (const name of names) {
    const leftover = parseLeftover(name);
    if (leftover?.source !== 'temp-file' || leftover.pid === undefined) continue;
    if (leftover.pid === process.pid || processIsRunning(leftover.pid)) continue;
    await unlink(join(folder, name)).then(
      () => removed.push(name),
      () => undefined,
    );
  }
  return removed;
}

/** Writes `bytes` to `path` atomically, creating parent folders. */
export async function writeFileAtomic(
  path: string,
  bytes: Uint8Array | string,
  options: WriteFileAtomicOptions = {},
): Promise<void> {
  if (options.inputs) await assertNotAnInput(path, options.inputs);
  if (options.overwrite === false && (await identity(path)) !== undefined) {
    throw new EmsegError('E_OUTPUT_EXISTS', `${path}: already exists; refusing to overwrite it`);
  }
  const folder = dirname(resolve(path));
  await mkdir(folder, { recursive: true });
  if (!cleanedFolders.has(folder)) {
    cleanedFolders.add(folder);
    await removeStaleTempFiles(folder);
  }
  const temp = join(folder, `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    await writeFile(temp, bytes, { flag: 'wx' });
    await rename(temp, path);
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    throw error;
  }
}
