/**
 * core/metrics/label-score.ts: instance labels scored like a thresholded mask (same V_rand and
 * V_info when the labels are the mask's components), perfect labels score 1, merges and splits
 * less; thinLabelBorders equals thinBorders on component labels and keeps touching labels apart.
 */
import { describe, expect, it } from 'vitest';
import { labelComponents4, scoreLabelSlice, scoreLabelSlices, scoreSlice, thinBorders, thinLabelBorders } from '../core/metrics/index.ts';
import { createRng } from '../core/random.ts';
import { labelFromArt } from './metrics-helpers.ts';

const truth = labelFromArt([
  '##.###.##',
  '##.###.##',
  '.........',
  '####.####',
  '####.####',
]);
const width = truth.width;
const height = truth.height;

describe('scoreLabelSlice', () => {
  it('gives the ground truth components V_rand = V_info = 1', () => {
    const perfect = labelComponents4(truth.data, width, height).labels;
    const scores = scoreLabelSlice({ width, height, labels: perfect }, truth);
    expect(scores.vRand).toBe(1);
    expect(scores.vInfo).toBeCloseTo(1, 12);
    expect(scores.pixelError).toBe(0);
  });

  it('scores merges and splits below 1', () => {
    const perfect = labelComponents4(truth.data, width, height).labels;
    const merged = perfect.map((v) => (v === 2 ? 1 : v)); // two cells of the first row as one label
    const split = Int32Array.from(perfect, (v, i) => (v === 4 && i % width < 2 ? 9 : v)); // one cell in two labels (touching)
    const perfectScore = scoreLabelSlice({ width, height, labels: perfect }, truth).vRand;
    expect(scoreLabelSlice({ width, height, labels: merged }, truth).vRand).toBeLessThan(perfectScore);
    expect(scoreLabelSlice({ width, height, labels: split }, truth).vRand).toBeLessThan(perfectScore);
  });

  it('equals the mask scoring of core/metrics when the labels are the components of the thresholded mask', () => {
    const rng = createRng(11);
    const probability = Float32Array.from(truth.data, (v) => Math.min(1, Math.max(0, v / 255 + rng.normal(0, 0.35))));
    for (const threshold of [0.3, 0.5, 0.7]) {
      const mask = Uint8Array.from(probability, (p) => (p >= threshold ? 1 : 0));
      const labels = labelComponents4(mask, width, height).labels;
      const fromLabels = scoreLabelSlice({ width, height, labels }, truth);
      const fromMask = scoreSlice(probability, truth, threshold);
      expect(fromLabels.vRand).toBeCloseTo(fromMask.vRand, 12);
      expect(fromLabels.vInfo).toBeCloseTo(fromMask.vInfo, 12);
      expect(fromLabels.dice).toBeCloseTo(fromMask.dice, 12);
    }
  });

  it('averages over slices and names mismatched sizes', () => {
    const perfect = labelComponents4(truth.data, width, height).labels;
    const none = new Int32Array(width * height);
    const summary = scoreLabelSlices([{ width, height, labels: perfect }, { width, height, labels: none }], [truth, truth]);
    expect(summary.perSlice).toHaveLength(2);
    expect(summary.vRand).toBeCloseTo((1 + summary.perSlice[1]!.vRand) / 2, 12);
    expect(() => scoreLabelSlice({ width: 3, height: 3, labels: new Int32Array(9) }, truth)).toThrow('labels: expected 9x5 = 45 pixels like the label image, found 3x3 with 9 values');
  });
});

describe('thinLabelBorders', () => {
  it('equals thinBorders on the components of random masks', () => {
    const rng = createRng(5);
    for (let round = 0; round < 20; round++) {
      const w = rng.int(3, 30);
      const h = rng.int(3, 30);
      const cell = Uint8Array.from({ length: w * h }, () => (rng.float() < 0.6 ? 1 : 0));
      const expected = thinBorders(cell, w, h);
      const found = thinLabelBorders(labelComponents4(cell, w, h).labels, w, h);
      expect(found.count).toBe(expected.count);
      expect([...found.labels]).toEqual([...expected.labels]);
    }
  });

  it('keeps touching labels apart and fills the border between them', () => {
    const found = thinLabelBorders(Int32Array.of(1, 1, 2, 2, 0, 0, 0, 0), 4, 2);
    expect([...found.labels.slice(0, 4)]).toEqual([1, 1, 2, 2]);
    expect(found.labels.slice(4).every((v) => v === 0 || v === 1 || v === 2)).toBe(true);
    expect(found.count).toBe(2);
  });
});
