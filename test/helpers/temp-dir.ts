/**
 * Temporary folders for tests: `tempDir(prefix)` makes one under the OS's temp folder, and every
 * folder made here is removed when its test file ends (test/helpers/remove-temp-dirs.ts, a vitest
 * setup file, registers the afterAll hook for each file).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const made = new Set<string>();

/** A new empty folder named `prefix` + six random characters, removed after the test file. */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.add(dir);
  return dir;
}

/** Removes every folder tempDir made (and what is in it). */
export function removeTempDirs(): void {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
  made.clear();
}
