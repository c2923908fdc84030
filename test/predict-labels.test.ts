/**
 * `emseg predict --output labels` and `--cells` on the in-memory path (predict/predict.ts with
 * predict/predict-cells.ts), with a pointwise model on a synthetic stack of square cells: a uint32
 * TIFF with one label per cell and 0 on the boundaries, and a cell table whose areas sum to the
 * labelled pixels of each slice.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CellParams } from '../core/cells/cell-params.ts';
import { CELL_TABLE_COLUMNS } from '../core/cells/cell-table.ts';
import { defaultModelCard } from '../core/model-card.ts';
import { encodeTiff } from '../core/tiff.ts';
import { writeFileAtomic } from '../node/atomic-write.ts';
import { planPrediction, predictPaths, type PredictModel } from '../predict/predict.ts';
import { runCli } from '../cli/run.ts';
import { readLabelTiff } from '../node/label-tiff.ts';

const side = 13;
const wall = 3;
const grid = 6;
const size = grid * (side + wall); // 96

/** Bright square cells (200) in dark walls (30); page 1 has one wall missing (two cells merged). */
function slice(missingWall: boolean): Uint8Array {
  const data = new Uint8Array(size * size);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      let inside = x % (side + wall) < side && y % (side + wall) < side;
      if (missingWall && y < side && x >= side && x < side + wall) inside = true;
      data[y * size + x] = inside ? 200 : 30;
    }
  }
  return data;
}

/** Pointwise "model": sigmoid of 4 x the normalized intensity. */
const model: PredictModel = {
  card: defaultModelCard('pointwise'),
  predictor: async (tiles) => tiles.map((v) => 1 / (1 + Math.exp(-4 * v))),
};

let dir: string;
let input: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'emseg-labels-'));
  input = join(dir, 'stack.tif');
  const pages = [slice(false), slice(true)].map((data) => ({ width: size, height: size, data }));
  await writeFileAtomic(input, encodeTiff({ width: size, height: size, pages }));
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const readUint32Pages = async (path: string): Promise<Uint32Array[]> => (await readLabelTiff(path)).pages.map((page) => page.data);

describe('emseg predict --output labels --cells', () => {
  it('writes one uint32 label per cell and a table whose areas sum to the labelled pixels', async () => {
    const out = join(dir, 'labels.tif');
    const cells = join(dir, 'cells.csv');
    const result = await predictPaths(input, out, model, { output: 'labels', cells });
    expect(result.files[0]!.output).toBe(out);
    const pages = await readUint32Pages(out);
    expect(pages).toHaveLength(2);
    expect(pages[0]).toBeInstanceOf(Uint32Array);
    const counts = pages.map((page) => new Set(page.filter((v) => v !== 0)).size);
    expect(counts).toEqual([grid * grid, grid * grid - 1]); // page 1: two cells joined through the missing wall
    // boundaries are 0, cell centres are labelled, and labels start at 1 in row-major order
    expect(pages[0]![side + 1]).toBe(0); // inside a wall
    expect(pages[0]![6 * size + 6]).toBe(1);

    const lines = readFileSync(cells, 'utf8').trimEnd().split('\r\n');
    expect(lines[0]).toBe(CELL_TABLE_COLUMNS.join(','));
    const rows = lines.slice(1).map((line) => line.split(','));
    const at = (name: (typeof CELL_TABLE_COLUMNS)[number]) => CELL_TABLE_COLUMNS.indexOf(name);
    expect(rows).toHaveLength(counts[0]! + counts[1]!);
    for (const [slice, page] of pages.entries()) {
      const ofSlice = rows.filter((row) => Number(row[at('slice')]) === slice);
      const areaSum = ofSlice.reduce((sum, row) => sum + Number(row[at('area_px')]), 0);
      expect(areaSum).toBe(page.filter((v) => v !== 0).length);
      expect(ofSlice.every((row) => row[at('image')] === input && row[at('area_um2')] === '')).toBe(true);
      // the membrane probability on a cell's border is the model's 1 - p there: low inside bright cells, not 0
      for (const row of ofSlice) expect(Number(row[at('border_membrane_probability')])).toBeGreaterThanOrEqual(0);
    }
  });

  it("labels with the model card's cells section when it has one, with overrides over it", async () => {
    const cellCounts = async (card: PredictModel['card'], cellParams?: Partial<CellParams>) => {
      const out = join(dir, `card-${Math.random().toString(36).slice(2)}.tif`);
      await predictPaths(input, out, { ...model, card }, { output: 'labels', ...(cellParams ? { cellParams } : {}) });
      return (await readUint32Pages(out)).map((page) => new Set(page.filter((v) => v !== 0)).size);
    };
    const withCells = (cells: NonNullable<PredictModel['card']['cells']>) => ({ ...model.card, cells });
    // The cells' probability is about 0.95 and each cell has 13 x 13 = 169 pixels.
    expect(await cellCounts(model.card)).toEqual([grid * grid, grid * grid - 1]);
    expect(await cellCounts(withCells({ seedThreshold: 0.99 }))).toEqual([0, 0]);
    expect(await cellCounts(withCells({ minSeedArea: side * side + 1 }))).toEqual([0, 1]); // page 1: the merged cell is larger
    expect(await cellCounts(withCells({ minSeedArea: side * side }))).toEqual([grid * grid, grid * grid - 1]);
    expect(await cellCounts(withCells({ seedThreshold: 0.99 }), { seedThreshold: 0.75 })).toEqual([grid * grid, grid * grid - 1]);
  });

  it('refuses labels as PNG and a table written over an input', async () => {
    await expect(planPrediction(input, join(dir, 'x.tif'), { output: 'labels', format: 'png' })).rejects.toThrow('--format png: labels are a uint32 TIFF');
    await expect(planPrediction(input, join(dir, 'y.tif'), { output: 'mask', cells: input })).rejects.toThrow(/stack\.tif/);
    await expect(planPrediction(input, join(dir, 'z.tif'), { output: 'labels', cells: join(dir, 'z.tif') })).rejects.toThrow('--cells');
  });

  it('on the large-image path, refuses the cell table without the labels, before any model loads', async () => {
    let stderr = '';
    const code = await runCli(['predict', input, '-o', join(dir, 'big.ome.zarr'), '--cells', join(dir, 'big.csv'), '--model', join(dir, 'no-such-model.onnx')], {
      stdout: () => {},
      stderr: (text) => {
        stderr += text;
      },
    });
    expect(code).toBe(1);
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stderr).toContain('the cell table comes with the labels; add --output labels');
  });
});
