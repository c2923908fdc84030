/**
 * node/shipped-model.ts: with no model given, the commands take models/isbi2012-unet.onnx of the
 * current folder, else the one inside the emseg package, found from the code's own location (the
 * sources here, dist/ in an installed package), and say which; with none anywhere, one error that
 * names both places. The installed package itself: test/package-tarball.test.ts.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_MODEL, chooseModel, describeModelChoice, packageFile, packageRoot } from '../node/shipped-model.ts';
import { runCliCaptured } from './helpers/run-cli-captured.ts';

const REPO = new URL('..', import.meta.url).pathname.replace(/\/$/, '');
let dir = '';

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'emseg-default-model-'));
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('the default model', () => {
  it('is the package root found from the code, from the sources and from a dist/ layout', async () => {
    expect(packageRoot()).toBe(REPO);
    expect(packageFile(DEFAULT_MODEL)).toBe(join(REPO, DEFAULT_MODEL));
    const pkg = join(dir, 'node_modules/emseg');
    await mkdir(join(pkg, 'dist/node'), { recursive: true });
    await writeFile(join(pkg, 'package.json'), JSON.stringify({ name: 'emseg' }));
    await writeFile(join(dir, 'package.json'), JSON.stringify({ name: 'consumer' }));
    expect(packageRoot(join(pkg, 'dist/node/shipped-model.js'))).toBe(pkg);
  });

  it('takes a given model as given, else the current folder, else the package', async () => {
    expect(chooseModel('x/m.onnx', dir)).toEqual({ path: 'x/m.onnx', source: 'given' });
    const empty = join(dir, 'empty');
    await mkdir(empty);
    const shipped = chooseModel(undefined, empty);
    expect(shipped).toEqual({ path: join(REPO, DEFAULT_MODEL), source: 'package' });
    expect(describeModelChoice(shipped, empty)).toBe(`${join(REPO, DEFAULT_MODEL)} (default, shipped in the emseg package)`);
    expect(describeModelChoice(shipped, REPO)).toBe(`${DEFAULT_MODEL} (default, shipped in the emseg package)`);
    const local = join(dir, 'local');
    await mkdir(join(local, 'models'), { recursive: true });
    await writeFile(join(local, DEFAULT_MODEL), 'x');
    expect(chooseModel(undefined, local)).toEqual({ path: DEFAULT_MODEL, source: 'current folder' });
    expect(chooseModel('', local).source).toBe('current folder');
  });

  it('names both places it looked when there is no model anywhere', () => {
    expect(() => chooseModel(undefined, join(dir, 'empty'), join(dir, 'no-package'))).toThrow(
      /no model given and none found: expected models\/isbi2012-unet\.onnx in .*empty or in the emseg package \(.*no-package\/models\/isbi2012-unet\.onnx\); pass --model/,
    );
  });

  it('is what emseg predict uses outside a checkout, and it says so', async () => {
    const cwd = process.cwd();
    const out = join(dir, 'mask.png');
    try {
      process.chdir(join(dir, 'empty'));
      const result = await runCliCaptured(['predict', join(REPO, 'data/isbi2012/train-volume-slice0.png'), '-o', out, '--ep', 'cpu']);
      expect(result.code, result.stderr).toBe(0);
      expect(result.stderr).toContain(`model isbi2012-unet@`);
      expect(result.stderr).toContain(`${join(REPO, DEFAULT_MODEL)} (default, shipped in the emseg package)`);
      expect(result.stdout).toContain(`-> ${out} (1 page 512x512`);
    } finally {
      process.chdir(cwd);
    }
  }, 60_000);
});
