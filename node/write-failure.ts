/**
 * A file-system error while writing an output, as one line for the user: what could not be
 * written, why in words (a full disk, a read-only or forbidden folder, a folder removed or
 * unmounted while writing), and what was kept for a resume. The one translation of these errors:
 * every writer's caller (predict's in-memory and large paths) uses it, and the CLI's last resort
 * (cli/run.ts) prints any such error that reaches it the same way, never as a stack trace.
 */
import { accessSync, constants, existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { EmsegError, isEmsegError } from '../core/errors.ts';

/** The errno codes of a failed write, in words. */
export const WRITE_FAILURE_REASONS: Readonly<Record<string, string>> = {
  ENOSPC: 'no space left on the device',
  EDQUOT: 'the disk quota is used up',
  EFBIG: 'the file is larger than the file system allows',
  EROFS: 'the file system is read-only',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  ENOENT: 'the folder no longer exists, removed or unmounted while writing',
  ENOTDIR: 'a folder on the way is a file',
  EIO: 'an input/output error of the device',
};

/** The errno code of `error` when it is one of WRITE_FAILURE_REASONS, else undefined. */
export function writeFailureCode(error: unknown): string | undefined {
  if (isEmsegError(error) || !(error instanceof Error)) return undefined;
  const code = (error as NodeJS.ErrnoException).code;
  return code !== undefined && code in WRITE_FAILURE_REASONS ? code : undefined;
}

/**
 * Node's recursive mkdir reports ENOENT on a read-only file system or in a folder it may not
 * write (it cannot tell them from a missing parent): the nearest existing folder tells which.
 */
function realMkdirCode(error: NodeJS.ErrnoException): string {
  if (error.code !== 'ENOENT' || error.syscall !== 'mkdir' || !error.path) return error.code!;
  let folder = dirname(error.path);
  while (!existsSync(folder) && dirname(folder) !== folder) folder = dirname(folder);
  try {
    accessSync(folder, constants.W_OK);
    return error.code;
  } catch (denied) {
    const code = (denied as NodeJS.ErrnoException).code;
    return code !== undefined && code in WRITE_FAILURE_REASONS ? code : error.code;
  }
}

/** `<reason> (<CODE>[ at <path>])` for a write failure. */
export function describeWriteFailure(error: NodeJS.ErrnoException): string {
  const code = realMkdirCode(error);
  return `${WRITE_FAILURE_REASONS[code]} (${code}${error.path ? ` at ${error.path}` : ''})`;
}

/**
 * The one-line EmsegError (E_WRITE_FAILED) for a write failure of `output`, ending with `kept`
 * (what stays for a resume), or `error` itself when it is no such failure.
 */
export function asWriteFailure(error: unknown, output: string, kept?: string): unknown {
  if (writeFailureCode(error) === undefined) return error;
  const message = `${output}: cannot be written: ${describeWriteFailure(error as NodeJS.ErrnoException)}${kept ? `; ${kept}` : ''}`;
  return new EmsegError('E_WRITE_FAILED', message, { cause: error });
}
