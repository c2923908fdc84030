/** test/helpers/temp-dir.ts: the folders tests make are removed with what is in them. */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { removeTempDirs, tempDir } from './helpers/temp-dir.ts';

describe('tempDir', () => {
  it('makes a new folder under the temp folder, and removeTempDirs removes it with its contents', () => {
    const a = tempDir('emseg-temp-dir-test-');
    const b = tempDir('emseg-temp-dir-test-');
    expect(a).not.toBe(b);
    expect(dirname(a)).toBe(tmpdir());
    mkdirSync(join(a, 'nested'));
    writeFileSync(join(a, 'nested', 'file'), 'x');
    removeTempDirs();
    expect(existsSync(a)).toBe(false);
    expect(existsSync(b)).toBe(false);
    removeTempDirs(); // nothing left to remove: no error
  });
});
