/**
 * Command-line options, the same way in every `emseg` command:
 * - numbers through core/number-text.ts (blank is an error, never 0), thresholds through
 *   core/threshold.ts; choices are citty `enum` arguments (citty refuses other values);
 * - `checkKnownFlags` refuses a flag the command does not define, naming the closest one it does,
 *   before the command runs (cli/run.ts calls it for every command).
 */
import type { ArgsDef } from 'citty';
import { EmsegError } from '../core/errors.ts';
import { parseNumberText, type NumberRule } from '../core/number-text.ts';
import { parseThreshold } from '../core/threshold.ts';

/**
 * A citty `enum` argument: citty refuses any other value (one line naming the flag and the
 * choices) and the parsed value is typed as one of them. Usable inside an `as const` table.
 */
export function enumArg<const T extends string, const D extends T | undefined = undefined>(
  options: readonly T[],
  spec: { description: string; default?: D },
): { type: 'enum'; options: T[]; description: string; default: D } {
  return { type: 'enum', options: [...options], description: spec.description, default: spec.default as D };
}

/** A parsed citty value as a number meeting `rule`; undefined when the flag was not given. */
export function numberOption(value: unknown, flag: string, rule: NumberRule = {}): number | undefined {
  if (value === undefined) return undefined;
  // A string flag given without a value reaches here as '' (or true): refused like blank text.
  return parseNumberText(typeof value === 'string' ? value : '', flag, rule);
}

/** A parsed citty value as a threshold in [0, 1]; undefined when the flag was not given. */
export function thresholdOption(value: unknown, flag = '--threshold'): number | undefined {
  if (value === undefined) return undefined;
  return parseThreshold(typeof value === 'string' ? value : '', flag);
}

const kebab = (name: string) => name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
const camel = (name: string) => name.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());

interface KnownFlag {
  /** The flag as documented, e.g. `--tile-batch` or `-o`. */
  spelled: string;
  takesValue: boolean;
  /** The values an `enum` flag accepts. */
  choices?: readonly string[];
}

/** Every spelling citty accepts for the command's flags: name, kebab and camel forms, aliases, --no-<boolean>. */
export function knownFlags(args: ArgsDef): Map<string, KnownFlag> {
  const known = new Map<string, KnownFlag>();
  for (const [name, def] of Object.entries(args)) {
    if (def.type === 'positional') continue;
    const takesValue = def.type !== 'boolean';
    const choices = def.type === 'enum' ? { choices: def.options ?? [] } : {};
    const flag: KnownFlag = { spelled: `--${name}`, takesValue, ...choices };
    for (const spelling of [name, kebab(name), camel(name)]) known.set(spelling, flag);
    const aliases = 'alias' in def && def.alias !== undefined ? (Array.isArray(def.alias) ? def.alias : [def.alias]) : [];
    for (const alias of aliases) known.set(alias, { spelled: alias.length === 1 ? `-${alias}` : `--${alias}`, takesValue, ...choices });
    if (!takesValue) known.set(`no-${name}`, { spelled: `--no-${name}`, takesValue: false });
  }
  return known;
}

/** Edit distance (insertions, deletions, substitutions) between two short words. */
export function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length]!;
}

/**
 * The defined flag nearest to `name` (a `no-` prefix set aside), if it is near enough to be a
 * likely misspelling: at most a third of the letters (and at least 2) changed. A far one
 * (`--bogus`) gets no hint.
 */
function closestFlag(name: string, args: ArgsDef): string | undefined {
  const typed = name.replace(/^no-/, '');
  let best: { flag: string; distance: number } | undefined;
  for (const [flag, def] of Object.entries(args)) {
    if (def.type === 'positional') continue;
    const distance = editDistance(typed, flag);
    if (!best || distance < best.distance) best = { flag, distance };
  }
  const nearEnough = Math.max(2, Math.floor(typed.length / 3));
  return best && best.distance <= nearEnough ? `--${best.flag}` : undefined;
}

/**
 * Throws one E_BAD_ARGUMENT line for the first flag in `argv` that `args` does not define, e.g.
 * `predict: unknown option --thresold (closest: --threshold; see emseg predict --help)`, or for
 * a value an `enum` flag does not accept (`--output: expected one of mask, probability, overlay,
 * found "labels"`). Everything after `--` is left alone.
 */
export function checkKnownFlags(args: ArgsDef, argv: readonly string[], commandPath: readonly string[]): void {
  const command = commandPath.join(' ');
  const known = knownFlags(args);
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i]!;
    if (token === '--') return;
    if (!token.startsWith('-') || token === '-' || /^-\.?\d/.test(token)) continue;
    const body = token.replace(/^--?/, '');
    const name = body.split('=')[0]!;
    const flag = known.get(name);
    if (!flag) {
      const closest = closestFlag(name, args);
      const hint = closest ? `closest: ${closest}; ` : '';
      const help = ['emseg', ...commandPath, '--help'].join(' ');
      throw new EmsegError('E_BAD_ARGUMENT', `${command ? `${command}: ` : ''}unknown option ${token.split('=')[0]} (${hint}see ${help})`);
    }
    if (!flag.takesValue) continue;
    const value = body.includes('=') ? body.slice(body.indexOf('=') + 1) : argv[++i];
    if (flag.choices && value !== undefined && !flag.choices.includes(value)) {
      throw new EmsegError('E_BAD_ARGUMENT', `${flag.spelled}: expected one of ${flag.choices.join(', ')}, found ${JSON.stringify(value)}`);
    }
  }
}
