/**
 * CI runs exactly what README.md tells a new user to run for the tests: the last command of
 * `.ci/run` is the README's test command, character for character, and that command runs the
 * Node 26 part of the suite too.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const readmeTestCommand = (): string => {
  const block = /## Two commands on a fresh machine[\s\S]*?```sh\n([\s\S]*?)```/.exec(readFileSync('README.md', 'utf8'));
  expect(block, 'README.md: the "Two commands" code block').not.toBeNull();
  const lines = block![1]!.trim().split('\n');
  expect(lines, 'README.md: two commands').toHaveLength(2);
  return lines[1]!.replace(/\s+#.*$/, '').trim();
};

describe('.ci/run', () => {
  it("ends with README.md's test command, which includes the Node 26 run", () => {
    const command = readmeTestCommand();
    expect(command).toMatch(/npm test/);
    expect(command).toMatch(/npm run test:node26$/);
    const lines = readFileSync('.ci/run', 'utf8').trim().split('\n');
    expect(lines.at(-1)).toBe(command);
  });

  it('names test:node26 files that exist', () => {
    const scripts = JSON.parse(readFileSync('package.json', 'utf8')).scripts as Record<string, string>;
    const filters = scripts['test:node26']!.split(' 26 ')[1]!.split(' ');
    expect(filters.length).toBeGreaterThan(3);
    for (const filter of filters) expect(() => readFileSync(`${filter}.test.ts`), filter).not.toThrow();
  });
});
