/** Where the server's log lines go: an interface, and the default on stderr. */
import { isEmsegError } from '../core/errors.ts';

export interface ServerLog {
  info: (message: string) => void;
  warn: (message: string) => void;
  error: (message: string, error?: unknown) => void;
}

/** Log lines on stderr, one per event, with an ISO time. */
export const stderrLog: ServerLog = {
  info: (message) => process.stderr.write(`${new Date().toISOString()} info ${message}\n`),
  warn: (message) => process.stderr.write(`${new Date().toISOString()} warn ${message}\n`),
  error: (message, error) => {
    // An EmsegError is a one-line message by design; anything else gets its stack (server-side only).
    const detail = isEmsegError(error) ? `: ${error.message}` : error instanceof Error ? `\n${error.stack ?? error.message}` : error === undefined ? '' : ` ${String(error)}`;
    process.stderr.write(`${new Date().toISOString()} error ${message}${detail}\n`);
  },
};
