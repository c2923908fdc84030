/**
 * The benchmarks' argument parser (bench/shared/args.ts) and statistics (bench/shared/figures.ts),
 * on a definition of their own: defaults, values read by their rules, one-line errors naming the
 * option, and the usage generated from the definitions.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  BenchArgumentError,
  benchUsage,
  choiceOption,
  defineBench,
  flagOption,
  integerOption,
  listOption,
  numberOption,
  parseBenchArgs,
  runWithArgs,
  textOption,
} from '../bench/shared/args.ts';
import { median, percentile } from '../bench/shared/figures.ts';
import { EmsegError } from '../core/errors.ts';

const DEMO = defineBench('demo', 'a bench that measures nothing', {
  duration: numberOption('seconds', 'seconds of load', 60, { min: 0, minExclusive: true, max: 600 }),
  'tile-batch': integerOption('n', 'tiles per call', 4, { min: 1 }),
  workers: integerOption('n', 'workers', undefined, { min: 1 }, "the engine's"),
  model: textOption('file.onnx', 'ONNX model', undefined, "emseg serve's"),
  sizes: listOption('list', 'sizes', [1, 4], (text) => Number(text)),
  keep: flagOption('keep the files'),
  only: choiceOption('one input', ['tiff', 'zarr'], undefined, 'both'),
});

function errorOf(argv: string[]): string {
  try {
    parseBenchArgs(DEMO, argv);
  } catch (error) {
    expect(error).toBeInstanceOf(BenchArgumentError);
    return (error as Error).message;
  }
  throw new Error(`${argv.join(' ')}: no error`);
}

afterEach(() => vi.restoreAllMocks());

describe('parseBenchArgs', () => {
  it('fills in the defaults', () => {
    expect(parseBenchArgs(DEMO, [])).toEqual({ duration: 60, 'tile-batch': 4, workers: undefined, model: undefined, sizes: [1, 4], keep: false, only: undefined });
  });

  it('reads every kind of value, in both spellings', () => {
    const args = parseBenchArgs(DEMO, ['--duration', '2.5', '--tile-batch=8', '--workers', '3', '--model', 'm.onnx', '--sizes', '2, 16', '--keep', '--only', 'zarr']);
    expect(args).toEqual({ duration: 2.5, 'tile-batch': 8, workers: 3, model: 'm.onnx', sizes: [2, 16], keep: true, only: 'zarr' });
  });

  it('says in one line which option is wrong and why', () => {
    expect(errorOf(['--duration', '0'])).toBe('--duration: expected a number in (0, 600], found "0"');
    expect(errorOf(['--tile-batch', '1.5'])).toBe('--tile-batch: expected an integer >= 1, found "1.5"');
    expect(errorOf(['--only', 'png'])).toBe('--only: expected one of tiff, zarr, found "png"');
    expect(errorOf(['--bogus', '1'])).toBe('unknown option --bogus; expected one of --duration, --tile-batch, --workers, --model, --sizes, --keep, --only or --help');
    expect(errorOf(['--model'])).toMatch(/^--model: expected a value/);
    expect(errorOf(['--keep=yes'])).toBe('--keep: takes no value');
    expect(errorOf(['stray'])).toBe('unexpected argument stray; options only (--help lists them)');
  });
});

describe('benchUsage', () => {
  it('lists every option with its value, rule and default, from the definitions', () => {
    const usage = benchUsage(DEMO).split('\n');
    expect(usage.slice(0, 2)).toEqual(['npm run bench:demo -- [options]', '  a bench that measures nothing']);
    const line = (flag: string) => usage.find((row) => row.trimStart().startsWith(flag)) ?? '';
    expect(line('--duration <seconds>')).toMatch(/seconds of load: a number in \(0, 600\] \(default 60\)$/);
    expect(line('--tile-batch <n>')).toMatch(/tiles per call: an integer >= 1 \(default 4\)$/);
    expect(line('--workers <n>')).toMatch(/\(default the engine's\)$/);
    expect(line('--model <file.onnx>')).toMatch(/ONNX model \(default emseg serve's\)$/);
    expect(line('--sizes <list>')).toMatch(/\(default 1,4\)$/);
    expect(line('--keep')).toMatch(/keep the files$/);
    expect(line('--only <tiff|zarr>')).toMatch(/one input \(default both\)$/);
    expect(line('-h, --help')).toMatch(/print this text$/);
    expect(usage.filter((row) => /^ {2}-/.test(row))).toHaveLength(Object.keys(DEMO.options).length + 1);
  });
});

describe('runWithArgs', () => {
  it('prints the usage for --help and -h, and runs nothing, whatever else is given', async () => {
    const out = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const run = vi.fn(async () => 0);
    expect(await runWithArgs(DEMO, ['--duration', '0', '--help'], run)).toBe(0);
    expect(await runWithArgs(DEMO, ['-h'], run)).toBe(0);
    expect(run).not.toHaveBeenCalled();
    expect(out.mock.calls.map(([text]) => text)).toEqual([`${benchUsage(DEMO)}\n`, `${benchUsage(DEMO)}\n`]);
  });

  it('turns a bad argument, from the parser or from the bench, into one line and exit code 2', async () => {
    const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    expect(await runWithArgs(DEMO, ['--duration', 'x'], async () => 0)).toBe(2);
    expect(await runWithArgs(DEMO, [], async () => { throw new BenchArgumentError('--model m.onnx: no such file'); })).toBe(2);
    expect(err.mock.calls.map(([text]) => text)).toEqual([
      'bench:demo: --duration: expected a number in (0, 600], found "x" (see npm run bench:demo -- --help)\n',
      'bench:demo: --model m.onnx: no such file (see npm run bench:demo -- --help)\n',
    ]);
  });

  it('turns a bad input of the bench (an EmsegError) into one line and exit code 1', async () => {
    const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    expect(await runWithArgs(DEMO, [], async () => { throw new EmsegError('E_NOT_FOUND', 'a.tif: no such file'); })).toBe(1);
    expect(err.mock.calls.map(([text]) => text)).toEqual(['bench:demo: a.tif: no such file\n']);
    await expect(runWithArgs(DEMO, [], async () => { throw new Error('a bug'); })).rejects.toThrow('a bug');
  });

  it("gives the bench its arguments and returns the bench's exit code", async () => {
    const seen: unknown[] = [];
    expect(await runWithArgs(DEMO, ['--keep'], async (args) => (seen.push(args.keep, args.duration), 7))).toBe(7);
    expect(seen).toEqual([true, 60]);
  });
});

describe('bench figures', () => {
  it('median: the middle value, or the mean of the two middle ones', () => {
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([])).toBeNaN();
  });

  it('percentile: nearest rank of sorted values', () => {
    const sorted = Array.from({ length: 100 }, (_, i) => i + 1);
    expect([percentile(sorted, 50), percentile(sorted, 99), percentile(sorted, 100), percentile([7], 50)]).toEqual([50, 99, 100, 7]);
    expect(percentile([10, 20, 30, 40], 50)).toBe(20);
    expect(percentile([], 50)).toBeNaN();
  });
});
