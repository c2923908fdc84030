import { describe, expect, it } from 'vitest';
import { borderWeightMap } from '../train/weight-map.ts';
import { labelFromArt } from './metrics-helpers.ts';

describe('border weight map (U-Net paper)', () => {
  // two cells touching through a one-pixel membrane (column 3), and a far membrane region on the right
  const rows = Array.from({ length: 7 }, () => '###.###' + '.'.repeat(30));
  const label = labelFromArt(rows);
  const width = 37;

  it('puts high weight on the thin membrane between two cells and ~w_c far from cells', () => {
    const w = borderWeightMap(label, { w0: 10, sigma: 5 });
    // class balance: 42 cell pixels and 217 membrane pixels of 259 -> w_c = 259 / (2 * count)
    const wcMembrane = 259 / (2 * 217);
    const wcCell = 259 / (2 * 42);
    // membrane pixel (3, 3): nearest cell at distance 1 (left), second at 1 (right): + 10 exp(-4 / 50)
    expect(w[3 * width + 3]).toBeCloseTo(wcMembrane + 10 * Math.exp(-(2 * 2) / 50), 5);
    // far membrane pixel (36, 3): d1 = 30, d2 = 34 > 4 sigma: only w_c
    expect(w[3 * width + 36]).toBeCloseTo(wcMembrane, 6);
    // membrane pixel (7, 3) just right of the right cell: d1 = 1, d2 = 5 (the left cell's column 2)
    expect(w[3 * width + 7]).toBeCloseTo(wcMembrane + 10 * Math.exp(-(6 * 6) / 50), 5);
    // cell pixels get no border term by default
    expect(w[3 * width + 1]).toBeCloseTo(wcCell, 6);
  });

  it("follows the paper's formula on all pixels with applyTo 'all', and w_c = 1 without class balance", () => {
    const w = borderWeightMap(label, { classBalance: false, applyTo: 'all' });
    // cell pixel (2, 3): d1 = 0 (own cell), d2 = 2 (the right cell at column 4)
    expect(w[3 * width + 2]).toBeCloseTo(1 + 10 * Math.exp(-(2 * 2) / 50), 5);
    expect(w[3 * width + 36]).toBeCloseTo(1, 6);
  });

  it('rejects bad options naming them', () => {
    expect(() => borderWeightMap(label, { sigma: 0 })).toThrow(/sigma/);
    expect(() => borderWeightMap(label, { w0: -1 })).toThrow(/w0/);
  });
});
