import { describe, expect, it } from 'vitest';
import { makeImage } from '../core/image.ts';
import { normalizedImage, normalizeSlice } from '../core/normalize.ts';

describe('normalizeSlice (the contract preprocessing)', () => {
  it('gives zero mean and unit variance over the slice, worked by hand', () => {
    // [0, 2, 4, 6]: mean 3, variance (9 + 1 + 1 + 9) / 4 = 5 (population), std sqrt(5)
    const out = normalizeSlice(makeImage(2, 2, new Uint8Array([0, 2, 4, 6])));
    expect(out).toBeInstanceOf(Float32Array);
    const s = Math.sqrt(5);
    [-3 / s, -1 / s, 1 / s, 3 / s].forEach((v, i) => expect(out[i]).toBeCloseTo(v, 6));
  });

  it('maps a constant slice to zeros, not NaN', () => {
    const out = normalizeSlice(makeImage(3, 2, new Uint8Array(6).fill(77)));
    expect([...out]).toEqual([0, 0, 0, 0, 0, 0]);
    const f = normalizeSlice(makeImage(2, 1, new Float32Array([0.1, 0.1])));
    expect([...f]).toEqual([0, 0]);
  });

  it('is invariant to the scale and offset of the intensities (8-bit, 16-bit, float)', () => {
    const values = [12, 200, 37, 99, 150, 3];
    const a = normalizeSlice(makeImage(3, 2, Uint8Array.from(values)));
    const b = normalizeSlice(makeImage(3, 2, Uint16Array.from(values, (v) => v * 257 + 5)));
    const c = normalizeSlice(makeImage(3, 2, Float32Array.from(values, (v) => v / 255)));
    for (let i = 0; i < 6; i++) {
      expect(b[i]).toBeCloseTo(a[i]!, 5);
      expect(c[i]).toBeCloseTo(a[i]!, 5);
    }
    let mean = 0;
    for (const v of a) mean += v / 6;
    let variance = 0;
    for (const v of a) variance += (v - mean) ** 2 / 6;
    expect(mean).toBeCloseTo(0, 6);
    expect(variance).toBeCloseTo(1, 5);
    expect(normalizedImage(makeImage(3, 2, Uint8Array.from(values))).data).toEqual(a);
  });
});
