/**
 * The `emseg predict` section of predict/README.md follows the command's definition: every flag of
 * `emseg predict` is documented, and the README documents no flag the command lacks.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import predict from '../cli/commands/predict.ts';

describe('predict/README.md, section `emseg predict`', () => {
  it('documents exactly the flags of emseg predict', async () => {
    const readme = readFileSync('predict/README.md', 'utf8');
    const section = readme.slice(readme.indexOf('## `emseg predict`'), readme.indexOf('## Large images'));
    const args = (typeof predict.args === 'function' ? await predict.args() : predict.args) as Record<string, { type: string }>;
    const flags = Object.entries(args).filter(([, arg]) => arg.type !== 'positional').map(([name]) => `--${name}`);
    for (const flag of flags) expect(section, flag).toContain(`\`${flag}`);
    const table = section.slice(section.indexOf('| option |'), section.indexOf('Behaviour:'));
    const documented = [...table.matchAll(/`(?:-\w, )?(--[\w-]+)`/g)].map((match) => match[1]);
    expect(documented.sort()).toEqual([...flags].sort());
  });
});
