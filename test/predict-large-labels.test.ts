/**
 * `--output labels` and `--cells` on the large-image path (predict/predict-large.ts,
 * predict/predict-large-labels.ts) give the in-memory path's labels (predict/predict.ts): a two-slice
 * image of synthetic cells, label chunks of 512 pixels (so each slice is labelled in 3 x 3 chunks
 * and the cells are joined across their borders), a pointwise model. The same labels through a
 * BigTIFF output, an OME-Zarr output (an NGFF labels group), two shards with the final step
 * interrupted and then run by --finalize, and a run interrupted during inference and resumed; the
 * cell table's areas sum to the labelled pixels and equal the in-memory table's.
 */
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inflateSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CELL_TABLE_COLUMNS } from '../core/cells/cell-table.ts';
import type { CellParams } from '../core/cells/cell-params.ts';
import { defaultModelCard } from '../core/model-card.ts';
import { encodeTiff } from '../core/tiff.ts';
import { writeFileAtomic } from '../node/atomic-write.ts';
import { predictPaths, type PredictModel } from '../predict/predict.ts';
import { predictLarge } from '../predict/predict-large.ts';
import { labelScratchPaths } from '../predict/predict-large-labels.ts';
import { syntheticCellProbability } from './helpers/synthetic-cells.ts';
import { readLabelTiff } from '../node/label-tiff.ts';

const [WIDTH, HEIGHT, DEPTH, CHUNK] = [1536, 1100, 2, 512];
const cellParams: Partial<CellParams> = { chunkSize: 512, chunkHalo: 64 };

/** Pointwise "model": sigmoid of 4 x the normalized intensity. */
const model: PredictModel = {
  card: defaultModelCard('pointwise'),
  predictor: async (tiles) => tiles.map((v) => 1 / (1 + Math.exp(-4 * v))),
};

let dir: string;
let input: string;
let expected: Uint32Array[];
let expectedTable: string[][];

const readTiffPages = async (path: string): Promise<Uint32Array[]> => (await readLabelTiff(path)).pages.map((page) => page.data);

/** Level 0 of an OME-Zarr labels store (labels/cells/0), one array per slice. */
function readZarrLabels(store: string): Uint32Array[] {
  return Array.from({ length: DEPTH }, (_, z) => {
    const slice = new Uint32Array(WIDTH * HEIGHT);
    for (let cy = 0; cy * CHUNK < HEIGHT; cy++) {
      for (let cx = 0; cx * CHUNK < WIDTH; cx++) {
        const raw = inflateSync(readFileSync(join(store, 'labels', 'cells', '0', String(z), String(cy), String(cx))));
        const chunk = new Uint32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.length));
        const w = Math.min(CHUNK, WIDTH - cx * CHUNK);
        for (let row = 0; row < CHUNK && cy * CHUNK + row < HEIGHT; row++) slice.set(chunk.subarray(row * CHUNK, row * CHUNK + w), (cy * CHUNK + row) * WIDTH + cx * CHUNK);
      }
    }
    return slice;
  });
}

function readTable(path: string): string[][] {
  const lines = readFileSync(path, 'utf8').trimEnd().split('\r\n');
  expect(lines[0]).toBe(CELL_TABLE_COLUMNS.join(','));
  return lines.slice(1).map((line) => line.split(','));
}

const column = (name: (typeof CELL_TABLE_COLUMNS)[number]) => CELL_TABLE_COLUMNS.indexOf(name);

/** Slices equal to the in-memory labels, value for value (the same cells, the same numbers). */
function expectInMemoryLabels(slices: Uint32Array[], what: string): void {
  expect(slices).toHaveLength(DEPTH);
  slices.forEach((slice, z) => expect(Buffer.from(slice.buffer, slice.byteOffset, slice.byteLength).equals(Buffer.from(expected[z]!.buffer, expected[z]!.byteOffset, expected[z]!.byteLength)), `${what}, slice ${z}`).toBe(true));
}

/** The table's rows: the in-memory table's, but for the border membrane probability (summed in another order) to within rounding. */
function expectInMemoryTable(rows: string[][]): void {
  expect(rows).toHaveLength(expectedTable.length);
  const membrane = column('border_membrane_probability');
  rows.forEach((row, i) => {
    const want = expectedTable[i]!;
    expect(row.filter((_, k) => k !== membrane)).toEqual(want.filter((_, k) => k !== membrane));
    expect(Math.abs(Number(row[membrane]) - Number(want[membrane]))).toBeLessThanOrEqual(1e-4);
  });
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'emseg-large-labels-'));
  input = join(dir, 'cells.tif');
  const pages = [1, 2].map((seed) => {
    const p = syntheticCellProbability(WIDTH, HEIGHT, { cell: 40, noise: 0.15, seed });
    return { width: WIDTH, height: HEIGHT, data: Uint8Array.from(p, (v) => Math.round(30 + 190 * v)) };
  });
  await writeFileAtomic(input, encodeTiff({ width: WIDTH, height: HEIGHT, pages }));
  // The in-memory path: the reference.
  const table = join(dir, 'memory.csv');
  await predictPaths(input, join(dir, 'memory.tif'), model, { output: 'labels', cells: table, cellParams });
  expected = await readTiffPages(join(dir, 'memory.tif'));
  expectedTable = readTable(table);
}, 120_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('--output labels on the large-image path', () => {
  it('the in-memory labels are chunked and joined: many cells, table areas sum to the labelled pixels', () => {
    expect(expected).toHaveLength(DEPTH);
    for (const [z, slice] of expected.entries()) {
      const cells = new Set(slice).size - 1;
      expect(cells).toBeGreaterThan(500);
      const rows = expectedTable.filter((row) => Number(row[column('slice')]) === z);
      expect(rows).toHaveLength(cells);
      expect(rows.reduce((sum, row) => sum + Number(row[column('area_px')]), 0)).toBe(slice.filter((v) => v !== 0).length);
    }
  });

  it('writes the same labels to an OME-Zarr labels group and to a BigTIFF, and the same table', async () => {
    const store = join(dir, 'labels.ome.zarr');
    const table = join(dir, 'large.csv');
    // stripes of one label chunk: the tiles on each stripe border wait in the tile spill, the label chunks for the next stripe
    const result = await predictLarge(input, store, model, { output: 'labels', cells: table, cellParams, stripeWidth: CHUNK });
    expect(result.finalized).toBe(true);
    expectInMemoryLabels(readZarrLabels(store), 'OME-Zarr');
    expectInMemoryTable(readTable(table));
    // NGFF 0.4: the labels group lists cells, whose group is a multiscale image-label
    expect(JSON.parse(readFileSync(join(store, 'labels', '.zattrs'), 'utf8'))).toEqual({ labels: ['cells'] });
    const attributes = JSON.parse(readFileSync(join(store, 'labels', 'cells', '.zattrs'), 'utf8'));
    expect(attributes['image-label']).toEqual({ version: '0.4' });
    expect(attributes.multiscales[0].datasets.map((d: { path: string }) => d.path)).toEqual(['0', '1', '2']);
    expect(JSON.parse(readFileSync(join(store, 'labels', 'cells', '0', '.zarray'), 'utf8')).dtype).toBe('<u4');
    // the hidden probabilities, label chunks and tile spill are gone
    expect(readdirSync(dir).filter((name) => name.startsWith('.emseg-tmp-'))).toEqual([]);

    const tiff = join(dir, 'labels-big.tif');
    expect((await predictLarge(input, tiff, model, { output: 'labels', cellParams })).finalized).toBe(true);
    expect(readFileSync(tiff).readUInt16LE(2)).toBe(43); // BigTIFF
    expectInMemoryLabels(await readTiffPages(tiff), 'BigTIFF');
  }, 180_000);

  it('two shards, the final step interrupted, then --finalize: the same labels and table', async () => {
    const store = join(dir, 'sharded.ome.zarr');
    const table = join(dir, 'sharded.csv');
    const first = await predictLarge(input, store, model, { output: 'labels', cells: table, cellParams, shard: { index: 0, count: 2 } });
    expect(first.finalized).toBe(false);
    expect(first.chunksMissing).toBeGreaterThan(0);
    // the second shard completes the probabilities and starts the final step; it is stopped there
    const stop = new AbortController();
    const second = predictLarge(input, store, model, {
      output: 'labels', cells: table, cellParams, shard: { index: 1, count: 2 }, signal: stop.signal,
      onNotice: (line) => line.startsWith('labels: joining') && stop.abort(new Error('stopped in the final step')),
    });
    await expect(second).rejects.toThrow('stopped in the final step');
    expect(existsSync(labelScratchPaths(store).chunks)).toBe(true);
    // a shard run again leaves the final step to --finalize (the lock is held)
    const again = await predictLarge(input, store, model, { output: 'labels', cells: table, cellParams, shard: { index: 1, count: 2 } });
    expect([again.finalized, again.chunksMissing, again.tilesPredicted]).toEqual([false, 0, 0]);
    const final = await predictLarge(input, store, model, { output: 'labels', cells: table, cellParams, finalize: true });
    expect(final.finalized).toBe(true);
    expectInMemoryLabels(readZarrLabels(store), 'two shards');
    expectInMemoryTable(readTable(table));
    // --finalize once more: nothing left to do
    expect((await predictLarge(input, store, model, { output: 'labels', cellParams, finalize: true })).finalized).toBe(true);
  }, 180_000);

  it('interrupted during inference and run again: the same labels, the finished work kept', async () => {
    const store = join(dir, 'resumed.ome.zarr');
    const stop = new AbortController();
    const interrupted = predictLarge(input, store, model, {
      output: 'labels', cellParams, tileBatch: 1, signal: stop.signal,
      onProgress: (progress) => progress.tilesDone >= progress.tiles / 2 && stop.abort(new Error('killed')),
    });
    await expect(interrupted).rejects.toThrow('killed');
    const labelled = readdirSync(join(labelScratchPaths(store).chunks, '0'), { recursive: true }).filter((name) => String(name).endsWith('.record'));
    expect(labelled.length).toBeGreaterThan(0); // label chunks labelled as their probability arrived
    const resumed = await predictLarge(input, store, model, { output: 'labels', cellParams });
    expect(resumed.finalized).toBe(true);
    expect(resumed.chunksSkipped).toBeGreaterThan(0);
    expectInMemoryLabels(readZarrLabels(store), 'resumed');
  }, 180_000);

  it('rescaled (--pixel-size): the labels of the in-memory path at that pixel size, labelled on the input grid', async () => {
    const fourNm: PredictModel = { ...model, card: { ...model.card, trainingPixelSize: 4 } };
    await predictPaths(input, join(dir, 'memory-8nm.tif'), fourNm, { output: 'labels', cellParams, pixelSize: 8 });
    const memory = await readTiffPages(join(dir, 'memory-8nm.tif'));
    const store = join(dir, 'rescaled.ome.zarr');
    expect((await predictLarge(input, store, fourNm, { output: 'labels', cellParams, pixelSize: 8 })).finalized).toBe(true);
    const large = readZarrLabels(store);
    memory.forEach((slice, z) => expect(Buffer.from(large[z]!.buffer).equals(Buffer.from(slice.buffer, slice.byteOffset, slice.byteLength)), `slice ${z}`).toBe(true));
    expect(memory[0]!.some((v, i) => v !== expected[0]![i])).toBe(true); // another pixel size, other cells
    expect(readdirSync(dir).filter((name) => name.startsWith('.emseg-tmp-'))).toEqual([]);
  }, 180_000);

  it('refuses a label chunk size that the output chunks do not tile, and --cells without labels', async () => {
    await expect(predictLarge(input, join(dir, 'bad.ome.zarr'), model, { output: 'labels', cellParams: { chunkSize: 768 } })).rejects.toThrow(
      'cell parameters: chunkSize: expected a multiple of the output chunk size 512, found 768',
    );
    await expect(predictLarge(input, join(dir, 'bad.ome.zarr'), model, { output: 'mask', cells: join(dir, 'bad.csv') })).rejects.toThrow('add --output labels');
    expect(existsSync(join(dir, 'bad.ome.zarr'))).toBe(false);
  });
});
