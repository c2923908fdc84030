/**
 * V_rand and V_info on hand-worked cases. Notation (see core/metrics/rand-info.ts): n = pixels in
 * ground-truth foreground; a_i = ground-truth segment sizes, b_j = proposal segment sizes inside the
 * foreground, n_ij = overlaps, c0 = foreground pixels on a thinned proposal border (singletons).
 *   V_rand = 2 (sum n_ij^2 + c0) / (sum a_i^2 + sum b_j^2 + c0)
 *   V_info = 2 I / (H(A) + H(B)), 0 when either side is a single segment.
 */
import { describe, expect, it } from 'vitest';
import { labelComponents4, scoreSlice, thinBorders, foregroundRestrictedScores } from '../core/metrics/index.ts';
import { labelFromArt, probabilityFromArt } from './metrics-helpers.ts';

const { log } = Math;

// three cells A | B | C of 2x3 = 6 pixels each, separated by one-pixel membranes: n = 18
const THREE_CELLS = ['##.##.##', '##.##.##', '##.##.##'];

describe('ISBI scores on hand-worked cases', () => {
  it('perfect prediction: V_rand = V_info = 1', () => {
    const s = scoreSlice(probabilityFromArt(THREE_CELLS), labelFromArt(THREE_CELLS), 0.5);
    // every n_ij is a diagonal 6, c0 = 0: V_rand = 2*108 / (108 + 108) = 1; I = H(A) = H(B) = log 3
    expect(s.vRand).toBeCloseTo(1, 12);
    expect(s.vInfo).toBeCloseTo(1, 12);
    expect(s.pixelError).toBe(0);
    expect(s.dice).toBe(1);
  });

  it('perfect prediction with thick membranes stays perfect (the extra border is ground-truth background)', () => {
    const label = ['##..##', '##..##', '##..##', '##..##'];
    const s = scoreSlice(probabilityFromArt(label), labelFromArt(label), 0.5);
    expect(s.vRand).toBeCloseTo(1, 12);
    expect(s.vInfo).toBeCloseTo(1, 12);
  });

  it('one merge: A and B predicted as one cell', () => {
    const prediction = ['#####.##', '#####.##', '#####.##'];
    const s = scoreSlice(probabilityFromArt(prediction), labelFromArt(THREE_CELLS), 0.5);
    // proposal: AB holds 12 foreground pixels, C holds 6; n_AB,A = n_AB,B = n_C,C = 6
    // sum a^2 = 3*36 = 108, sum b^2 = 144 + 36 = 180, sum n_ij^2 = 108 -> V_rand = 216 / 288
    expect(s.vRand).toBeCloseTo(216 / 288, 12);
    // H(A) = log 3; H(B) = -(2/3 log 2/3 + 1/3 log 1/3) = log 3 - 2/3 log 2; H(A,B) = log 3 -> I = H(B)
    const hA = log(3);
    const hB = log(3) - (2 / 3) * log(2);
    expect(s.vInfo).toBeCloseTo((2 * hB) / (hA + hB), 12);
    // pixel error: the 3 membrane pixels of column 2 predicted as cell, of 24 pixels
    expect(s.pixelError).toBeCloseTo(3 / 24, 12);
  });

  it('one split: a one-pixel line through cell A stays as a border line of singletons', () => {
    const label = ['##.##', '##.##', '##.##'];
    // A is cut into a top and a bottom half by row 1
    const prediction = ['##.##', '...##', '##.##'];
    const s = scoreSlice(probabilityFromArt(prediction), labelFromArt(label), 0.5);
    // n = 12 (A = 6, B = 6). The line pixels (0,1), (1,1) lie between two basins: watershed line,
    // c0 = 2 singletons. Proposal parts inside the foreground: top 2, bottom 2, B 6, 1, 1.
    // sum a^2 = 72; sum b^2 = 4 + 4 + 36 + 2 = 46; sum n_ij^2 + c0 = 4 + 4 + 36 + 2 = 46
    expect(s.vRand).toBeCloseTo((2 * 46) / (72 + 46), 12);
    // every proposal part lies in one ground-truth segment: H(A,B) = H(B), I = H(A) = log 2
    // H(B) = 2 * (1/6) log 6 + (1/2) log 2 + 2 * (1/12) log 12
    const hA = log(2);
    const hB = (1 / 3) * log(6) + (1 / 2) * log(2) + (1 / 6) * log(12);
    expect(s.vInfo).toBeCloseTo((2 * hA) / (hA + hB), 12);
  });

  it('all-foreground prediction: one segment, V_rand = 1/2 here and V_info = 0', () => {
    const prediction = THREE_CELLS.map((row) => row.replace(/\./g, '#'));
    const s = scoreSlice(probabilityFromArt(prediction), labelFromArt(THREE_CELLS), 0.5);
    // sum a^2 = 108, sum b^2 = 18^2 = 324, sum n_ij^2 = 108 -> V_rand = 216 / 432
    expect(s.vRand).toBeCloseTo(0.5, 12);
    // H(B) = 0: Fiji's convention gives precision 1, recall 0, F = 0
    expect(s.vInfo).toBe(0);
    expect(s.dice).toBeCloseTo((2 * 18) / (2 * 18 + 6), 12);
  });

  it('all-background prediction floods into one basin, like all-foreground', () => {
    const s = scoreSlice(new Float32Array(24), labelFromArt(THREE_CELLS), 0.5);
    expect(s.vRand).toBeCloseTo(0.5, 12);
    expect(s.vInfo).toBe(0);
    expect(s.dice).toBe(0);
  });

  it('a single ground-truth cell gives V_info = 0 (H(A) = 0) whatever the prediction', () => {
    const label = ['###', '###'];
    expect(scoreSlice(probabilityFromArt(label), labelFromArt(label), 0.5).vInfo).toBe(0);
    expect(scoreSlice(probabilityFromArt(label), labelFromArt(label), 0.5).vRand).toBeCloseTo(1, 12);
  });
});

/** Independent V_rand by counting ordered pairs of foreground pixels (singletons pair only with themselves). */
function pairCountVRand(truth: Int32Array, proposal: Int32Array): number {
  let same = 0;
  let sameTruth = 0;
  let sameProposal = 0;
  for (let p = 0; p < truth.length; p++) {
    if (truth[p] === 0) continue;
    for (let q = 0; q < truth.length; q++) {
      if (truth[q] === 0) continue;
      const t = truth[p] === truth[q];
      const s = p === q || (proposal[p] !== 0 && proposal[p] === proposal[q]);
      if (t) sameTruth++;
      if (s) sameProposal++;
      if (t && s) same++;
    }
  }
  return (2 * same) / (sameTruth + sameProposal);
}

function randomMask(width: number, height: number, seed: number, density: number): Uint8Array {
  let s = seed >>> 0;
  const next = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296);
  return Uint8Array.from({ length: width * height }, () => (next() < density ? 1 : 0));
}

describe('ISBI score properties', () => {
  it('V_rand equals an independent pair count on random masks, and both scores stay in [0, 1]', () => {
    for (let seed = 1; seed <= 20; seed++) {
      const w = 7;
      const h = 6;
      const truth = labelComponents4(randomMask(w, h, seed, 0.7), w, h);
      if (truth.count === 0) continue;
      const proposal = thinBorders(randomMask(w, h, seed * 7919, 0.65), w, h);
      const s = foregroundRestrictedScores(truth, proposal);
      expect(s.vRand).toBeCloseTo(pairCountVRand(truth.labels, proposal.labels), 12);
      expect(s.vInfo).toBeGreaterThanOrEqual(0);
      expect(s.vInfo).toBeLessThanOrEqual(1);
    }
  });

  it('do not depend on how the segments are numbered', () => {
    for (let seed = 1; seed <= 10; seed++) {
      const w = 9;
      const h = 8;
      const truth = labelComponents4(randomMask(w, h, seed, 0.7), w, h);
      const proposal = thinBorders(randomMask(w, h, seed + 100, 0.6), w, h);
      // relabel with reversed numbering (a permutation), keeping 0 as 0
      const relabelledTruth = { ...truth, labels: truth.labels.map((l) => (l === 0 ? 0 : truth.count + 1 - l)), sizes: Int32Array.from([0, ...[...truth.sizes.slice(1)].reverse()]) };
      const relabelledProposal = { ...proposal, labels: proposal.labels.map((l) => (l === 0 ? 0 : proposal.count + 1 - l)) };
      const a = foregroundRestrictedScores(truth, proposal);
      const b = foregroundRestrictedScores(relabelledTruth, relabelledProposal);
      expect(b.vRand).toBeCloseTo(a.vRand, 12);
      expect(b.vInfo).toBeCloseTo(a.vInfo, 12);
    }
  });

  it('are symmetric in ground truth and proposal when both cover everything and have no border', () => {
    for (let seed = 1; seed <= 10; seed++) {
      const w = 8;
      const h = 8;
      // segmentations without background: the components of a random mask plus those of its complement
      const segmentation = (s: number) => {
        const m = randomMask(w, h, s, 0.5);
        const fg = labelComponents4(m, w, h);
        const bg = labelComponents4(m.map((v) => 1 - v), w, h);
        const labels = fg.labels.map((l, i) => (l > 0 ? l : fg.count + bg.labels[i]!));
        const count = fg.count + bg.count;
        const sizes = new Int32Array(count + 1);
        for (const l of labels) sizes[l]!++;
        return { labels, count, sizes };
      };
      const x = segmentation(seed);
      const y = segmentation(seed + 50);
      const xy = foregroundRestrictedScores(x, y);
      const yx = foregroundRestrictedScores(y, x);
      expect(yx.vRand).toBeCloseTo(xy.vRand, 12);
      expect(yx.vInfo).toBeCloseTo(xy.vInfo, 12);
    }
  });
});
