/**
 * No command replaces a file it did not create for that purpose unless asked: before any work, a
 * command lists the files it will write (each with the flag that names it) and this module refuses
 * the first one that exists already, in one line naming the file, its flag and `--force`:
 *
 *   --json models/x.json: exists already; pass --force to replace it, or choose another path
 */
import { stat } from 'node:fs/promises';
import { EmsegError } from '../core/errors.ts';

export interface PlannedOutput {
  /** The file the command will write. */
  path: string;
  /** The flag that names it (`--json`, `-o`), or what it is (`the card beside -o`). */
  flag: string;
}

const exists = (path: string) => stat(path).then(
  () => true,
  () => false,
);

/** The planned outputs that exist already, in the order given. */
export async function existingOutputs(outputs: readonly PlannedOutput[]): Promise<PlannedOutput[]> {
  const found: PlannedOutput[] = [];
  for (const output of outputs) if (await exists(output.path)) found.push(output);
  return found;
}

/**
 * Throws E_OUTPUT_EXISTS naming the first planned output that exists (and how many more do),
 * unless `force`. Call it before anything slow or anything written.
 */
export async function refuseExistingOutputs(outputs: readonly PlannedOutput[], force: boolean): Promise<void> {
  if (force) return;
  const found = await existingOutputs(outputs);
  const first = found[0];
  if (!first) return;
  const more = found.length > 1 ? ` (and ${found.length - 1} more of its outputs)` : '';
  throw new EmsegError('E_OUTPUT_EXISTS', `${first.flag} ${first.path}: exists already${more}; pass --force to replace ${found.length > 1 ? 'them' : 'it'}, or choose another path`);
}
