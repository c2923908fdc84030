/**
 * `emseg predict` when its output cannot be written (issue 26, item 4): a full disk, a read-only
 * file system, a forbidden folder and an output folder removed while writing give one line,
 * `emseg: ...`, exit code 1 and no stack trace, on the large path (OME-Zarr, BigTIFF) and the
 * in-memory path (PNG, TIFF), naming what stays for a resume; the same command then resumes.
 * Needs root for `mount -t tmpfs` (test/helpers/small-tmpfs.ts); skipped with the reason otherwise.
 */
import { spawnSync } from 'node:child_process';
import { appendFileSync, chmodSync, copyFileSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { encodeTiff } from '../core/tiff.ts';
import { encodePng } from '../node/png.ts';
import { asWriteFailure } from '../node/write-failure.ts';
import { runCliCaptured } from './helpers/run-cli-captured.ts';
import { mountSmallTmpfs, tmpfsUnavailable, type SmallTmpfs } from './helpers/small-tmpfs.ts';
import { tinyUNetOnnx } from './helpers/tiny-unet-onnx.ts';
import { problemLines } from './helpers/stderr-lines.ts';
import { tempDir } from './helpers/temp-dir.ts';

const SIDE = 768; // float32 probabilities: 2.4 MB, more than the 1 MiB tmpfs holds
let dir: string;
let tiff: string;
let png: string;
let zarrInput: string;
let common: string[];

/** One line on stderr, `emseg: ...` (after the model and pixel-size lines), no stack trace, exit code 1. */
function expectOneLine(run: { code: number; stderr: string }, pattern: RegExp): void {
  expect(run.code).toBe(1);
  const lines = problemLines(run.stderr);
  expect(lines, run.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^emseg: /);
  expect(lines[0]).toMatch(pattern);
  expect(run.stderr).not.toMatch(/^\s+at /m);
}

describe('write failures as one line (no root needed)', () => {
  it('names the output, the reason and what stays, for every code it knows, and leaves other errors alone', () => {
    const error = Object.assign(new Error('EACCES: permission denied, open'), { code: 'EACCES', path: '/out/x.tif' });
    const failure = asWriteFailure(error, '/out/x.tif', 'nothing was written') as Error;
    expect(failure.message).toBe('/out/x.tif: cannot be written: permission denied (EACCES at /out/x.tif); nothing was written');
    const other = new Error('boom');
    expect(asWriteFailure(other, '/out/x.tif')).toBe(other);
  });
});

if (tmpfsUnavailable) console.warn(`skipped: the write-failure tests on a small tmpfs need root (${tmpfsUnavailable})`);

describe.skipIf(tmpfsUnavailable !== undefined)('emseg predict on a small tmpfs', () => {
  let disk: SmallTmpfs | undefined;
  afterEach(() => {
    disk?.unmount();
    disk = undefined;
  });

  beforeAll(async () => {
    dir = tempDir('emseg-write-failures-');
    const data = new Uint8Array(SIDE * SIDE);
    for (let i = 0; i < data.length; i++) data[i] = (Math.imul(i, 2654435761) >>> 24) & 255;
    tiff = join(dir, 'in.tif');
    writeFileSync(tiff, encodeTiff({ width: SIDE, height: SIDE, pages: [{ width: SIDE, height: SIDE, data }] }));
    png = join(dir, 'in.png');
    writeFileSync(png, await encodePng({ width: 256, height: 256, data: data.subarray(0, 256 * 256) }));
    chmodSync(dir, 0o755); // readable by the unprivileged process of the EACCES test
    const model = join(dir, 'tiny.onnx');
    copyFileSync((await tinyUNetOnnx({ depth: 2, baseFilters: 4 })).path, model);
    common = ['--model', model, '--tile', '128', '--halo', '16', '--ep', 'cpu', '--quiet'];
    zarrInput = join(dir, 'in.ome.zarr'); // an OME-Zarr input sends a .tif output down the large path (BigTIFF)
    expect((await runCliCaptured(['predict', tiff, '-o', zarrInput, ...common])).code).toBe(0);
  }, 120_000);

  it('OME-Zarr on a full disk: one line naming the chunks kept; with space the same command resumes', async () => {
    disk = mountSmallTmpfs('1m');
    const out = join(disk.path, 'p.ome.zarr');
    const args = ['predict', tiff, '-o', out, '--output', 'probability', ...common];
    expectOneLine(await runCliCaptured(args), /p\.ome\.zarr: cannot be written: no space left on the device \(ENOSPC.*the chunks written so far stay in .*p\.ome\.zarr; .*run the same command again to resume/);
    disk.remount('size=20m');
    const again = await runCliCaptured(args);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/chunks written, [1-9]\d* already done; complete/);
  }, 120_000);

  it('BigTIFF on a full disk: one line naming the partial file and journal kept', async () => {
    disk = mountSmallTmpfs('1m');
    const out = join(disk.path, 'p.tif');
    expectOneLine(
      await runCliCaptured(['predict', zarrInput, '-o', out, '--output', 'probability', ...common]),
      /p\.tif: cannot be written: no space left on the device \(ENOSPC.*the tiles written so far stay in .*\.p\.tif\.partial and .*\.p\.tif\.journal/,
    );
  }, 120_000);

  it('PNG and TIFF (in memory) on a full disk, and everything on a read-only one', async () => {
    disk = mountSmallTmpfs('1m');
    // Fill the disk to its last block.
    try {
      for (;;) appendFileSync(join(disk.path, 'filler'), new Uint8Array(4096));
    } catch {
      // ENOSPC: full
    }
    expectOneLine(await runCliCaptured(['predict', png, '-o', join(disk.path, 'm.png'), ...common]), /m\.png: cannot be written: no space left on the device.*nothing of it was written/);
    expectOneLine(await runCliCaptured(['predict', tiff, '-o', join(disk.path, 'p.tif'), '--output', 'probability', ...common]), /p\.tif: cannot be written: no space left/);
    rmSync(join(disk.path, 'filler'));
    disk.remount('ro');
    expectOneLine(await runCliCaptured(['predict', png, '-o', join(disk.path, 'm.png'), ...common]), /cannot be written: the file system is read-only \(EROFS/);
    expectOneLine(await runCliCaptured(['predict', tiff, '-o', join(disk.path, 'p.ome.zarr'), ...common]), /p\.ome\.zarr: cannot be written: the file system is read-only \(EROFS/);
    expectOneLine(await runCliCaptured(['predict', zarrInput, '-o', join(disk.path, 'p.tif'), ...common]), /p\.tif: cannot be written: the file system is read-only \(EROFS/);
  }, 120_000);

  it('BigTIFF whose output folder is removed while writing: one line, nothing claimed as kept', async () => {
    disk = mountSmallTmpfs('20m');
    const folder = join(disk.path, 'out');
    mkdirSync(folder);
    const partial = join(folder, '.p.tif.partial');
    const remover = setInterval(() => existsSync(partial) && rmSync(folder, { recursive: true, force: true }), 5);
    try {
      expectOneLine(
        await runCliCaptured(['predict', zarrInput, '-o', join(folder, 'p.tif'), '--output', 'probability', ...common]),
        /p\.tif: cannot be written: the folder no longer exists, removed or unmounted while writing \(ENOENT.*run the same command again to start over/,
      );
    } finally {
      clearInterval(remover);
    }
  }, 120_000);

  it('any other writer (emseg data export, PNG) on a full disk: one line from the CLI', async () => {
    disk = mountSmallTmpfs('1m');
    const run = await runCliCaptured(['data', 'export', '--out', join(disk.path, 'slices')]);
    expectOneLine(run, /^emseg: file system error: no space left on the device \(ENOSPC/);
  }, 120_000);

  it('a folder this user may not write: one line (EACCES), from a process without root', () => {
    disk = mountSmallTmpfs('1m'); // root's folder, mode 1777 for tmpfs: make it 755
    spawnSync('chmod', ['755', disk.path]);
    const script = join(dir, 'cli.mts');
    writeFileSync(script, `import { runCli } from ${JSON.stringify(join(process.cwd(), 'cli/run.ts'))};\nprocess.exitCode = await runCli(process.argv.slice(2));\n`);
    const child = spawnSync(process.execPath, ['--import', 'tsx', script, 'predict', png, '-o', join(disk.path, 'm.png'), ...common], {
      uid: 65534,
      gid: 65534,
      encoding: 'utf8',
      env: { ...process.env, TSX_TSCONFIG_PATH: join(process.cwd(), 'tsconfig.json') },
    });
    expectOneLine({ code: child.status ?? -1, stderr: child.stderr.split('\n').filter((line) => !/TensorFlow|tfjs|=====|^$/.test(line)).join('\n') }, /m\.png: cannot be written: permission denied \(EACCES/);
  }, 120_000);
});
