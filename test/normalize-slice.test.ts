import { describe, expect, it } from 'vitest';
import { makeImage } from '../core/image.ts';
import { normalizedImage, normalizeSlice, SliceStatistics } from '../core/normalize.ts';

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

  it('counts 8- and 16-bit slices in one pass with the figures of the two-pass float sums, fed whole or in pieces', () => {
    let state = 7;
    const next = () => (state = (Math.imul(state, 1664525) + 1013904223) >>> 0) / 2 ** 32;
    for (const data of [Uint8Array.from({ length: 5000 }, () => Math.floor(next() * 256)), Uint16Array.from({ length: 5000 }, () => Math.floor(next() * 65536))]) {
      const counted = new SliceStatistics();
      counted.addPixels(data);
      expect(counted.needsSecondPass).toBe(false);
      const asFloat = new SliceStatistics();
      asFloat.addPixels(Float64Array.from(data));
      expect(asFloat.needsSecondPass).toBe(true);
      asFloat.addSquaredDeviations(Float64Array.from(data));
      const a = counted.normalization();
      const b = asFloat.normalization();
      expect(a.mean).toBe(b.mean); // a sum of integers is exact either way
      expect(Math.abs(a.scale - b.scale) / b.scale).toBeLessThan(1e-12);
      const pieces = new SliceStatistics();
      for (let at = 0; at < data.length; at += 333) pieces.addPixels(data.subarray(at, at + 333));
      expect(pieces.normalization()).toEqual(a);
    }
  });
});

