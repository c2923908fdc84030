/**
 * `emseg evaluate` and cell labels: with a model (a tiny random U-Net), the JSON's `cellLabels`
 * has the documented shape and the labels labelCells gives on the same probabilities, and
 * --no-cell-labels leaves it out; without a model, `--predicted-labels` scores a labels file
 * (perfect labels from the ground truth V_rand 1, two cells merged lower), pages matched to slices
 * one for one or by --slices, with one-line errors for sizes, page counts and model options.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCliCaptured as run } from './helpers/run-cli-captured.ts';
import { tinyUNetOnnx, type TinyUNetOnnx } from './helpers/tiny-unet-onnx.ts';
import { segmentOptionsFromCard } from '../core/card-options.ts';
import { labelCells } from '../core/cells/cell-labels.ts';
import { cellParamsFrom } from '../core/cells/cell-params.ts';
import { segmentImage } from '../core/inference.ts';
import { ISBI_TRAIN_IMAGES, ISBI_TRAIN_LABELS } from '../core/isbi-data.ts';
import { labelComponents4, scoreLabelSlice } from '../core/metrics/index.ts';
import { encodeLabelTiff } from '../core/tiff-write.ts';
import { readImageFile } from '../node/image-files.ts';
import { loadOnnxModel } from '../node/load-onnx-model.ts';

const root = mkdtempSync(join(tmpdir(), 'emseg-evaluate-cells-'));
let tiny: TinyUNetOnnx;

beforeAll(async () => {
  tiny = await tinyUNetOnnx({ depth: 2, baseFilters: 4, seed: 5 });
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

interface CellLabelsDoc {
  slices: number[];
  params: Record<string, unknown>;
  paramsFrom: string;
  rows: Array<{
    source: string;
    vRand: number;
    vInfo: number;
    cellsPerSlice: number;
    truthRegionsPerSlice: number;
    perSlice: Array<{ slice: number; vRand: number; vInfo: number; cells: number; truthRegions: number; maskRegions?: number }>;
    mask?: { threshold: number; vRand: number; vInfo: number; regionsPerSlice: number };
    seconds: number;
  }>;
}

/** The ground truth's regions of a slice as uint32 labels. */
async function truthComponents(slices: readonly number[]): Promise<Uint32Array[]> {
  const labels = await readImageFile(ISBI_TRAIN_LABELS);
  return slices.map((s) => Uint32Array.from(labelComponents4(labels.pages[s]!.data, labels.width, labels.height).labels));
}

function writeLabelTiff(name: string, pages: readonly Uint32Array[], size = 512): string {
  const path = join(root, name);
  writeFileSync(path, encodeLabelTiff({ width: size, height: size, pages: pages.map((data) => ({ width: size, height: size, data })) }));
  return path;
}

describe('emseg evaluate: cell labels of a model', () => {
  it("writes cellLabels in the JSON: the card's cells parameters, each variant's labels beside its mask", async () => {
    const json = join(root, 'cells.json');
    const { code, stdout, stderr } = await run(['evaluate', tiny.path, '--slices', '25', '--tta', '--ep', 'cpu', '--json', json]);
    expect(stderr).not.toMatch(/emseg: /);
    expect(code).toBe(0);
    expect(stdout).toContain('cell labels (probability >= ');
    expect(stdout).toMatch(/\nground truth\s+\d+\.0\s+\d+\n/);
    expect(stdout).toMatch(/\nplain cell labels\s+\d\.\d{4}\s+\d\.\d{4}/);
    expect(stdout).toMatch(/\nTTA x8 mask at 0\.50\s+\d\.\d{4}/);
    const doc = JSON.parse(readFileSync(json, 'utf8')) as { threshold: number; rows: Array<{ variant: string; vRand: number; vInfo: number }>; cellLabels: CellLabelsDoc };
    const cells = doc.cellLabels;
    expect(Object.keys(cells).sort()).toEqual(['params', 'paramsFrom', 'rows', 'slices']);
    expect(cells.slices).toEqual([25]);
    expect(cells.params).toEqual(cellParamsFrom(tiny.card.cells));
    expect(cells.rows.map((r) => r.source)).toEqual(['plain', 'tta']);
    for (const [k, row] of cells.rows.entries()) {
      expect(Object.keys(row).sort()).toEqual(['cellsPerSlice', 'mask', 'perSlice', 'seconds', 'source', 'truthRegionsPerSlice', 'vInfo', 'vRand']);
      expect(row.mask).toEqual({ threshold: doc.threshold, vRand: doc.rows[k]!.vRand, vInfo: doc.rows[k]!.vInfo, regionsPerSlice: row.perSlice[0]!.maskRegions });
      expect(Object.keys(row.perSlice[0]!).sort()).toEqual(['cells', 'maskRegions', 'slice', 'truthRegions', 'vInfo', 'vRand']);
      expect(row.vRand).toBeGreaterThan(0);
      expect(row.vRand).toBeLessThanOrEqual(1);
    }
    // The plain row is what labelCells and the label scorer give on the model's probabilities.
    const model = await loadOnnxModel(tiny.path, { providers: 'cpu' });
    try {
      const [images, labels] = await Promise.all([readImageFile(ISBI_TRAIN_IMAGES), readImageFile(ISBI_TRAIN_LABELS)]);
      const { probability } = await segmentImage(images.pages[25]!, model.predictor, segmentOptionsFromCard(model.card));
      const made = labelCells(probability.data, 512, 512, cellParamsFrom(model.card.cells));
      const direct = scoreLabelSlice(made, labels.pages[25]!);
      const plain = cells.rows[0]!;
      expect(plain.perSlice[0]!.cells).toBe(made.count);
      expect(plain.perSlice[0]!.truthRegions).toBe(labelComponents4(labels.pages[25]!.data, 512, 512).count);
      expect(plain.vRand).toBeCloseTo(direct.vRand, 10);
      expect(plain.vInfo).toBeCloseTo(direct.vInfo, 10);
    } finally {
      await model.close();
    }
  });

  it('leaves the labels out with --no-cell-labels', async () => {
    const json = join(root, 'no-cells.json');
    const { code, stdout } = await run(['evaluate', tiny.path, '--slices', '25', '--ep', 'cpu', '--no-cell-labels', '--json', json]);
    expect(code).toBe(0);
    expect(stdout).not.toContain('cell labels');
    expect(JSON.parse(readFileSync(json, 'utf8'))).not.toHaveProperty('cellLabels');
  });
});

describe('emseg evaluate --predicted-labels', () => {
  it('scores perfect labels V_rand 1 and merged cells lower, pages one per --slices', async () => {
    const perfect = await truthComponents([27, 28, 29]);
    const file = writeLabelTiff('perfect.tif', perfect);
    const json = join(root, 'perfect.json');
    const result = await run(['evaluate', '--predicted-labels', file, '--slices', '27-29', '--json', json]);
    expect(result.stderr).not.toMatch(/emseg: /);
    expect(result.code).toBe(0);
    expect(result.stderr).toContain(`pages 0-2 of ${file} are slices 27-29, in that order`);
    expect(result.stdout).toMatch(/\nlabels file\s+1\.0000\s+1\.0000\s/);
    const doc = JSON.parse(readFileSync(json, 'utf8')) as { predictedLabels: string; sha256: string; labels: string; slices: number[]; pages: number[]; cellLabels: CellLabelsDoc };
    expect(doc).toMatchObject({ predictedLabels: file, labels: ISBI_TRAIN_LABELS, slices: [27, 28, 29], pages: [0, 1, 2] });
    expect(doc.sha256).toMatch(/^[0-9a-f]{64}$/);
    const [row] = doc.cellLabels.rows;
    expect(row!.source).toBe('file');
    expect(row!.vRand).toBe(1);
    expect(row!.perSlice.map((s) => s.cells)).toEqual(row!.perSlice.map((s) => s.truthRegions));

    // Slice 28's cells 1 and 2 as one label.
    const merged = perfect.map((page, k) => (k === 1 ? page.map((v) => (v === 2 ? 1 : v)) : page));
    const mergedJson = join(root, 'merged.json');
    expect((await run(['evaluate', '--predicted-labels', writeLabelTiff('merged.tif', merged), '--slices', '27-29', '--json', mergedJson])).code).toBe(0);
    const mergedRow = (JSON.parse(readFileSync(mergedJson, 'utf8')) as { cellLabels: CellLabelsDoc }).cellLabels.rows[0]!;
    expect(mergedRow.perSlice.map((s) => s.vRand)).toEqual([1, expect.any(Number), 1]);
    expect(mergedRow.perSlice[1]!.vRand).toBeLessThan(1);
    expect(mergedRow.perSlice[1]!.cells).toBe(row!.perSlice[1]!.cells - 1);
    expect(mergedRow.vRand).toBeLessThan(1);
  });

  it('matches a file of as many pages as the ground truth page for slice', async () => {
    const all = await truthComponents(Array.from({ length: 30 }, (_, i) => i));
    all[26] = new Uint32Array(512 * 512).fill(1); // one cell everywhere on slice 26, not scored
    const result = await run(['evaluate', '--predicted-labels', writeLabelTiff('all.tif', all), '--slices', '25,27']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/\nlabels file\s+1\.0000\s+1\.0000\s/);
  });

  it('refuses other sizes, other page counts and model options, in one line', async () => {
    const small = writeLabelTiff('small.tif', [new Uint32Array(64 * 64)], 64);
    const size = await run(['evaluate', '--predicted-labels', small, '--slices', '27']);
    expect(size.code).toBe(1);
    expect(size.stderr).toBe(`emseg: --predicted-labels ${small}: 64x64, but the ground truth ${ISBI_TRAIN_LABELS} is 512x512; expected the same size\n`);
    const two = writeLabelTiff('two.tif', await truthComponents([27, 28]));
    const pages = await run(['evaluate', '--predicted-labels', two, '--slices', '27-29']);
    expect(pages.stderr).toBe(`emseg: --predicted-labels ${two}: 2 pages; expected 30 (one per slice of ${ISBI_TRAIN_LABELS}) or 3 (one per slice of --slices 27-29)\n`);
    const model = await run(['evaluate', tiny.path, '--predicted-labels', two, '--tta', '--slices', '27-28']);
    expect(model.stderr).toBe('emseg: --predicted-labels: scores a labels file without a model; <model>, --tta need a model\n');
    const none = await run(['evaluate']);
    expect(none.stderr).toMatch(/^emseg: <model>: expected at least one \.onnx file or tfjs model folder \(or --predicted-labels FILE to score a labels file\)\n$/);
  });
});
