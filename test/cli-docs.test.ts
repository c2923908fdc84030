/**
 * The READMEs and `--help` agree, for every command: each flag of the command is documented in
 * its README section, the section's option table documents no flag the command lacks, and where
 * the help states a default (citty's `default`, or "Default X", "Default: X", "(default X)",
 * "(default: X)", "; default X" in the description) the table row of that flag states exactly the
 * same one in its default column (formatting, remarks in parentheses and on/true, off/false aside).
 * The help is generated from the same definitions, so this is the README checked against the CLI.
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

/** The cells of a Markdown table row (a `\\|` inside a cell is text, not a column break). */
function cells(line: string): string[] {
  return line.replace(/^\|/, '').replace(/\|\s*$/, '').split(/(?<!\\)\|/).map((cell) => cell.trim());
}

/** A row of an option table: the flags of its option cell and its default cell, as written. */
interface OptionRow {
  flags: string[];
  defaultCell: string;
  line: string;
}

/**
 * The rows of the section's option tables: tables whose header names an `option` (or `flag`)
 * column and a `default` column, wherever the tables put them (node/, train/, predict/: option,
 * default, meaning; convert/: option, meaning, default; serve/: variable, flag, default, meaning).
 */
function optionRows(text: string): OptionRow[] {
  const rows: OptionRow[] = [];
  const lines = text.split('\n');
  for (let index = 0; index + 1 < lines.length; index++) {
    if (!lines[index]!.startsWith('|') || !/^\|[\s|:-]+\|$/.test(lines[index + 1]!.trim())) continue;
    const header = cells(lines[index]!);
    const flagColumn = header.findIndex((name) => name === 'option' || name === 'flag');
    const defaultColumn = header.indexOf('default');
    if (flagColumn < 0 || defaultColumn < 0) continue;
    for (let row = index + 2; row < lines.length && lines[row]!.startsWith('|'); row++) {
      const cell = cells(lines[row]!);
      rows.push({ flags: [...(cell[flagColumn] ?? '').matchAll(/--[\w-]+/g)].map((m) => m[0]), defaultCell: cell[defaultColumn] ?? '', line: lines[row]! });
    }
  }
  return rows;
}

/**
 * The default the help states: citty's `default`, else the text after "Default", "Default:",
 * "(default ...)", "(default: ...)" or "; default ..." in the description, up to the parenthesis
 * that closes it or the end (nested parentheses kept); a boolean flag stating none is off.
 */
function helpDefault(def: ArgsDef[string]): string | undefined {
  if ('default' in def && def.default !== undefined) return String(def.default);
  const described = describedDefault(def.description ?? '');
  // A boolean flag not given is off (citty leaves it undefined), unless its description says otherwise.
  return described ?? (def.type === 'boolean' ? 'off' : undefined);
}

function describedDefault(description: string): string | undefined {
  const opener = /(?:^|\. |; |\()[Dd]efault:? /.exec(description);
  if (!opener) return undefined;
  let depth = 0;
  let end = opener.index + opener[0].length;
  for (; end < description.length; end++) {
    if (description[end] === '(') depth++;
    else if (description[end] === ')' && depth-- === 0) break;
  }
  return description.slice(opener.index + opener[0].length, end).replace(/\.$/, '');
}

/**
 * A default as the help or a README cell states it, reduced to its value: formatting (backticks,
 * quotes around the whole), remarks in parentheses and qualifications after ";" dropped, on/off for true/false.
 * `0 (auto)` -> `0`, `` `cosine` `` -> `cosine`, `'0.1.0'` -> `0.1.0`, `true` -> `on`.
 */
function defaultValue(stated: string): string {
  let value = stated.replace(/`/g, '').replace(/^'(.*)'$/, '$1');
  while (/\([^()]*\)/.test(value)) value = value.replace(/\s*\([^()]*\)/g, '');
  value = value.split(';')[0]!.replace(/\s+/g, ' ').trim().replace(/\.$/, '');
  return value === 'true' ? 'on' : value === 'false' ? 'off' : value;
}

/** Two defaults agree when their values are the same text, or the same number however written (1e-4, 0.0001). */
function sameDefault(a: string, b: string): boolean {
  const number = (text: string) => (/^-?[\d.]+(e-?\d+)?$/i.test(text) ? Number(text) : Number.NaN);
  return a === b || (!Number.isNaN(number(a)) && number(a) === number(b));
}

/** Splits at commas outside parentheses and backticks: `4, 16, off, 0` -> 4 parts, `2500 (10,000 crops)` and `` `0,10,20,29` `` -> 1. */
function topLevelParts(text: string): string[] {
  const parts = [''];
  let depth = 0;
  let quoted = false;
  for (const char of text) {
    if (char === '`') quoted = !quoted;
    if (char === '(') depth++;
    if (char === ')') depth--;
    if (char === ',' && depth === 0 && !quoted) parts.push('');
    else parts[parts.length - 1] += char;
  }
  return parts.map((part) => part.trim());
}

/**
 * The default a row states for `flag`: a row of several flags (`--depth`, `--filters`, ...) with
 * as many comma-separated defaults gives each its own, else the whole cell is every flag's. Negated
 * forms (`--no-tta`) and aliases (`known` holds the command's own flag names) are not counted.
 */
function rowDefault(row: OptionRow, flag: string, own: ReadonlySet<string>): string {
  const named = row.flags.filter((f) => own.has(f));
  const parts = topLevelParts(row.defaultCell);
  return parts.length === named.length && named.length > 1 ? parts[named.indexOf(flag)]! : row.defaultCell;
}

describe('README option tables and --help', () => {
  for (const s of SECTIONS) {
    it(`agree for emseg ${s.command.join(' ')} (${s.readme})`, async () => {
      const args = await argsOf(s.command);
      const text = section(s);
      const flags = Object.entries(args).filter(([, def]) => def.type !== 'positional');
      for (const [name] of flags) expect(text, `--${name} in ${s.readme}`).toContain(`--${name}`);
      if (!s.table) return;
      const rows = optionRows(text);
      expect(rows.length, `an option table (| option | ... | default | ...) in ${s.readme}`).toBeGreaterThan(0);
      const own = new Set(flags.map(([name]) => `--${name}`));
      const known = new Set(flags.flatMap(([name, def]) => [`--${name}`, ...('alias' in def && def.alias ? [def.alias].flat().map((a) => `--${a}`) : []), ...(def.type === 'boolean' ? [`--no-${name}`] : [])]));
      for (const { flags: documented } of rows) for (const flag of documented) expect(known.has(flag), `${flag} documented in ${s.readme} but not a flag of emseg ${s.command.join(' ')}`).toBe(true);
      const disagreements: string[] = [];
      for (const [name, def] of flags) {
        const stated = helpDefault(def);
        if (stated === undefined) continue;
        const row = rows.find((r) => r.flags.includes(`--${name}`));
        if (!row) disagreements.push(`--${name}: help says default "${stated}", ${s.readme} has no row`);
        else if (!sameDefault(defaultValue(stated), defaultValue(rowDefault(row, `--${name}`, own)))) {
          disagreements.push(`--${name}: help says default "${stated}", ${s.readme} says "${rowDefault(row, `--${name}`, own)}"`);
        }
      }
      expect(disagreements).toEqual([]);
    });
  }

  it("list every command in the top README's table, and no other", async () => {
    const readme = readFileSync('README.md', 'utf8');
    const table = readme.slice(readme.indexOf('| command | what | documentation |'), readme.indexOf('\n\n', readme.indexOf('| command | what | documentation |')));
    const documented = [...table.matchAll(/^\| `emseg ([\w-]+(?: [a-z]+)?)/gm)].map((m) => m[1]!.split(' ').filter((w) => !w.includes('.'))[0] === 'data' ? 'data export' : m[1]!.split(' ')[0]!);
    expect(documented.sort()).toEqual(SECTIONS.map((s) => s.command.join(' ')).sort());
  });

  it('agree on the defaults of emseg serve (serve/README.md, Configuration, from SERVE_SETTINGS itself)', () => {
    const rows = optionRows(section(SECTIONS.find((s) => s.command[0] === 'serve')!));
    for (const setting of SERVE_SETTINGS) {
      const row = rows.find((r) => r.flags.includes(`--${setting.flag}`));
      expect(row, setting.flag).toBeDefined();
      expect(defaultValue(row!.defaultCell), setting.flag).toBe(String(setting.default));
    }
  });

  it('read a default exactly: the help forms, the table forms, and a near miss is a miss', () => {
    const described = (description: string) => helpDefault({ type: 'string', description });
    expect(described('Crops per step. Default 4')).toBe('4');
    expect(described('Model name. Default: the output file name without .onnx')).toBe('the output file name without .onnx');
    expect(described('Tiles per model call (default 4)')).toBe('4');
    expect(described('Tile size (default: the model card\'s, 512)')).toBe("the model card's, 512");
    expect(described('TCP port (env PORT; default 8787)')).toBe('8787');
    expect(described('Training run folder; default: found beside the model')).toBe('found beside the model');
    expect(described('Card default: serve uses it')).toBeUndefined();
    expect(helpDefault({ type: 'boolean', default: false })).toBe('false');
    expect(helpDefault({ type: 'boolean', description: 'Replace it (otherwise it is refused)' })).toBe('off');
    expect(helpDefault({ type: 'boolean', description: 'Flips. Default true' })).toBe('true');
    expect(defaultValue('`0` (auto)')).toBe('0');
    expect(defaultValue("'0.1.0'")).toBe('0.1.0');
    expect(defaultValue('true')).toBe(defaultValue('on'));
    expect(defaultValue('1e-3; 3e-4 with `--init`')).toBe('1e-3');
    expect(sameDefault('1e-4', '0.0001')).toBe(true);
    for (const [help, readme] of [['1', '10'], ['1', '1, 1'], ['0.5', '0.55'], ['off', 'on'], ['auto', 'auto, gpu']]) expect(sameDefault(defaultValue(help!), defaultValue(readme!)), `${help} vs ${readme}`).toBe(false);
    const [row, listed] = optionRows('| option | meaning | default |\n| --- | --- | --- |\n| `--depth`, `--filters` | the U-Net \\| size | 4, 16 |\n| `--a`, `--b` | | `x`, `0,10` |');
    expect(row).toMatchObject({ flags: ['--depth', '--filters'], defaultCell: '4, 16' });
    expect(rowDefault(row!, '--filters', new Set(['--depth', '--filters']))).toBe('16');
    expect(rowDefault(listed!, '--b', new Set(['--a', '--b']))).toBe('`0,10`');
  });
});
