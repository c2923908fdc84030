/**
 * core/evaluation-compare.ts: several models side by side, a row per figure and a column per model
 * (per model and variant with TTA), the same cells as each model's own table; the shift suites the
 * same way; column names from the file names unless they collide.
 */
import { describe, expect, it } from 'vitest';
import { formatComparisonText, formatShiftComparisonText, modelLabels } from '../core/evaluation-compare.ts';
import { formatMetricsText, type MetricsRow } from '../core/evaluation.ts';
import type { ShiftSuiteResult } from '../core/shift-suite.ts';

function row(variant: 'plain' | 'tta', v: number): MetricsRow {
  return { variant, bestThreshold: 0.6, vRandBest: v + 0.01, vInfoBest: v + 0.02, vInfoBestThreshold: 0.4, threshold: 0.5, vRand: v, vInfo: v + 0.005, pixelError: 1 - v, dice: v - 0.1, iou: v - 0.2, perThreshold: [], seconds: 1 };
}

describe('models side by side', () => {
  it('prints a row per figure and a column per model, with the cells of each model\'s own table', () => {
    const text = formatComparisonText([
      { label: 'parent', figures: [row('plain', 0.85)] },
      { label: 'child', figures: [row('plain', 0.92)] },
    ]);
    const lines = text.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^figure +parent +child$/);
    expect(lines.map((l) => l.split(/ {2,}/)[0])).toEqual(['figure', 'V_rand best (thr)', 'V_info best (thr)', 'thr', 'V_rand', 'V_info', 'pixel error', 'Dice (cell interior)', 'IoU (cell interior)']);
    expect(lines[4]).toMatch(/^V_rand +0\.8500 +0\.9200$/);
    expect(lines[1]).toMatch(/^V_rand best \(thr\) +0\.8600 \(0\.6\) +0\.9300 \(0\.6\)$/);
    // Each column holds the cells of that model's own table.
    const own = formatMetricsText({ slices: [1], rows: [row('plain', 0.92)], probabilities: {} }).split('\n')[1]!.split(/ {2,}/).slice(1);
    expect(lines.slice(1).map((l) => l.split(/ {2,}/).at(-1))).toEqual(own);
  });

  it('gives each variant its column when TTA was run', () => {
    const text = formatComparisonText([
      { label: 'a', figures: [row('plain', 0.8), row('tta', 0.81)] },
      { label: 'b', figures: [row('plain', 0.9), row('tta', 0.91)] },
    ]);
    expect(text.split('\n')[0]).toMatch(/^figure +a plain +a TTA x8 +b plain +b TTA x8$/);
    expect(text).toMatch(/\nV_rand +0\.8000 +0\.8100 +0\.9000 +0\.9100\n/);
  });

  it('puts the shift suites side by side, with the means', () => {
    const suite = (v: number): ShiftSuiteResult => ({
      slices: [1],
      shifts: [
        { shift: 'none', description: '', rows: [row('plain', v)] },
        { shift: 'blur', description: '', rows: [row('plain', v - 0.05)] },
      ],
      meanOverShifts: { plain: { vRand: v - 0.05, vInfo: v - 0.04, perThreshold: [] } },
    });
    const text = formatShiftComparisonText([
      { label: 'parent', figures: suite(0.8) },
      { label: 'child', figures: suite(0.9) },
    ]);
    expect(text).toBe(
      ['shift        parent   child', 'none V_rand  0.8000  0.9000', 'blur V_rand  0.7500  0.8500', 'mean V_rand  0.7500  0.8500', 'mean V_info  0.7600  0.8600', ''].join('\n'),
    );
  });

  it('names columns by file name unless two collide', () => {
    expect(modelLabels(['runs/a/parent.onnx', 'runs/a/child.onnx'])).toEqual(['parent', 'child']);
    expect(modelLabels(['a/model.onnx', 'b/model.onnx'])).toEqual(['a/model.onnx', 'b/model.onnx']);
    expect(modelLabels(['runs/x/model', 'm.onnx'])).toEqual(['runs/x/model', 'm']);
  });
});
