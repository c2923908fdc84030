import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readImageFile } from '../node/image-files.ts';

const folder = join(import.meta.dirname, '..', 'data', 'isbi2012');

/** The `<sha256>  <file>` lines of the data README. */
function listedHashes(): Map<string, string> {
  const readme = readFileSync(join(folder, 'README.md'), 'utf8');
  return new Map([...readme.matchAll(/^([0-9a-f]{64})\s+(\S+\.(?:tif|png))$/gm)].map((m) => [m[2]!, m[1]!]));
}

describe('data/isbi2012', () => {
  const hashes = listedHashes();

  it('README lists a sha256 for each of the three stacks and the sample slice', () => {
    expect([...hashes.keys()].sort()).toEqual(['test-volume.tif', 'train-labels.tif', 'train-volume-slice0.png', 'train-volume.tif']);
  });

  it('the sample slice (shipped in the package) is slice 0 of train-volume.tif, pixel for pixel', async () => {
    const sample = await readImageFile(join(folder, 'train-volume-slice0.png'));
    const stack = await readImageFile(join(folder, 'train-volume.tif'));
    expect(sample.pages).toHaveLength(1);
    expect([sample.pages[0]!.width, sample.pages[0]!.height]).toEqual([stack.pages[0]!.width, stack.pages[0]!.height]);
    expect(Buffer.from(sample.pages[0]!.data as Uint8Array).equals(Buffer.from(stack.pages[0]!.data as Uint8Array))).toBe(true);
  });

  it.each([...hashes])('%s matches the sha256 in the README', (file, expected) => {
    const actual = createHash('sha256').update(readFileSync(join(folder, file))).digest('hex');
    expect(actual).toBe(expected);
  });
});
