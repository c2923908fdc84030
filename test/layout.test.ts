/**
 * The layout of CONVENTIONS.md, read from the import graph of the repository's own modules (static
 * imports, re-exports and dynamic `import()` with a relative path):
 * - nothing outside test/ imports from test/ (benches and tests share through bench/shared/);
 * - batch prediction does not live in or lean on the server: predict/ imports nothing from serve/,
 *   nothing that `emseg predict` or bench:large load reaches serve/, and serve/ holds none of the
 *   batch-prediction and model files that moved out of it.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '..');
const SKIPPED = new Set(['node_modules', 'dist', 'runs', 'models', 'data', '.git']);

/** Every .ts, .js and .mjs file of the repository, as a path from its root. */
function sourceFiles(dir = ROOT): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return SKIPPED.has(entry.name) ? [] : sourceFiles(path);
    return /\.(ts|js|mjs)$/.test(entry.name) && !entry.name.endsWith('.d.ts') ? [relative(ROOT, path)] : [];
  });
}

/** The repository files a module imports by a relative path (comments left out). */
function importsOf(file: string): string[] {
  const text = readFileSync(join(ROOT, file), 'utf8')
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/^\s*\/\/.*$/gm, '');
  const specifiers = [...text.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s*)(['"])(\.{1,2}\/[^'"]+)\1/gm)].map((match) => match[2]!);
  return specifiers.map((specifier) => {
    const target = relative(ROOT, resolve(ROOT, dirname(file), specifier));
    return !existsSync(join(ROOT, target)) && target.endsWith('.js') && existsSync(join(ROOT, target.replace(/\.js$/, '.ts'))) ? target.replace(/\.js$/, '.ts') : target;
  });
}

/** Every file `start` loads, itself included, following imports transitively. */
function reachedFrom(start: string): Set<string> {
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file) || !existsSync(join(ROOT, file))) return;
    seen.add(file);
    for (const target of importsOf(file)) visit(target);
  };
  visit(start);
  return seen;
}

const FILES = sourceFiles();
const under = (folder: string) => (file: string) => file.startsWith(`${folder}/`);

/** Files that left serve/ (issue 27): batch prediction to predict/, the model in Node to node/, the batcher to core/. */
const MOVED_OUT_OF_SERVE = [
  'predict.ts', 'predict-large.ts', 'predict-cells.ts', 'worker-model.ts', 'inference-worker.ts',
  'session.ts', 'providers.ts', 'session-scheduler.ts', 'encode-output.ts', 'batcher.ts',
];

describe('the import graph', () => {
  it('reads imports, re-exports and dynamic imports', () => {
    // A check that finds nothing proves nothing: the reader sees the imports this test relies on.
    expect(importsOf('lib/node.ts')).toContain('node/load-onnx-model.ts');
    expect(importsOf('cli/commands/predict.ts')).toEqual(expect.arrayContaining(['predict/predict.ts', 'predict/predict-large.ts', 'node/batch-model.ts']));
    expect(importsOf('test/browser/harness.ts')).toContain('bench/shared/demo-browser.ts');
    expect(FILES.filter(under('test')).length).toBeGreaterThan(100);
  });

  it('has nothing outside test/ importing from test/', () => {
    const offending = FILES.filter((file) => !under('test')(file)).flatMap((file) => importsOf(file).filter(under('test')).map((target) => `${file} -> ${target}`));
    expect(offending).toEqual([]);
  });

  it('has predict/ importing nothing from serve/', () => {
    expect(FILES.filter(under('predict')).length).toBeGreaterThanOrEqual(3);
    const offending = FILES.filter(under('predict')).flatMap((file) => importsOf(file).filter(under('serve')).map((target) => `${file} -> ${target}`));
    expect(offending).toEqual([]);
  });

  it('lets emseg predict and bench:large load nothing from serve/', () => {
    for (const start of ['cli/commands/predict.ts', 'bench/large.ts']) {
      const reached = [...reachedFrom(start)];
      expect(reached, start).toEqual(expect.arrayContaining(['predict/predict-large.ts', 'node/load-onnx-model.ts']));
      expect(reached.filter(under('serve')), start).toEqual([]);
    }
  });

  it('keeps the batch-prediction and model files out of serve/', () => {
    const inServe = readdirSync(join(ROOT, 'serve'));
    expect(inServe).toContain('app.ts');
    expect(inServe.filter((name) => MOVED_OUT_OF_SERVE.includes(name))).toEqual([]);
  });
});
