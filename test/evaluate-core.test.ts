/** core/evaluation.ts: runs predictors on labelled slices and tabulates the ISBI metrics. */
import { describe, expect, it } from 'vitest';
import { formatMetricsMarkdown, formatMetricsText, evaluateSlices, type LabelledSlice } from '../core/evaluation.ts';
import { renderEvaluationReport } from '../core/evaluation-report.ts';
import { makeImage, type GreyImage } from '../core/image.ts';
import { ancestryFromCard } from '../core/training-ancestry.ts';

/** A 32x32 label: four cells separated by a 2-pixel membrane cross and a membrane frame. */
function label(): GreyImage<Uint8Array> {
  const data = new Uint8Array(32 * 32);
  for (let y = 0; y < 32; y++) {
    for (let x = 0; x < 32; x++) {
      const membrane = x < 1 || y < 1 || x > 30 || y > 30 || x === 15 || x === 16 || y === 15 || y === 16;
      data[y * 32 + x] = membrane ? 0 : 255;
    }
  }
  return makeImage(32, 32, data);
}

const slices: LabelledSlice[] = [25, 26].map((index) => {
  const l = label();
  return { index, image: makeImage(32, 32, l.data.map((v) => (v ? 200 : 40))), label: l };
});

const perfect = async (image: GreyImage) => Float32Array.from(image.data, (v) => (v > 100 ? 0.9 : 0.1));
/** Leaks through the vertical membrane: the left and right cells merge at high thresholds only. */
const leaky = async (image: GreyImage) =>
  Float32Array.from(image.data, (v, i) => (v > 100 ? 0.9 : i % 32 === 15 || i % 32 === 16 ? 0.6 : 0.1));

describe('evaluateSlices', () => {
  it('scores a perfect predictor 1 everywhere', async () => {
    const result = await evaluateSlices(slices, { plain: perfect }, { threshold: 0.5 });
    expect(result.slices).toEqual([25, 26]);
    expect(result.rows).toHaveLength(1);
    const row = result.rows[0]!;
    expect(row.variant).toBe('plain');
    expect([row.vRand, row.vInfo, row.dice, row.iou, row.vRandBest]).toEqual([1, 1, 1, 1, 1]);
    expect(row.pixelError).toBe(0);
    expect(row.perThreshold).toHaveLength(11);
    expect(result.probabilities.plain).toHaveLength(2);
  });

  it('adds a TTA row, finds the best threshold, and measures the merge at the card threshold', async () => {
    const result = await evaluateSlices(slices, { plain: leaky, tta: perfect }, { threshold: 0.5 });
    expect(result.rows.map((r) => r.variant)).toEqual(['plain', 'tta']);
    const plain = result.rows[0]!;
    // at 0.5 the leaky membrane counts as interior: cells merge, V_rand drops below 1
    expect(plain.vRand).toBeLessThan(1);
    expect(plain.pixelError).toBeCloseTo((2 * 32) / (32 * 32), 10);
    // above 0.6 the membrane is back: the best threshold lies there with V_rand 1
    expect(plain.bestThreshold).toBeGreaterThan(0.6);
    expect(plain.vRandBest).toBe(1);
    expect(result.rows[1]!.vRand).toBe(1);
    for (const r of result.rows) {
      for (const v of [r.vRand, r.vInfo, r.pixelError, r.dice, r.iou, r.vRandBest, r.vInfoBest]) {
        expect(v).toBeGreaterThanOrEqual(0);
        expect(v).toBeLessThanOrEqual(1);
      }
    }
    const text = formatMetricsText(result);
    expect(text.split('\n')[0]).toMatch(/^variant\s+V_rand best \(thr\)/);
    expect(text).toContain('TTA x8');
    const markdown = formatMetricsMarkdown(result);
    expect(markdown.split('\n')[1]).toMatch(/^\| --- \| ---: /);
    const report = renderEvaluationReport({
      title: 'Evaluation of m.onnx', model: 'models/m.onnx', modelKind: 'ONNX', images: 'a.tif', labels: 'b.tif', slices: '25-26',
      result, evaluateCommand: 'emseg evaluate models/m.onnx --tta', machine: 'test', date: '2026-01-01',
      validationMontage: 'm.validation.png', curve: 'm.curve.svg',
      training: { command: 'emseg train --steps 10', steps: 10, totalSteps: 10, cropsSeen: 40, wallTimeSeconds: 600 },
    });
    expect(report).toContain('![validation montage](m.validation.png)');
    expect(report).toContain('![training curve](m.curve.svg)');
    expect(report).toContain('| wall time | 10.0 min |');
    expect(report.indexOf('emseg train --steps 10')).toBeLessThan(report.indexOf('emseg evaluate models/m.onnx --tta'));

    // A run that continued earlier ones (--init) names them, earliest first, as the card nests them.
    const card = {
      data: 'isbi',
      split: { train: [0], validation: [1] },
      cropsSeen: 40,
      cropsSeenWithAncestors: 100,
      parent: {
        name: 'b', sha256: 'b'.repeat(64), path: 'runs/b/draft.onnx',
        training: { command: 'emseg train --init runs/a/draft.onnx --steps 5', steps: 5, cropsSeen: 20, parent: { name: 'a', sha256: 'a'.repeat(64), path: 'runs/a/draft.onnx', training: { command: 'emseg train --steps 10', steps: 10, cropsSeen: 40 } } },
      },
    };
    const ancestry = ancestryFromCard(card);
    expect(ancestry.ancestors!.map((a) => a.path)).toEqual(['runs/a/draft.onnx', 'runs/b/draft.onnx']);
    const chained = renderEvaluationReport({
      title: 'Evaluation of m.onnx', model: 'models/m.onnx', modelKind: 'ONNX', images: 'a.tif', labels: 'b.tif', slices: '25-26',
      result, evaluateCommand: 'emseg evaluate models/m.onnx', machine: 'test', date: '2026-01-01',
      training: { command: 'emseg train --init runs/b/draft.onnx --steps 10', steps: 10, cropsSeen: 40, ...ancestry },
    });
    expect(chained).toContain('| crops seen | 40 (100 with the earlier runs) |');
    expect(chained).toContain('| earlier run 1 of 2 | runs/a/draft.onnx (sha256 aaaaaaaaaaaa...), 10 steps, 40 crops |');
    expect(chained).toContain('| earlier run 2 of 2 | runs/b/draft.onnx (sha256 bbbbbbbbbbbb...), 5 steps, 20 crops; this run started from it (--init) |');
    const order = ['# train, earlier run 1 of 2 (the next run starts from its export, runs/a/draft.onnx)\nemseg train --steps 10', '# train, earlier run 2 of 2', '# train\nemseg train --init runs/b/draft.onnx'];
    const at = order.map((text) => chained.indexOf(text));
    expect(at.every((i) => i >= 0)).toBe(true);
    expect([...at].sort((x, y) => x - y)).toEqual(at);
    expect(ancestryFromCard({ data: 'isbi', split: { train: [0], validation: [1] } })).toEqual({});
  });

  it('rejects a predictor of the wrong size and a bad threshold', async () => {
    await expect(evaluateSlices(slices, { plain: async () => new Float32Array(5) })).rejects.toThrow(/expected 1024 probabilities for slice 25, found 5/);
    await expect(evaluateSlices(slices, { plain: perfect }, { threshold: 2 })).rejects.toThrow(/threshold: expected a number in \[0, 1\], found 2/);
    await expect(evaluateSlices([], { plain: perfect })).rejects.toThrow(/at least one/);
  });
});
