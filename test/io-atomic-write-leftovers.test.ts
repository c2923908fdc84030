/**
 * Leftovers of interrupted writes (node/atomic-write.ts): the temp file of a killed writer is
 * removed at the next write into its folder; live writers' temp files and completed outputs stay.
 */
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { removeStaleTempFiles, writeFileAtomic } from '../node/atomic-write.ts';

/** The pid of a process that has exited. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
  return Number(child.stdout.toString());
}

describe('leftover temp files', () => {
  it('removes the temp file of a writer that is gone, at the next write into the folder', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'emseg-leftovers-'));
    const dead = `.mask.png.${deadPid()}.0badf00d.tmp`;
    const live = `.mask.png.${process.ppid}.cafebabe.tmp`;
    for (const name of [dead, live, 'mask.png', '.notes.tmp', 'slice.0badf00d.tmp']) writeFileSync(join(folder, name), '');
    await writeFileAtomic(join(folder, 'other.png'), 'x');
    expect(readdirSync(folder).sort()).toEqual([live, '.notes.tmp', 'mask.png', 'other.png', 'slice.0badf00d.tmp'].sort());
    expect(await removeStaleTempFiles(folder)).toEqual([]);
  });
});
