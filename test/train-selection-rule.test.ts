// train/selection-rule.ts: which validated checkpoint a run keeps. The default model's run of
// 2026-12-02 (its validation lines, test/fixtures/default-model-2026-12-02.validation.jsonl) kept
// step 1,000 under the old rule (best best-over-thresholds V_rand, 0.0003 ahead of step 2,500);
// the rule keeps the last step.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DEFAULT_SELECTION_MARGIN, keptStep, replacesKept } from '../train/selection-rule.ts';
import { TRAIN_DEFAULTS } from '../train/config.ts';

const lines = readFileSync(new URL('./fixtures/default-model-2026-12-02.validation.jsonl', import.meta.url), 'utf8')
  .trim()
  .split('\n')
  .map((line) => JSON.parse(line) as { step: number; vRand: number; vInfo: number; vRandBest: number; threshold: number });

describe('the selection rule', () => {
  it('on the 2026-12-02 run keeps step 2,500, where the old rule kept step 1,000', () => {
    expect(lines.map((l) => l.step)).toEqual([250, 500, 750, 1000, 1250, 1500, 1750, 2000, 2250, 2500]);
    expect(lines.every((l) => l.threshold === 0.5)).toBe(true);
    // The old rule: the highest best-over-thresholds V_rand.
    const oldRule = lines.reduce((a, b) => (b.vRandBest > a.vRandBest ? b : a));
    expect(oldRule.step).toBe(1000);
    expect(keptStep(lines)).toBe(2500);
    expect(keptStep(lines, TRAIN_DEFAULTS.selectionMargin)).toBe(2500);
  });

  it('keeps an earlier checkpoint only when it is clearly better on both scores', () => {
    const earlier = { step: 1, vRand: 0.97, vInfo: 0.98 };
    expect(replacesKept(undefined, earlier)).toBe(true);
    // Inside the margin on V_rand: the later one is kept.
    expect(replacesKept(earlier, { step: 2, vRand: 0.97 - DEFAULT_SELECTION_MARGIN / 2, vInfo: 0.9 })).toBe(true);
    // Beyond the margin on V_rand but not on V_info: the later one is kept.
    expect(replacesKept(earlier, { step: 2, vRand: 0.9, vInfo: 0.98 })).toBe(true);
    // Beyond the margin on both: the earlier stays.
    expect(replacesKept(earlier, { step: 2, vRand: 0.9, vInfo: 0.9 })).toBe(false);
    expect(keptStep([earlier, { step: 2, vRand: 0.9, vInfo: 0.9 }, { step: 3, vRand: 0.969, vInfo: 0.979 }])).toBe(3);
    expect(keptStep([])).toBeUndefined();
    expect(() => replacesKept(earlier, earlier, -1)).toThrow(/margin: expected a finite number >= 0, found -1/);
  });

  it('with a zero margin keeps a later checkpoint that is better on one score', () => {
    expect(keptStep([{ step: 1, vRand: 0.9, vInfo: 0.9 }, { step: 2, vRand: 0.91, vInfo: 0.8 }], 0)).toBe(2);
    expect(keptStep([{ step: 1, vRand: 0.9, vInfo: 0.9 }, { step: 2, vRand: 0.9, vInfo: 0.8 }], 0)).toBe(1);
    expect(keptStep([{ step: 1, vRand: 0.9, vInfo: 0.9 }, { step: 2, vRand: 0.89, vInfo: 0.89 }], 0)).toBe(1);
  });
});
