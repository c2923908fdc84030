/**
 * core/cells/cell-evaluation.ts: labels given whole and labels made from probability maps, scored
 * as segments beside the mask: perfect labels score 1 with one cell per ground-truth region, a
 * merge of two cells scores lower and counts one cell less, and a variant's row carries its mask
 * at the metrics row's threshold.
 */
import { describe, expect, it } from 'vitest';
import { evaluateCellLabels, formatCellLabelsMarkdown, formatCellLabelsText, scoreCellLabelSlices } from '../core/cells/cell-evaluation.ts';
import { DEFAULT_CELL_PARAMS } from '../core/cells/cell-params.ts';
import { evaluateSlices } from '../core/evaluation.ts';
import { renderEvaluationReport } from '../core/evaluation-report.ts';
import { makeImage, type GreyImage } from '../core/image.ts';
import { labelComponents4 } from '../core/metrics/index.ts';

/** A 48x48 label: a 3x3 grid of square cells (255), 14 px across, apart by 2-px membranes (0); `bridge` joins the first two cells. */
function gridLabel(bridge = false): GreyImage<Uint8Array> {
  const size = 48;
  const data = new Uint8Array(size * size);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const inCell = (v: number) => v % 16 >= 1 && v % 16 <= 14;
      if (inCell(x) && inCell(y)) data[y * size + x] = 255;
      if (bridge && y >= 5 && y <= 9 && x >= 15 && x <= 16) data[y * size + x] = 255;
    }
  }
  return makeImage(size, size, data);
}

const truth = gridLabel();
const components = labelComponents4(truth.data, truth.width, truth.height);
const image = makeImage(truth.width, truth.height, new Uint8Array(truth.data.length).fill(128));

describe('scoreCellLabelSlices', () => {
  it('scores the ground truth regions as labels V_rand 1, one cell per region', () => {
    const scored = scoreCellLabelSlices([{ index: 4, label: truth }], [{ width: truth.width, height: truth.height, labels: components.labels }]);
    expect(components.count).toBe(9);
    expect(scored.vRand).toBe(1);
    expect(scored.vInfo).toBeCloseTo(1, 12);
    expect(scored.perSlice).toEqual([{ slice: 4, vRand: scored.vRand, vInfo: scored.vInfo, cells: 9, truthRegions: 9 }]);
    expect(scored.cellsPerSlice).toBe(9);
    expect(scored.truthRegionsPerSlice).toBe(9);
  });

  it('scores two cells merged into one label lower, and counts one cell less', () => {
    const merged = components.labels.map((v) => (v === 2 ? 1 : v));
    const scored = scoreCellLabelSlices([{ index: 0, label: truth }], [{ width: truth.width, height: truth.height, labels: merged }]);
    expect(scored.vRand).toBeLessThan(0.99);
    expect(scored.perSlice[0]!.cells).toBe(8);
    expect(scored.perSlice[0]!.truthRegions).toBe(9);
  });
});

describe('evaluateCellLabels', () => {
  const params = { ...DEFAULT_CELL_PARAMS, minSeedArea: 10 };

  it('labels clean probabilities into the ground truth cells, beside the mask at the row threshold', async () => {
    const probability = Float32Array.from(truth.data, (v) => v / 255);
    const slices = [{ index: 7, image, label: truth }];
    const result = await evaluateSlices(slices, { plain: async () => probability, tta: async () => probability }, { threshold: 0.4 });
    const cells = evaluateCellLabels(slices, result, params, { paramsFrom: 'test' });
    expect(cells.slices).toEqual([7]);
    expect(cells.params).toEqual(params);
    expect(cells.rows.map((r) => r.source)).toEqual(['plain', 'tta']);
    for (const row of cells.rows) {
      expect(row.vRand).toBe(1);
      expect(row.perSlice[0]).toMatchObject({ slice: 7, cells: 9, truthRegions: 9, maskRegions: 9 });
      expect(row.mask).toEqual({ threshold: 0.4, vRand: result.rows[0]!.vRand, vInfo: result.rows[0]!.vInfo, regionsPerSlice: 9 });
    }
    const text = formatCellLabelsText(cells);
    expect(text).toContain('probability >= 0.75, seeds >= 10 px: test');
    expect(text).toMatch(/\nground truth\s+9\.0\s+9\n/);
    expect(text).toMatch(/\nplain cell labels\s+1\.0000\s+1\.0000\s+9\.0\s+9\n/);
    expect(text).toMatch(/\nTTA x8 mask at 0\.40\s+/);
    expect(formatCellLabelsMarkdown(cells)).toContain('| plain cell labels | 1.0000 | 1.0000 | 9.0 | 9 |');
    const report = renderEvaluationReport({ title: 't', model: 'm.onnx', modelKind: 'ONNX', images: 'i.tif', labels: 'l.tif', slices: '7', result, evaluateCommand: 'emseg evaluate m.onnx', machine: 'x', date: 'd', cellLabels: cells });
    expect(report).toContain('## Cell labels\n\nThe cell labels (probability >= 0.75, seeds >= 10 px: test) on slices 7');
    expect(report).toContain('| TTA x8 mask at 0.40 |');
  });

  it('merges the cells a bright bridge joins, in the labels and in the mask', async () => {
    const probability = Float32Array.from(gridLabel(true).data, (v) => v / 255);
    const slices = [{ index: 0, image, label: truth }];
    const result = await evaluateSlices(slices, { plain: async () => probability });
    const [row] = evaluateCellLabels(slices, result, params).rows;
    expect(row!.vRand).toBeLessThan(0.99);
    expect(row!.perSlice[0]).toMatchObject({ cells: 8, truthRegions: 9, maskRegions: 8 });
    expect(row!.mask!.vRand).toBeCloseTo(row!.vRand, 12);
  });

  it('names a result without the probability maps of a row', async () => {
    const slices = [{ index: 0, image, label: truth }];
    const result = await evaluateSlices(slices, { plain: async () => new Float32Array(truth.data.length) });
    expect(() => evaluateCellLabels(slices, { ...result, probabilities: {} }, params)).toThrow('result.probabilities.plain: expected one probability map per slice (1), found none');
  });
});
