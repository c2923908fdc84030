/**
 * The npm package as a partner gets it: `npm pack` of the built dist/ (what `prepare` builds), the
 * tarball's file list, then a fresh project that installs the tarball offline (the repository's
 * locked versions, tarballs from the npm cache) and uses both entry points, `emseg` and
 * `emseg/node`, from plain JavaScript (run) and TypeScript (type-checked), and the `emseg` command.
 */
import { cp, mkdtemp, readFile, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO, npmCiOffline, runIn, withBuiltDist, writeConsumerProject } from './helpers/offline-install.ts';
import { ISBI_SAMPLE_SLICE } from '../core/isbi-data.ts';

interface PackResult {
  filename: string;
  size: number;
  unpackedSize: number;
  files: { path: string }[];
}

let dir = '';
let pack: PackResult;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'emseg-tarball-'));
  // npm pack runs `prepare` (the build) itself; here the build is shared with the other test files.
  const out = await withBuiltDist(() => runIn(REPO, 'npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir]));
  pack = (JSON.parse(out.slice(out.indexOf('['))) as PackResult[])[0]!;
  await writeConsumerProject(dir, pack.filename);
  await cp(join(REPO, 'test/fixtures/consumer'), dir, { recursive: true });
  // As the README tells users: onnxruntime-node's postinstall would download CUDA libraries.
  await npmCiOffline(dir, [], { ONNXRUNTIME_NODE_INSTALL: 'skip' });
}, 480_000);

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('npm pack', () => {
  it('holds the compiled library, its declarations, the CLI and the shipped model, and nothing else', () => {
    const paths = pack.files.map((file) => file.path);
    for (const needed of ['package.json', 'README.md', 'bin/emseg.js', 'dist/lib/index.js', 'dist/lib/index.d.ts', 'dist/lib/node.js', 'dist/lib/node.d.ts', 'dist/cli/run.js', 'models/isbi2012-unet.onnx', 'models/isbi2012-unet.json', ISBI_SAMPLE_SLICE]) {
      expect(paths).toContain(needed);
    }
    const unexpected = paths.filter((path) => path !== ISBI_SAMPLE_SLICE && !/^(dist\/.*\.(js|d\.ts)|bin\/emseg\.js|models\/isbi2012-unet(\.int8)?\.(onnx|json)|package\.json|README\.md)$/.test(path));
    expect(unexpected).toEqual([]);
    expect(pack.size).toBeLessThan(10 * 1024 * 1024);
  });

  it("matches README.md's pack figures within 5 %", async () => {
    const readme = await readFile(join(REPO, 'README.md'), 'utf8');
    const quoted = /`npm pack`: (\d+(?:\.\d+)?) MB, (\d+) files \((\d+(?:\.\d+)?) MB unpacked/.exec(readme);
    expect(quoted, 'README.md quotes "`npm pack`: X MB, N files (Y MB unpacked"').not.toBeNull();
    if (quoted === null) return;
    const [packedMb, files, unpackedMb] = [Number(quoted[1]), Number(quoted[2]), Number(quoted[3])];
    const within5Percent = (actual: number, readmeValue: number): boolean => Math.abs(actual - readmeValue) <= 0.05 * actual;
    const MB = 1_000_000;   // npm's own unit in `npm pack` output
    expect(within5Percent(pack.size / MB, packedMb), `packed ${(pack.size / MB).toFixed(1)} MB, README ${packedMb}`).toBe(true);
    expect(within5Percent(pack.files.length, files), `${pack.files.length} files, README ${files}`).toBe(true);
    expect(within5Percent(pack.unpackedSize / MB, unpackedMb), `unpacked ${(pack.unpackedSize / MB).toFixed(1)} MB, README ${unpackedMb}`).toBe(true);
  });
});

describe('the installed tarball', () => {
  it('leaves out what only training, benchmarks and the web-demo build need', () => {
    for (const devOnly of ['@tensorflow/tfjs', 'onnxruntime-web', 'esbuild', 'tsx', 'vite', 'autocannon', 'typescript']) {
      expect(existsSync(join(dir, 'node_modules', devOnly)), devOnly).toBe(false);
    }
  });

  it('segments an ISBI slice from plain JavaScript through emseg and emseg/node', async () => {
    const out = join(dir, 'mask.png');
    const stdout = await runIn(dir, process.execPath, ['use.mjs', join(REPO, 'data/isbi2012/train-volume.tif'), join(REPO, 'data/isbi2012/train-labels.tif'), out]);
    const result = JSON.parse(stdout) as Record<string, unknown>;
    expect(result).toMatchObject({ provider: 'cpu', cardName: 'isbi2012-unet', size: [512, 512], maskValues: [0, 255], stackPages: 2, stackSize: [50, 37], tiffEqual: true, badInput: 'E_CORRUPT', defaultTile: 512 });
    // Slice 0 is a training slice of the shipped model: its mask at the card's threshold (0.8,
    // chosen for V_rand, so membranes are drawn thick) agrees with the label closely.
    expect(result.dice as number).toBeGreaterThan(0.8);
    expect((await readFile(out)).subarray(1, 4).toString()).toBe('PNG');
  }, 120_000);

  it('type-checks a TypeScript user of both entry points against the shipped declarations', async () => {
    await runIn(dir, process.execPath, [join(REPO, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json']);
  }, 240_000);

  it('runs the emseg command from the compiled code, without tsx', async () => {
    const help = await runIn(dir, join(dir, 'node_modules/.bin/emseg'), ['predict', '--help']);
    expect(help).toContain('USAGE');
    await expect(runIn(dir, join(dir, 'node_modules/.bin/emseg'), ['predict', 'missing.tif', '-o', 'out.png'])).rejects.toThrow(/emseg: .*missing\.tif/);
  }, 120_000);

  it('predicts with the model shipped in the package when none is given and none is in the folder, and says so', async () => {
    const { execFile } = await import('node:child_process');
    const { stdout, stderr } = await new Promise<{ stdout: string; stderr: string }>((resolve, reject) =>
      execFile(join(dir, 'node_modules/.bin/emseg'), ['predict', join(REPO, ISBI_SAMPLE_SLICE), '-o', 'shipped-mask.png', '--ep', 'cpu'], { cwd: dir }, (error, out, err) =>
        error ? reject(new Error(`${error.message}\n${err}`)) : resolve({ stdout: out, stderr: err }),
      ),
    );
    expect(existsSync(join(dir, 'models'))).toBe(false);
    expect(stderr).toContain('node_modules/emseg/models/isbi2012-unet.onnx (default, shipped in the emseg package)');
    expect(stdout).toContain('-> shipped-mask.png (1 page 512x512');
  }, 120_000);

  it('exports the partner packages from the installed package alone: the test image is the slice it ships', async () => {
    const stdout = await runIn(dir, join(dir, 'node_modules/.bin/emseg'), ['export-package', 'node_modules/emseg/models/isbi2012-unet.onnx', '--bioimageio', 'bioimageio', '--triton', 'triton']);
    expect(stdout).toMatch(/bioimage\.io package: bioimageio\/rdf\.yaml \(test tensors reproduce to /);
    expect(await readFile(join(dir, 'bioimageio/README.md'), 'utf8')).toContain(`node_modules/emseg/${ISBI_SAMPLE_SLICE} slice 0`);
  }, 180_000);

  it('says in one line which optional package training needs', async () => {
    const train = runIn(dir, join(dir, 'node_modules/.bin/emseg'), ['train', '--images', join(REPO, 'data/isbi2012/train-volume.tif'), '--labels', join(REPO, 'data/isbi2012/train-labels.tif'), '--steps', '1', '--out', 'runs/x']);
    await expect(train).rejects.toThrow(/emseg: this command needs @tensorflow\/tfjs[a-z-]*, an optional dependency of the emseg package: npm install @tensorflow\/tfjs/);
    await expect(train).rejects.not.toThrow(/\n\s+at /);
  }, 120_000);
});
