/**
 * Writing outputs safely: a temp file in the same folder, then a rename, so a reader never sees a
 * half-written file and a crash leaves the old file intact. Refuses to write onto any of the
 * command's input files (the same path, a symlink to it, or a hard link: same device and inode).
 * A temp file left by a killed process is removed the first time a process writes into the same
 * folder, when its writer is proven gone (`.<name>.<host>_<pid namespace>_<pid>_<start>.<hex>.tmp`:
 * this host and PID namespace, and that process no longer runs; node/leftovers.ts), or, when its
 * writer cannot be checked from here, once it is older than FOREIGN_TEMP_FILE_AGE_MS (a writer on another machine, pod or namespace of a shared
 * store, or an older name that carries a pid only); completed outputs never match.
 */
import { mkdir, readdir, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { EmsegError } from '../core/errors.ts';
import { currentWriter, parseLeftover, writerState, writerTag } from './leftovers.ts';

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
 * A temp file whose writer cannot be proven gone (another host, pod or PID namespace on a shared
 * store, or an older name without the writer's identity) is removed only when it has not been
 * written for this long: generous, since a writer renames its temp file within moments.
 */
export const FOREIGN_TEMP_FILE_AGE_MS = 24 * 60 * 60 * 1000;

/** The temp file beside `path` for this process: `.<name>.<writer tag>.<hex>.tmp` (node/leftovers.ts). */
export function tempPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.${writerTag()}.${randomBytes(4).toString('hex')}.tmp`);
}

/**
 * Removes the temp files of writeFileAtomic in `folder` left by writers that are gone (see the
 * module comment). Returns the names removed.
 */
export async function removeStaleTempFiles(folder: string, options: { now?: number; foreignAgeMs?: number } = {}): Promise<string[]> {
  const now = options.now ?? Date.now();
  const foreignAgeMs = options.foreignAgeMs ?? FOREIGN_TEMP_FILE_AGE_MS;
  const self = currentWriter();
  const names = await readdir(folder).catch(() => [] as string[]);
  const removed: string[] = [];
  for (const name of names) {
    const leftover = parseLeftover(name);
    if (leftover?.source !== 'temp-file') continue;
    const path = join(folder, name);
    const state = leftover.writer ? writerState(leftover.writer, self) : 'unknown';
    if (state === 'running') continue;
    if (state === 'unknown') {
      const modified = await stat(path).then((info) => info.mtimeMs, () => undefined);
      if (modified === undefined || now - modified < foreignAgeMs) continue;
    }
    await unlink(path).then(
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
  const temp = tempPathFor(join(folder, basename(path)));
  try {
    await writeFile(temp, bytes, { flag: 'wx' });
    await rename(temp, path);
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    throw error;
  }
}
