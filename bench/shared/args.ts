/**
 * The benchmarks' command line, `npm run bench:<name> -- [options]`: each bench defines its options
 * once (value, default, meaning, how the text is read), node:util parseArgs reads them, and
 * `--help` prints the usage generated from the same definitions. A bad argument is one line on
 * stderr, `bench:<name>: <what>`, exit code 2; a bad input (an EmsegError: a missing file, a
 * corrupt image) one line too, exit code 1; no stack trace.
 *
 *   const LOAD = defineBench('load', 'the server under mixed load', {
 *     duration: numberOption('seconds', 'seconds of load', 60, { min: 0, minExclusive: true, max: 600 }),
 *     model: textOption('file.onnx', 'ONNX model', undefined, "emseg serve's"),
 *   });
 *   export const runBench = (argv: string[]) => runWithArgs(LOAD, argv, async (args) => ...args.duration...);
 */
import { parseArgs } from 'node:util';
import { describeNumberRule, parseNumberText, type NumberRule } from '../../core/number-text.ts';
import { isEmsegError } from '../../core/errors.ts';

/** A bad command-line argument of a bench: printed as one line, exit code 2. */
export class BenchArgumentError extends Error {
  override name = 'BenchArgumentError';
}

/** An option that takes a value: `--name <value>`. */
export interface ValueOption<T> {
  kind: 'value';
  /** What the value is, in the usage: `--duration <seconds>`. */
  value: string;
  description: string;
  default: T;
  /** The default in words, when `String(default)` does not say it (e.g. "EMSEG_EP, else cpu"). */
  shownDefault?: string;
  /** Reads the text given; throws (EmsegError, BenchArgumentError) naming `flag` when it is bad. */
  parse: (text: string, flag: string) => T;
}

/** An option without a value: false unless given. */
export interface FlagOption {
  kind: 'flag';
  description: string;
}

export type BenchOption = ValueOption<unknown> | FlagOption;
export type BenchOptions = Record<string, BenchOption>;

/** The parsed arguments, keyed by option name (`args['tile-batch']`). */
export type BenchArgs<O extends BenchOptions> = { [K in keyof O]: O[K] extends ValueOption<infer T> ? T : boolean };

export interface BenchDefinition<O extends BenchOptions> {
  /** `load` for `npm run bench:load`. */
  name: string;
  /** What it measures, one line. */
  summary: string;
  options: O;
}

export function defineBench<O extends BenchOptions>(name: string, summary: string, options: O): BenchDefinition<O> {
  return { name, summary, options };
}

/** A number meeting `rule` (core/number-text.ts); the usage states the rule. */
export function numberOption(value: string, description: string, fallback: number, rule: NumberRule): ValueOption<number> {
  return { kind: 'value', value, description: `${description}: ${describeNumberRule(rule)}`, default: fallback, parse: (text, flag) => parseNumberText(text, flag, rule) };
}

/** An integer meeting `rule`; `fallback` undefined with `shownDefault` for a default chosen elsewhere. */
export function integerOption<D extends number | undefined>(value: string, description: string, fallback: D, rule: NumberRule, shownDefault?: string): ValueOption<number | D> {
  const integer = { ...rule, integer: true };
  return { kind: 'value', value, description: `${description}: ${describeNumberRule(integer)}`, default: fallback, shownDefault, parse: (text, flag) => parseNumberText(text, flag, integer) };
}

/** Text taken as given (a path, a list read later); `fallback` undefined with `shownDefault` for a default chosen elsewhere. */
export function textOption<D extends string | undefined>(value: string, description: string, fallback: D, shownDefault?: string): ValueOption<string | D> {
  return { kind: 'value', value, description, default: fallback, shownDefault, parse: (text) => text };
}

/** One of `choices`, shown as `--name <a|b|c>`; `fallback` undefined with `shownDefault` for none of them. */
export function choiceOption<C extends string, D extends C | undefined>(description: string, choices: readonly C[], fallback: D, shownDefault?: string): ValueOption<C | D> {
  return {
    kind: 'value',
    value: choices.join('|'),
    description,
    default: fallback,
    shownDefault,
    parse: (text, flag) => {
      if ((choices as readonly string[]).includes(text)) return text as C;
      throw new BenchArgumentError(`${flag}: expected one of ${choices.join(', ')}, found ${JSON.stringify(text)}`);
    },
  };
}

/** A comma-separated list, each item read by `item`. */
export function listOption<T>(value: string, description: string, fallback: T[], item: (text: string, flag: string) => T, shownDefault?: string): ValueOption<T[]> {
  return { kind: 'value', value, description, default: fallback, shownDefault: shownDefault ?? fallback.join(','), parse: (text, flag) => text.split(',').map((part) => item(part.trim(), flag)) };
}

export function flagOption(description: string): FlagOption {
  return { kind: 'flag', description };
}

function shownDefault(option: BenchOption): string | undefined {
  if (option.kind === 'flag') return undefined;
  return option.shownDefault ?? (option.default === undefined ? undefined : String(option.default));
}

/** The usage of a bench, from its definitions: one line per option with its default. */
export function benchUsage(definition: BenchDefinition<BenchOptions>): string {
  const rows = Object.entries(definition.options).map(([name, option]) => {
    const left = option.kind === 'value' ? `--${name} <${option.value}>` : `--${name}`;
    const fallback = shownDefault(option);
    return [left, fallback === undefined ? option.description : `${option.description} (default ${fallback})`] as const;
  });
  rows.push(['-h, --help', 'print this text']);
  const width = Math.max(...rows.map(([left]) => left.length)) + 2;
  return [
    `npm run bench:${definition.name} -- [options]`,
    `  ${definition.summary}`,
    '',
    ...rows.map(([left, right]) => `  ${left.padEnd(width)}${right}`),
  ].join('\n');
}

/** Reads `argv` by the definitions: defaults filled in, every value checked. Throws BenchArgumentError. */
export function parseBenchArgs<O extends BenchOptions>(definition: BenchDefinition<O>, argv: readonly string[]): BenchArgs<O> {
  const config = Object.fromEntries(Object.entries(definition.options).map(([name, option]) => [name, { type: option.kind === 'value' ? ('string' as const) : ('boolean' as const) }]));
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({ args: [...argv], options: config, strict: true, allowPositionals: false }).values as Record<string, string | boolean | undefined>;
  } catch (error) {
    throw new BenchArgumentError(parseArgsMessage(error, definition.options));
  }
  const args: Record<string, unknown> = {};
  for (const [name, option] of Object.entries(definition.options)) {
    const given = values[name];
    if (option.kind === 'flag') args[name] = given === true;
    else if (typeof given === 'string') args[name] = readValue(option, given, `--${name}`);
    else args[name] = option.default;
  }
  return args as BenchArgs<O>;
}

function readValue(option: ValueOption<unknown>, text: string, flag: string): unknown {
  try {
    return option.parse(text, flag);
  } catch (error) {
    if (isEmsegError(error) || error instanceof BenchArgumentError) throw new BenchArgumentError(error.message);
    throw error;
  }
}

/** parseArgs's errors in this project's words: the option, what was expected. */
function parseArgsMessage(error: unknown, options: BenchOptions): string {
  const { code, message } = error as { code?: string; message?: string };
  const quoted = /'(-[^' ]*)/.exec(message ?? '')?.[1];
  const known = Object.keys(options).map((name) => `--${name}`).join(', ');
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') return `unknown option ${quoted}; expected one of ${known} or --help`;
  if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
    const option = options[quoted?.replace(/^--/, '') ?? ''];
    return option?.kind === 'flag' ? `${quoted}: takes no value` : `${quoted}: expected a value (--name value, or --name=-1 for a value starting with a dash)`;
  }
  if (code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') return `unexpected argument ${/'([^']*)'/.exec(message ?? '')?.[1] ?? ''}; options only (--help lists them)`;
  return message ?? String(error);
}

/**
 * Runs a bench: `--help` or `-h` prints the usage (exit code 0) and nothing else runs; a bad
 * argument, found while parsing or thrown as BenchArgumentError by `run`, is one line on stderr
 * (exit code 2), and so is an EmsegError thrown by `run` (exit code 1). Otherwise `run`'s exit code.
 */
export async function runWithArgs<O extends BenchOptions>(
  definition: BenchDefinition<O>,
  argv: readonly string[],
  run: (args: BenchArgs<O>) => Promise<number>,
): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(`${benchUsage(definition)}\n`);
    return 0;
  }
  try {
    return await run(parseBenchArgs(definition, argv));
  } catch (error) {
    if (isEmsegError(error)) {
      process.stderr.write(`bench:${definition.name}: ${error.message}\n`);
      return 1;
    }
    if (!(error instanceof BenchArgumentError)) throw error;
    process.stderr.write(`bench:${definition.name}: ${error.message} (see npm run bench:${definition.name} -- --help)\n`);
    return 2;
  }
}
