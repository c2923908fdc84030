import { describe, expect, it } from 'vitest';
import { createRng, Rng } from '../core/random.ts';

describe('seeded generator (core/random.ts)', () => {
  it('is deterministic per seed and differs between seeds', () => {
    const a = createRng(42);
    const b = createRng(42);
    const c = createRng(43);
    const sa = Array.from({ length: 10 }, () => a.nextUint32());
    expect(Array.from({ length: 10 }, () => b.nextUint32())).toEqual(sa);
    expect(Array.from({ length: 10 }, () => c.nextUint32())).not.toEqual(sa);
  });

  it('restores its state from JSON mid-way and continues identically', () => {
    const rng = createRng(7);
    for (let i = 0; i < 123; i++) rng.normal();
    const saved = JSON.parse(JSON.stringify(rng.getState()));
    const expected = [rng.float(), rng.int(0, 10), rng.normal(), rng.uniform(-1, 1)];
    const restored = Rng.fromState(saved);
    expect([restored.float(), restored.int(0, 10), restored.normal(), restored.uniform(-1, 1)]).toEqual(expected);
    const other = createRng(1);
    other.setState(saved);
    expect(other.getState()).toEqual(saved);
  });

  it('rejects a malformed state and a non-integer seed', () => {
    expect(() => Rng.fromState({ algorithm: 'sfc32', words: [1, 2, 3] })).toThrow(TypeError);
    expect(() => Rng.fromState({ algorithm: 'mt', words: [1, 2, 3, 4] })).toThrow(/rng state/);
    expect(() => createRng(1.5)).toThrow(/seed/);
  });

  it('draws integers in range without gaps, uniform floats and standard normals', () => {
    const rng = createRng(2024);
    const counts = new Array(6).fill(0);
    for (let i = 0; i < 60000; i++) counts[rng.int(3, 9) - 3]++;
    for (const c of counts) expect(Math.abs(c - 10000)).toBeLessThan(400); // ~4 standard deviations
    let sum = 0;
    let sum2 = 0;
    let min = 1;
    let max = 0;
    for (let i = 0; i < 20000; i++) {
      const f = rng.float();
      min = Math.min(min, f);
      max = Math.max(max, f);
      const z = rng.normal(2, 3);
      sum += z;
      sum2 += z * z;
    }
    expect(min).toBeGreaterThanOrEqual(0);
    expect(max).toBeLessThan(1);
    const mean = sum / 20000;
    expect(mean).toBeCloseTo(2, 1);
    expect(Math.sqrt(sum2 / 20000 - mean * mean)).toBeCloseTo(3, 1);
  });

  it('shuffles into a permutation', () => {
    const rng = createRng(5);
    const list = Array.from({ length: 50 }, (_, i) => i);
    const shuffled = rng.shuffle([...list]);
    expect(shuffled).not.toEqual(list);
    expect([...shuffled].sort((x, y) => x - y)).toEqual(list);
  });
});
