import { existsSync, linkSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { assertNotAnInput, writeFileAtomic } from '../node/atomic-write.ts';

const folder = mkdtempSync(join(tmpdir(), 'emseg-atomic-'));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

describe('writeFileAtomic', () => {
  it('creates parent folders, writes the bytes and leaves no temp file', async () => {
    const path = join(folder, 'a', 'b', 'out.bin');
    await writeFileAtomic(path, new Uint8Array([1, 2, 3]));
    expect(Array.from(readFileSync(path))).toEqual([1, 2, 3]);
    await writeFileAtomic(path, 'replaced');
    expect(readFileSync(path, 'utf8')).toBe('replaced');
    expect(readdirSync(join(folder, 'a', 'b'))).toEqual(['out.bin']);
  });

  it('refuses to write onto an input: same path, another spelling, a symlink or a hard link', async () => {
    const input = join(folder, 'input.tif');
    writeFileSync(input, 'precious');
    symlinkSync(input, join(folder, 'link.tif'));
    linkSync(input, join(folder, 'hard.tif'));
    for (const output of [input, join(folder, '.', 'input.tif'), join(folder, 'link.tif'), join(folder, 'hard.tif')]) {
      await expect(writeFileAtomic(output, 'oops', { inputs: [input] })).rejects.toMatchObject({
        code: 'E_OUTPUT_EXISTS',
        message: expect.stringMatching(/is also an input .*refusing to overwrite an input/),
      });
    }
    expect(readFileSync(input, 'utf8')).toBe('precious');
    await expect(assertNotAnInput(join(folder, 'other.tif'), [input])).resolves.toBeUndefined();
  });

  it('refuses an existing file when overwrite is false', async () => {
    const path = join(folder, 'exists.txt');
    writeFileSync(path, 'old');
    await expect(writeFileAtomic(path, 'new', { overwrite: false })).rejects.toMatchObject({ code: 'E_OUTPUT_EXISTS' });
    expect(readFileSync(path, 'utf8')).toBe('old');
  });

  it('removes its temp file when the rename fails', async () => {
    const target = join(folder, 'is-a-folder');
    await writeFileAtomic(join(target, 'inner.txt'), 'x');
    await expect(writeFileAtomic(target, 'y')).rejects.toThrow();
    expect(readdirSync(folder).filter((name) => name.endsWith('.tmp'))).toEqual([]);
    expect(existsSync(join(target, 'inner.txt'))).toBe(true);
  });
});
