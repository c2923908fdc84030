// core/serving-choice.ts: the served threshold is 0.5 unless another wins by a margin on the
// selection slices and in the shift suite; TTA is served only if it wins by twice that.
import { describe, expect, it } from 'vitest';
import { chooseServing, thresholdFromValidation } from '../core/serving-choice.ts';
import type { MetricsRow } from '../core/evaluation.ts';
import type { ShiftSuiteResult } from '../core/shift-suite.ts';

const THRESHOLDS = [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1];

/** A row whose V_rand per threshold is `base`, plus `bumps` at some thresholds. */
function row(variant: 'plain' | 'tta', base: number, bumps: Record<string, number> = {}): MetricsRow {
  const perThreshold = THRESHOLDS.map((threshold) => ({ threshold, vRand: base + (bumps[String(threshold)] ?? 0), vInfo: base }));
  const best = perThreshold.reduce((a, b) => (b.vRand > a.vRand ? b : a));
  return { variant, bestThreshold: best.threshold, vRandBest: best.vRand, vInfoBest: base, vInfoBestThreshold: 0.5, threshold: 0.5, vRand: base, vInfo: base, pixelError: 0.1, dice: 0.9, iou: 0.8, perThreshold, seconds: 1 };
}

function suite(plain: MetricsRow, tta?: MetricsRow): ShiftSuiteResult {
  const mean = (r: MetricsRow) => ({ vRand: r.vRand, vInfo: r.vInfo, perThreshold: r.perThreshold });
  return { slices: [1], shifts: [], meanOverShifts: { plain: mean(plain), ...(tta ? { tta: mean(tta) } : {}) } };
}

describe('chooseServing', () => {
  it('reproduces the 2026-12-02 case: 0.8 won by 0.0003-0.03 on 4 slices; with a small gain 0.5 stays', () => {
    // The shipped model's selection sweep: 0.9744 at 0.8 against 0.9435 at 0.5 would move the
    // threshold on the selection slices alone...
    const selection = row('plain', 0.9435, { '0.8': 0.0309 });
    expect(chooseServing([selection]).thresholds.plain).toBe(0.8);
    // ...but not when the shift suite on those slices does not confirm it.
    const shifts = suite(row('plain', 0.96, { '0.8': 0.002 }));
    const choice = chooseServing([selection], shifts);
    expect(choice.thresholds.plain).toBe(0.5);
    expect(choice.reasons[0]).toMatch(/plain: threshold 0.5: 0.8 gains 0.0309 on the selection slices but 0.0020 in the shift suite's mean V_rand, less than the margin 0.005/);
    // A gain inside the margin never moves it.
    expect(chooseServing([row('plain', 0.97, { '0.7': 0.004 })]).thresholds.plain).toBe(0.5);
    // Confirmed on both: it moves.
    expect(chooseServing([selection], suite(row('plain', 0.96, { '0.8': 0.01 }))).thresholds.plain).toBe(0.8);
  });

  it('serves TTA only when it wins by the TTA margin on both', () => {
    const plain = row('plain', 0.97);
    expect(chooseServing([plain, row('tta', 0.975)]).variant).toBe('plain');
    expect(chooseServing([plain, row('tta', 0.985)]).variant).toBe('tta');
    const choice = chooseServing([plain, row('tta', 0.985)], suite(row('plain', 0.95), row('tta', 0.955)));
    expect(choice.variant).toBe('plain');
    expect(choice.reasons.at(-1)).toMatch(/^served: plain: TTA gains 0.0150 V_rand at 0.5 on the selection slices and 0.0050 in the shift suite's mean \(margin 0.01\)/);
    expect(chooseServing([plain, row('tta', 0.985)], suite(row('plain', 0.95), row('tta', 0.965))).variant).toBe('tta');
  });

  it('refuses evidence without a plain row or a sweep without 0.5, naming them', () => {
    expect(() => chooseServing([row('tta', 0.9)])).toThrow(/selection: expected a row of the plain variant/);
    const odd = { ...row('plain', 0.9), perThreshold: [{ threshold: 0.45, vRand: 0.9, vInfo: 0.9 }] };
    expect(() => chooseServing([odd])).toThrow(/expected the threshold 0.5 in it, found 0.45/);
    expect(() => chooseServing([row('plain', 0.9)], undefined, { margin: -1 })).toThrow(/margin: expected a finite number >= 0, found -1/);
  });
});

describe('thresholdFromValidation', () => {
  it("keeps 0.5 unless the validation's best threshold beats it by the margin", () => {
    expect(thresholdFromValidation({ step: 40, threshold: 0.5, vRand: 0.92, bestThreshold: 0.7, vRandBest: 0.93 })).toEqual({
      threshold: 0.7,
      reason: "the training run's validation at step 40 (its validation slices are the selection slices): plain: threshold 0.7: gains 0.0100 over 0.5 in V_rand on the selection slices (margin 0.005; no shift suite given)",
    });
    expect(thresholdFromValidation({ step: 40, threshold: 0.5, vRand: 0.92, bestThreshold: 0.7, vRandBest: 0.923 })?.threshold).toBe(0.5);
    expect(thresholdFromValidation({ step: 40, threshold: 0.5, vRand: 0.92, bestThreshold: 0.5, vRandBest: 0.92 })?.threshold).toBe(0.5);
  });

  it('says nothing for lines without the figures or scored at another threshold', () => {
    expect(thresholdFromValidation({ step: 10, vRandBest: 0.6, bestThreshold: 0.4 })).toBeUndefined();
    expect(thresholdFromValidation({ step: 10, threshold: 0.4, vRand: 0.5, bestThreshold: 0.6, vRandBest: 0.7 })).toBeUndefined();
  });
});
