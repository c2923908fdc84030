/**
 * Every `emseg` command refuses a flag it does not define, in one line naming the flag and the
 * closest one it does, with exit code 1 and before doing any work; numbers typed blank are
 * refused rather than read as 0. Argv is passed in; no process is spawned.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ArgsDef, CommandDef } from 'citty';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../cli/main.ts';
import { checkKnownFlags, editDistance, numberOption } from '../cli/options.ts';
import { runCli } from '../cli/run.ts';

const root = mkdtempSync(join(tmpdir(), 'emseg-cli-options-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

async function run(argv: string[]): Promise<{ code: number; stderr: string; stdout: string }> {
  let stderr = '';
  let stdout = '';
  const code = await runCli(argv, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t) });
  return { code, stderr, stdout };
}

const resolve = async <T>(value: T | (() => T | Promise<T>) | Promise<T>): Promise<T> => (typeof value === 'function' ? await (value as () => T)() : await value);

/** Every leaf command with the words that name it. */
async function leafCommands(): Promise<{ path: string[]; args: ArgsDef }[]> {
  const found: { path: string[]; args: ArgsDef }[] = [];
  const walk = async (cmd: CommandDef<any>, path: string[]) => {
    const subs = cmd.subCommands ? await resolve(cmd.subCommands) : undefined;
    if (subs) for (const [name, sub] of Object.entries(subs)) await walk(await resolve(sub as CommandDef<any>), [...path, name]);
    else found.push({ path, args: (await resolve(cmd.args)) ?? {} });
  };
  await walk(main, []);
  return found;
}

describe('unknown flags', () => {
  it('are refused by every command in one line naming the closest flag, exit 1, nothing written', async () => {
    const commands = await leafCommands();
    expect(commands.map((c) => c.path.join(' ')).sort()).toEqual(['convert', 'data export', 'evaluate', 'export-package', 'predict', 'quantize', 'serve', 'train', 'visualize']);
    for (const { path, args } of commands) {
      const out = join(root, `${path.join('-')}-out`);
      const flags = Object.entries(args).filter(([, def]) => def.type !== 'positional').map(([name]) => name);
      const target = flags.find((name) => name.length >= 4) ?? flags[0]!;
      const misspelled = `--${target.slice(0, -1)}${target.at(-1) === 'x' ? 'y' : 'x'}`;
      const positional = Object.values(args).some((def) => def.type === 'positional') ? [join(root, 'absent-input')] : [];
      const outFlag = args['out'] ? ['--out', out] : args['json'] ? ['--json', out] : [];
      const result = await run([...path, ...positional, ...outFlag, misspelled, '1']);
      expect(result.code, path.join(' ')).toBe(1);
      expect(result.stderr, path.join(' ')).toMatch(new RegExp(`^emseg: ${path.join(' ')}: unknown option ${misspelled} \\(closest: --${target}; see emseg ${path.join(' ')} --help\\)\\n$`));
      expect(existsSync(out), path.join(' ')).toBe(false);
    }
  });

  it('stop the examples of issue 14 before any work', async () => {
    const predict = await run(['predict', join(root, 'slice.png'), '-o', join(root, 'm.png'), '--thresold', '0.3']);
    expect([predict.code, predict.stderr]).toEqual([1, 'emseg: predict: unknown option --thresold (closest: --threshold; see emseg predict --help)\n']);
    const train = await run(['train', '--step', '30', '--out', join(root, 'run')]);
    expect([train.code, train.stderr]).toEqual([1, 'emseg: train: unknown option --step (closest: --steps; see emseg train --help)\n']);
    expect(existsSync(join(root, 'run'))).toBe(false);
    // evaluate spells the execution providers --ep like predict and serve (--providers stays an alias).
    for (const flag of ['--ep', '--providers']) {
      const evaluate = await run(['evaluate', join(root, 'absent.onnx'), flag, 'cpu']);
      expect(evaluate.stderr).toBe(`emseg: <model> ${join(root, 'absent.onnx')}: no such file or folder\n`);
    }
  });

  it('are told apart from the known spellings: aliases, --no-<boolean>, --flag=value, camelCase, values and --', () => {
    const args: ArgsDef = {
      input: { type: 'positional' },
      out: { type: 'string', alias: 'o' },
      'tile-batch': { type: 'string' },
      tta: { type: 'boolean' },
      output: { type: 'enum', options: ['mask', 'overlay'] },
    };
    expect(() => checkKnownFlags(args, ['in.png', '-o', '--weird-but-a-value', '--tile-batch=4', '--tileBatch', '2', '--no-tta', '--output', 'mask', '--', '--anything'], ['x'])).not.toThrow();
    expect(() => checkKnownFlags(args, ['--threshold', '-0.5'], ['x'])).toThrow(/x: unknown option --threshold/);
    expect(() => checkKnownFlags(args, ['--no-out'], ['x'])).toThrow(/unknown option --no-out \(closest: --out/);
    // A flag far from every defined one gets no guess, only the pointer to --help.
    expect(() => checkKnownFlags(args, ['--bogus'], ['x'])).toThrow(/^x: unknown option --bogus \(see emseg x --help\)$/);
    expect(() => checkKnownFlags(args, ['--output', 'labels'], ['x'])).toThrow('--output: expected one of mask, overlay, found "labels"');
    expect(() => checkKnownFlags(args, ['--output=labels'], ['x'])).toThrow('--output: expected one of mask, overlay, found "labels"');
  });

  it('measures closeness by edit distance', () => {
    expect(editDistance('thresold', 'threshold')).toBe(1);
    expect(editDistance('step', 'steps')).toBe(1);
    expect(editDistance('', 'ep')).toBe(2);
    expect(editDistance('kitten', 'sitting')).toBe(3);
  });
});

describe('number options', () => {
  it('refuse a blank value instead of reading it as 0', async () => {
    expect(() => numberOption('', '--halo', { integer: true, min: 0 })).toThrow('--halo: expected an integer >= 0, found ""');
    expect(() => numberOption(true, '--halo', { integer: true, min: 0 })).toThrow('--halo: expected an integer >= 0, found ""');
    expect(numberOption(' 32 ', '--halo', { integer: true, min: 0 })).toBe(32);
    expect(numberOption(undefined, '--halo')).toBeUndefined();
    const exported = await run(['export-package', join(root, 'm.onnx'), '--triton', join(root, 't'), '--test-slice', '']);
    expect([exported.code, exported.stderr]).toEqual([1, 'emseg: --test-slice: expected an integer >= 0, found ""\n']);
  });
});

describe('recorded command lines', () => {
  it('are quoted so that they can be typed again (convert used to join them unquoted)', async () => {
    const { commandLine } = await import('../cli/command-line.ts');
    expect(commandLine(['emseg', 'convert', 'runs/a b/model', '-o', "it's.onnx", '--threshold', '0.4'])).toBe(
      "emseg convert 'runs/a b/model' -o 'it'\\''s.onnx' --threshold 0.4",
    );
  });
});
