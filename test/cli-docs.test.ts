/**
 * The READMEs and `--help` agree, for every command: each flag of the command is documented in
 * its README section, the section's option table documents no flag the command lacks, and where
 * the help states a default (citty's `default`, or "Default X" in the description) the table row
 * of that flag states the same one. The help is generated from the same definitions, so this is
 * the README checked against the CLI.
 */
import { readFileSync } from 'node:fs';
import type { ArgsDef, CommandDef } from 'citty';
import { describe, expect, it } from 'vitest';
import { main } from '../cli/main.ts';
import { SERVE_SETTINGS } from '../serve/config.ts';

interface Section {
  command: string[];
  readme: string;
  from: string;
  to: string;
  /** Whether the section has an option table (| option | ... |) to check both ways. */
  table: boolean;
}

const SECTIONS: Section[] = [
  { command: ['data', 'export'], readme: 'node/README.md', from: '### `emseg data export`', to: '### `emseg visualize`', table: true },
  { command: ['visualize'], readme: 'node/README.md', from: '### `emseg visualize`', to: '### Errors', table: true },
  { command: ['train'], readme: 'train/README.md', from: '## Training', to: 'Output folder', table: true },
  { command: ['evaluate'], readme: 'train/README.md', from: '## Evaluation', to: '## Dataset, augmentation', table: true },
  { command: ['convert'], readme: 'convert/README.md', from: '## Convert a trained model', to: '## How the conversion works', table: true },
  { command: ['quantize'], readme: 'convert/README.md', from: '## int8 variant for CPU serving', to: '## Partner packages', table: true },
  { command: ['export-package'], readme: 'convert/README.md', from: '## Partner packages', to: '## Loading the file elsewhere', table: false },
  { command: ['predict'], readme: 'predict/README.md', from: '## `emseg predict`', to: '## Large images', table: true },
  { command: ['serve'], readme: 'serve/README.md', from: '### Configuration', to: '### Throughput', table: true },
];

const resolve = async <T>(value: T | (() => T | Promise<T>) | Promise<T>): Promise<T> => (typeof value === 'function' ? await (value as () => T)() : await value);

async function argsOf(path: string[]): Promise<ArgsDef> {
  let cmd: CommandDef<any> = main;
  for (const word of path) cmd = await resolve(((await resolve(cmd.subCommands!)) as Record<string, CommandDef<any>>)[word]!);
  return (await resolve(cmd.args)) ?? {};
}

function section(s: Section): string {
  const text = readFileSync(s.readme, 'utf8');
  const start = text.indexOf(s.from);
  const end = text.indexOf(s.to, start + s.from.length);
  expect(start, `${s.readme}: ${s.from}`).toBeGreaterThanOrEqual(0);
  expect(end, `${s.readme}: ${s.to}`).toBeGreaterThan(start);
  return text.slice(start, end);
}

/** Table rows of the section: the flags named in the first cell, and the whole row. */
function tableRows(text: string): { flags: string[]; row: string }[] {
  return text
    .split('\n')
    .filter((line) => /^\| `/.test(line))
    .map((row) => ({ row, flags: [...row.split('|')[1]!.matchAll(/--[\w-]+/g), ...(row.split('|')[2] ?? '').matchAll(/^ `(--[\w-]+)`/g)].map((m) => m[1] ?? m[0]) }));
}

/** The default the help states: citty's `default`, else "Default X" at the end of the description. */
function helpDefault(def: ArgsDef[string]): string | undefined {
  if ('default' in def && def.default !== undefined) return String(def.default);
  const match = /Default:? ([^.;(]+?)\.?$/.exec(def.description ?? '');
  if (!match) return undefined;
  const value = match[1]!.trim();
  return /^(the |none|not set|found|from|EMSEG)/.test(value) ? undefined : value;
}

const words = (value: string) => (value === 'true' ? ['on', 'true'] : value === 'false' ? ['off', 'false'] : [value]);

describe('README option tables and --help', () => {
  for (const s of SECTIONS) {
    it(`agree for emseg ${s.command.join(' ')} (${s.readme})`, async () => {
      const args = await argsOf(s.command);
      const text = section(s);
      const flags = Object.entries(args).filter(([, def]) => def.type !== 'positional');
      for (const [name] of flags) expect(text, `--${name} in ${s.readme}`).toContain(`--${name}`);
      if (!s.table) return;
      const rows = tableRows(text);
      const known = new Set(flags.flatMap(([name, def]) => [`--${name}`, ...('alias' in def && def.alias ? [def.alias].flat().map((a) => `--${a}`) : []), ...(def.type === 'boolean' ? [`--no-${name}`] : [])]));
      for (const { flags: documented } of rows) for (const flag of documented) expect(known.has(flag), `${flag} documented in ${s.readme} but not a flag of emseg ${s.command.join(' ')}`).toBe(true);
      for (const [name, def] of flags) {
        const stated = helpDefault(def);
        if (stated === undefined) continue;
        const row = rows.find((r) => r.flags.includes(`--${name}`));
        expect(row, `--${name} has no row in ${s.readme}`).toBeDefined();
        const shown = words(stated);
        expect(shown.some((w) => row!.row.includes(w)), `--${name}: help says default ${stated}, ${s.readme} says: ${row!.row}`).toBe(true);
      }
    });
  }

  it("list every command in the top README's table, and no other", async () => {
    const readme = readFileSync('README.md', 'utf8');
    const table = readme.slice(readme.indexOf('| command | what | documentation |'), readme.indexOf('\n\n', readme.indexOf('| command | what | documentation |')));
    const documented = [...table.matchAll(/^\| `emseg ([\w-]+(?: [a-z]+)?)/gm)].map((m) => m[1]!.split(' ').filter((w) => !w.includes('.'))[0] === 'data' ? 'data export' : m[1]!.split(' ')[0]!);
    expect(documented.sort()).toEqual(SECTIONS.map((s) => s.command.join(' ')).sort());
  });

  it('agree on the defaults of emseg serve (serve/README.md, Configuration)', () => {
    const text = section(SECTIONS.find((s) => s.command[0] === 'serve')!);
    for (const setting of SERVE_SETTINGS) {
      const row = text.split('\n').find((line) => line.includes(`\`--${setting.flag}\``));
      expect(row, setting.flag).toBeDefined();
      expect(row!, setting.flag).toContain(String(setting.default));
    }
  });
});
