/**
 * `emseg predict --output labels` on a 4096x4096 image as a user runs it (spawned `node
 * bin/emseg.js` processes, a pointwise ONNX model, the default cell parameters: label chunks of 2048 with a
 * 256-pixel halo, so the image is labelled in 2 x 2 chunks joined across their borders): the
 * in-memory path (`-o x.tif`), the large path (`-o x.ome.zarr`) and two shards followed by
 * `--finalize` give the same labels, and the cell tables' areas sum to the labelled pixels.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inflateSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CELL_TABLE_COLUMNS } from '../core/cells/cell-table.ts';
import { encodeTiff } from '../core/tiff.ts';
import { syntheticCellProbability } from './helpers/synthetic-cells.ts';
import { pointwiseOnnx } from './helpers/pointwise-onnx.ts';
import { readLabelTiff } from '../node/label-tiff.ts';

const SIDE = 4096;
const CHUNK = 512;
let dir: string;
let input: string;
let common: string[];

function predict(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['bin/emseg.js', 'predict', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const readTiffLabels = async (path: string): Promise<Uint32Array> => (await readLabelTiff(path)).pages[0]!.data;

function readZarrLabels(store: string): Uint32Array {
  const labels = new Uint32Array(SIDE * SIDE);
  for (let cy = 0; cy < SIDE / CHUNK; cy++) {
    for (let cx = 0; cx < SIDE / CHUNK; cx++) {
      const raw = inflateSync(readFileSync(join(store, 'labels', 'cells', '0', String(cy), String(cx))));
      const chunk = new Uint32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.length));
      for (let row = 0; row < CHUNK; row++) labels.set(chunk.subarray(row * CHUNK, (row + 1) * CHUNK), (cy * CHUNK + row) * SIDE + cx * CHUNK);
    }
  }
  return labels;
}

/** Sum of the table's areas, and its rows. */
function tableAreas(path: string): { rows: number; area: number } {
  const rows = readFileSync(path, 'utf8').trimEnd().split('\r\n').slice(1);
  const at = CELL_TABLE_COLUMNS.indexOf('area_px');
  return { rows: rows.length, area: rows.reduce((sum, row) => sum + Number(row.split(',')[at]), 0) };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'emseg-labels-cli-'));
  input = join(dir, 'cells.tif');
  const probability = syntheticCellProbability(SIDE, SIDE, { cell: 48, noise: 0.1, seed: 4 });
  writeFileSync(input, encodeTiff({ width: SIDE, height: SIDE, pages: [{ width: SIDE, height: SIDE, data: Uint8Array.from(probability, (v) => Math.round(30 + 190 * v)) }] }));
  common = ['--output', 'labels', '--model', pointwiseOnnx(4), '--ep', 'cpu', '--quiet'];
}, 120_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('emseg predict --output labels, 4096x4096', () => {
  it('gives the same labels in memory, as OME-Zarr, and in two shards with --finalize', async () => {
    const memory = await predict([input, '-o', join(dir, 'memory.tif'), '--cells', join(dir, 'memory.csv'), ...common]);
    expect(memory.code, memory.stderr).toBe(0);
    const expected = await readTiffLabels(join(dir, 'memory.tif'));
    const labelled = expected.filter((v) => v !== 0).length;
    const cells = new Set(expected).size - 1;
    expect(cells).toBeGreaterThan(100);
    expect(tableAreas(join(dir, 'memory.csv'))).toEqual({ rows: cells, area: labelled });

    const large = await predict([input, '-o', join(dir, 'large.ome.zarr'), '--cells', join(dir, 'large.csv'), ...common]);
    expect(large.code, large.stderr).toBe(0);
    expect(large.stdout).toContain('complete');
    expect(Buffer.from(readZarrLabels(join(dir, 'large.ome.zarr')).buffer).equals(Buffer.from(expected.buffer, expected.byteOffset, expected.byteLength))).toBe(true);
    expect(tableAreas(join(dir, 'large.csv'))).toEqual({ rows: cells, area: labelled });

    const store = join(dir, 'sharded.ome.zarr');
    const first = await predict([input, '-o', store, '--shard', '0/2', ...common]);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toContain('chunks of other shards missing');
    const second = await predict([input, '-o', store, '--shard', '1/2', ...common]);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toContain('complete');
    const finalize = await predict([input, '-o', store, '--finalize', ...common]);
    expect(finalize.code, finalize.stderr).toBe(0);
    expect(Buffer.from(readZarrLabels(store).buffer).equals(Buffer.from(expected.buffer, expected.byteOffset, expected.byteLength))).toBe(true);
  }, 300_000);
});
