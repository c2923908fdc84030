/**
 * Ctrl-C on `emseg predict` of a large image (cli/commands/predict.ts): the run stops, says so in
 * one line, leaves through its clean-up (no tile spill left beside the output), keeps what it wrote,
 * and the same command then completes the job. A spawned `node bin/emseg.js` process, signalled as
 * soon as its tile spill appears (the tiles are running then).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeTiff } from '../core/tiff.ts';
import { pointwiseOnnx } from './helpers/pointwise-onnx.ts';
import { syntheticCellProbability } from './helpers/synthetic-cells.ts';

const WIDTH = 16384;
const HEIGHT = 1024;
let dir: string;
let input: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'emseg-interrupt-cli-'));
  input = join(dir, 'wide.tif');
  const probability = syntheticCellProbability(WIDTH, HEIGHT, { cell: 40, noise: 0.1, seed: 9 });
  writeFileSync(input, encodeTiff({ width: WIDTH, height: HEIGHT, pages: [{ width: WIDTH, height: HEIGHT, data: Uint8Array.from(probability, (v) => Math.round(30 + 190 * v)) }] }));
}, 120_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const hidden = () => readdirSync(dir).filter((name) => name.startsWith('.emseg-tmp-'));

/** Runs `emseg predict`; with `interrupt`, sends SIGINT once the tile spill beside the output exists. */
function predict(args: string[], interrupt = false): Promise<{ code: number | null; stdout: string; stderr: string; signalled: boolean }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['bin/emseg.js', 'predict', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let signalled = false;
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    const poll = interrupt
      ? setInterval(() => {
          if (signalled || !hidden().some((name) => name.includes('.tiles-'))) return;
          signalled = child.kill('SIGINT');
        }, 10)
      : undefined;
    child.on('error', reject);
    child.on('close', (code) => {
      clearInterval(poll);
      resolve({ code, stdout, stderr, signalled });
    });
  });
}

describe('emseg predict, large image, Ctrl-C', () => {
  it('stops with one line, removes the tile spill, keeps what it wrote, and the same command completes the job', async () => {
    const out = join(dir, 'wide.ome.zarr');
    const args = [input, '-o', out, '--output', 'labels', '--model', pointwiseOnnx(4), '--ep', 'cpu', '--quiet'];
    const stopped = await predict(args, true);
    expect(stopped.signalled).toBe(true);
    expect(stopped.code, stopped.stderr).toBe(1);
    expect(stopped.stderr).toMatch(/^emseg: .*wide\.ome\.zarr: stopped by SIGINT; the chunks written are kept: run the same command again to go on$/m);
    expect(stopped.stdout).toBe('');
    expect(hidden().filter((name) => name.includes('.tiles-'))).toEqual([]);
    // what a resume needs stays: the probabilities and the label chunks
    expect(hidden().sort()).toEqual(['.emseg-tmp-wide.ome.zarr.label-chunks', '.emseg-tmp-wide.ome.zarr.probability.zarr']);

    const again = await predict(args);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/complete\)\n$/);
    expect(hidden()).toEqual([]);
    expect(existsSync(join(out, 'labels'))).toBe(true);
  }, 180_000);
});
