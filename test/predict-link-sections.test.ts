/**
 * `emseg predict --output labels --cells --link-sections f` through runCli in-process, with a
 * pointwise ONNX model on a tiny synthetic stack: the linked labels are exactly the unlinked
 * labels of the same command relabelled by linkSections (core/cells/section-links.ts), a tube
 * through the three pages keeps one id, a split cell keeps its id in one part; the table's
 * object_id is the linked labels' value under each cell. Refusals: without cells to link, a
 * fraction outside (0, 1], and on the large-image path (one `emseg:` line, before the model loads).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { linkSections, relabelSection } from '../core/cells/section-links.ts';
import { LINKED_CELL_TABLE_COLUMNS } from '../core/cells/cell-table.ts';
import { encodeTiff } from '../core/tiff.ts';
import { writeFileAtomic } from '../node/atomic-write.ts';
import { readLabelTiff } from '../node/label-tiff.ts';
import { runCli } from '../cli/run.ts';
import { pointwiseOnnx } from './helpers/pointwise-onnx.ts';

const size = 48;
const squareSide = 10;

/** Bright squares (200) on a dark background (30), each [x, y] its top-left corner; `wallAt` cuts a dark column through the picture. */
function page(squares: [number, number][], wallAt?: number): Uint8Array {
  const data = new Uint8Array(size * size).fill(30);
  for (const [x0, y0] of squares) for (let y = y0; y < y0 + squareSide; y++) for (let x = x0; x < x0 + squareSide; x++) data[y * size + x] = 200;
  if (wallAt !== undefined) for (let y = 0; y < size; y++) for (let x = wallAt; x < wallAt + 2; x++) data[y * size + x] = 30;
  return data;
}

// The tube at (4 + 2k, 4) on page k; the cell at (30, 4) on pages 0 and 1, split by a wall at x = 34 on page 2;
// a cell at (6, 30) on page 1 only; one at (30, 30) on pages 0 and 2 (a gap).
const pages = [page([[4, 4], [30, 4], [30, 30]]), page([[6, 4], [30, 4], [6, 30]]), page([[8, 4], [30, 4], [30, 30]], 34)];
const tube = (k: number) => (4 + 5) * size + 4 + 2 * k + 5; // the tube's centre on page k

let dir: string;
let input: string;
let model: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'emseg-link-'));
  input = join(dir, 'stack.tif');
  await writeFileAtomic(input, encodeTiff({ width: size, height: size, pages: pages.map((data) => ({ width: size, height: size, data })) }));
  model = pointwiseOnnx(4);
  // Quiet: the command prints its notices and summary on the real stdout/stderr.
  vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
  vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
});

afterAll(() => {
  vi.restoreAllMocks();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function predict(...args: string[]): Promise<{ code: number; stderr: string }> {
  let stderr = '';
  const code = await runCli(['predict', ...args, '--ep', 'cpu', '--quiet'], {
    stdout: () => {},
    stderr: (text) => {
      stderr += text;
    },
  });
  return { code, stderr };
}

const readUint32Pages = async (path: string): Promise<Uint32Array[]> => (await readLabelTiff(path)).pages.map((page) => page.data);

describe('emseg predict --link-sections', () => {
  it('writes the per-page labels relabelled by linkSections, and the object of each cell in the table', async () => {
    const plain = join(dir, 'plain.tif');
    const linked = join(dir, 'linked.tif');
    const table = join(dir, 'cells.csv');
    expect((await predict(input, '-o', plain, '--output', 'labels', '--model', model)).code).toBe(0);
    const run = await predict(input, '-o', linked, '--output', 'labels', '--cells', table, '--link-sections', '0.5', '--model', model);
    expect(run.stderr).not.toContain('emseg:');
    expect(run.code).toBe(0);
    const perPage = await readUint32Pages(plain);
    const objects = await readUint32Pages(linked);
    const { ids } = linkSections(perPage, 0.5);
    expect(objects).toEqual(perPage.map((labels, k) => relabelSection(labels, ids[k]!)));

    // by hand: the tube keeps one id; the split cell's id lives on in one part, the other part is new
    expect(new Set([0, 1, 2].map((k) => objects[k]![tube(k)]))).toEqual(new Set([objects[0]![tube(0)]]));
    expect(objects[0]![tube(0)]).toBeGreaterThan(0);
    const split = (x: number) => objects[2]![9 * size + x]!;
    const before = objects[1]![9 * size + 35]!;
    expect(split(31)).not.toBe(split(38));
    expect([split(31), split(38)]).toContain(before);
    expect(Math.max(split(31), split(38))).toBeGreaterThan(Math.max(...objects[1]!));

    const lines = readFileSync(table, 'utf8').trimEnd().split('\r\n');
    expect(lines[0]).toBe(LINKED_CELL_TABLE_COLUMNS.join(','));
    const at = (name: (typeof LINKED_CELL_TABLE_COLUMNS)[number]) => LINKED_CELL_TABLE_COLUMNS.indexOf(name);
    const rows = lines.slice(1).map((line) => line.split(',').map((v, i) => (i === 0 ? Number.NaN : Number(v))));
    expect(rows).toHaveLength(perPage.reduce((sum, labels) => sum + new Set(labels.filter((v) => v > 0)).size, 0));
    for (const row of rows) {
      const slice = row[at('slice')]!;
      // a pixel of the cell: its bounding box's first row, at its first pixel there
      const y = row[at('bbox_y_min')]!;
      const x = [...perPage[slice]!.subarray(y * size, (y + 1) * size)].indexOf(row[at('label')]!);
      expect(x).toBeGreaterThanOrEqual(0);
      expect(objects[slice]![y * size + x]).toBe(row[at('object_id')]);
    }
  });

  it('refuses to link without cells, a fraction outside (0, 1], and on the large-image path, before the model loads', async () => {
    const missing = join(dir, 'no-such-model.onnx');
    const refusals: [string[], string][] = [
      [[input, '-o', join(dir, 'm.tif'), '--link-sections', '0.5'], 'emseg: --link-sections: links cells across pages; add --output labels or --cells <table.csv>'],
      [[input, '-o', join(dir, 'm.tif'), '--output', 'labels', '--link-sections', '0'], 'emseg: --link-sections: expected a number in (0, 1], found "0"'],
      [[input, '-o', join(dir, 'm.tif'), '--output', 'labels', '--link-sections', '1.5'], 'found "1.5"'],
      [[input, '-o', join(dir, 'big.ome.zarr'), '--output', 'labels', '--link-sections', '0.5'], 'emseg: --link-sections: cells are linked across sections only for stacks that fit in memory, not on the large-image path (taken for an OME-Zarr output); write a TIFF stack'],
      [[input, '-o', join(dir, 'big.ome.zarr'), '--output', 'labels', '--shard', '0/2', '--link-sections', '0.5'], '(taken for --shard)'],
      [[input, '-o', join(dir, 'big.ome.zarr'), '--output', 'labels', '--finalize', '--link-sections', '0.5'], '(taken for --finalize)'],
    ];
    for (const [args, message] of refusals) {
      const { code, stderr } = await predict(...args, '--model', missing);
      expect(code, args.join(' ')).toBe(1);
      expect(stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
      expect(stderr, args.join(' ')).toContain(message);
    }
  });
});
