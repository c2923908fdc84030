/**
 * Every benchmark of package.json (`npm run bench:<name>`) answers `--help` with the usage made
 * from its option definitions (bench/shared/args.ts) and does nothing else: no model, server or
 * browser starts. And where a README shows a bench command with options, the bench has them.
 */
import { execFile } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { benchUsage, type BenchDefinition, type BenchOptions } from '../bench/shared/args.ts';

const scripts = (JSON.parse(readFileSync('package.json', 'utf8')) as { scripts: Record<string, string> }).scripts;
const BENCHES = Object.entries(scripts)
  .filter(([name]) => name.startsWith('bench:'))
  .map(([name, command]) => ({ name: name.slice('bench:'.length), command }));
/** bin/emseg-bench.js's table: bench name -> module. */
const MODULES = new Map([...readFileSync('bin/emseg-bench.js', 'utf8').matchAll(/\b([\w-]+): '\.\.\/(bench\/[\w-]+\.ts)'/g)].map((m) => [m[1]!, m[2]!]));

async function definitionOf(name: string): Promise<BenchDefinition<BenchOptions>> {
  return ((await import(`../${MODULES.get(name)}`)) as { BENCH: BenchDefinition<BenchOptions> }).BENCH;
}

function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, args, { encoding: 'utf8' }, (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }));
  });
}

/** The README files of the repository (not node_modules, builds or runs). */
function readmes(dir = '.'): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    if (entry.isDirectory()) return ['node_modules', 'dist', 'runs', '.git', 'data', 'models'].includes(entry.name) ? [] : readmes(join(dir, entry.name));
    return entry.name.endsWith('.md') ? [join(dir, entry.name)] : [];
  });
}

describe('npm run bench:<name> -- --help', () => {
  it('has a bench for every bench script, each run by bin/emseg-bench.js', () => {
    expect(BENCHES.length).toBeGreaterThanOrEqual(7);
    expect([...MODULES.keys()].sort()).toEqual(BENCHES.map((b) => b.name).sort());
    for (const { name, command } of BENCHES) expect(command, name).toBe(`node bin/emseg-bench.js ${name}`);
  });

  it('prints the usage from the definitions, exit code 0, and starts nothing', async () => {
    const results = await Promise.all(BENCHES.map(async ({ name }) => ({ name, ...(await run(['bin/emseg-bench.js', name, '--help'])) })));
    for (const { name, code, stdout, stderr } of results) {
      const definition = await definitionOf(name);
      expect(definition.name, name).toBe(name);
      expect([code, stdout, stderr], name).toEqual([0, `${benchUsage(definition)}\n`, '']);
    }
  });

  it('refuses an unknown option in one line, exit code 2, before any work', async () => {
    const result = await run(['bin/emseg-bench.js', 'load', '--duratoin', '5']);
    expect([result.code, result.stdout, result.stderr]).toEqual([
      2,
      '',
      'bench:load: unknown option --duratoin; expected one of --duration, --concurrency, --bad, --stalled, --stalled-wait, --settle, --model or --help (see npm run bench:load -- --help)\n',
    ]);
  });
});

describe('bench commands in the READMEs', () => {
  it('use only options the bench defines', async () => {
    const shown: { file: string; name: string; flag: string }[] = [];
    for (const file of readmes()) {
      const lines = readFileSync(file, 'utf8').split('\n');
      lines.forEach((line, i) => {
        // A command broken over two lines ends its first line with `--`.
        const text = /bench:\w+ --$/.test(line.trimEnd()) ? `${line} ${lines[i + 1] ?? ''}` : line;
        for (const match of text.matchAll(/npm run bench:(\w+) \[?-- ([^`#|\]]*)/g)) {
          for (const flag of match[2]!.matchAll(/(?:^|\s)(--[\w-]+)/g)) shown.push({ file, name: match[1]!, flag: flag[1]! });
        }
      });
    }
    expect(shown.length).toBeGreaterThan(10);
    for (const { file, name, flag } of shown) {
      expect(BENCHES.map((b) => b.name), `${file}: bench:${name}`).toContain(name);
      const options = Object.keys((await definitionOf(name)).options).map((option) => `--${option}`);
      expect(options, `${file}: npm run bench:${name} -- ${flag}`).toContain(flag);
    }
  });
});
