import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const folder = join(import.meta.dirname, '..', 'data', 'isbi2012');

/** The `<sha256>  <file>` lines of the data README. */
function listedHashes(): Map<string, string> {
  const readme = readFileSync(join(folder, 'README.md'), 'utf8');
  return new Map([...readme.matchAll(/^([0-9a-f]{64})\s+(\S+\.tif)$/gm)].map((m) => [m[2]!, m[1]!]));
}

describe('data/isbi2012', () => {
  const hashes = listedHashes();

  it('README lists a sha256 for each of the three stacks', () => {
    expect([...hashes.keys()].sort()).toEqual(['test-volume.tif', 'train-labels.tif', 'train-volume.tif']);
  });

  it.each([...hashes])('%s matches the sha256 in the README', (file, expected) => {
    const actual = createHash('sha256').update(readFileSync(join(folder, file))).digest('hex');
    expect(actual).toBe(expected);
  });
});
