/** train/schedule.ts: warm-up then cosine over the whole budget. */
import { describe, expect, it } from 'vitest';
import { learningRateAt } from '../train/schedule.ts';

describe('learningRateAt', () => {
  const options = { peak: 1e-3, totalSteps: 101, warmupSteps: 10, minFraction: 0.01 };
  it('warms up linearly, peaks after warm-up, decays to the floor at the last step', () => {
    const rates = Array.from({ length: 101 }, (_, s) => learningRateAt(s, options));
    for (let s = 1; s < 10; s++) expect(rates[s]! - rates[s - 1]!).toBeCloseTo(1e-3 / 11, 12);
    expect(rates[10]).toBeCloseTo(1e-3, 12);
    for (let s = 11; s < 101; s++) expect(rates[s]!).toBeLessThan(rates[s - 1]!);
    expect(rates[100]).toBeCloseTo(1e-5, 12);
    // half-way through the decay the cosine is at the mean of peak and floor
    expect(rates[55]).toBeCloseTo((1e-3 + 1e-5) / 2, 12);
  });
  it('is constant after warm-up for the constant schedule, and rejects a bad step', () => {
    expect(learningRateAt(50, { ...options, kind: 'constant' })).toBe(1e-3);
    expect(() => learningRateAt(-1, options)).toThrow(/step: expected an integer >= 0, found -1/);
  });
});
