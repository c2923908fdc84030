import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { scoreSlices } from '../core/metrics/index.ts';
import { decodeTiff } from '../core/tiff.ts';
import { makeImage, type GreyImage } from '../core/image.ts';
import { labelFromArt } from './metrics-helpers.ts';

// three cells A | B | C separated by one-pixel membranes (columns 2 and 5)
const LABEL = labelFromArt(['##.##.##', '##.##.##', '##.##.##']);

/** Cells at 0.8, the A|B membrane at 0.35, the B|C membrane at 0.05. */
function gradedProbability(): Float32Array {
  return Float32Array.from(LABEL.data, (v, i) => (v ? 0.8 : i % 8 === 2 ? 0.35 : 0.05));
}

describe('threshold sweep and averaging over slices', () => {
  it('finds the best threshold and averages slices', () => {
    const graded = gradedProbability();
    const perfect = Float32Array.from(LABEL.data, (v) => v / 255);
    const s = scoreSlices([graded, perfect], [LABEL, LABEL]);
    expect(s.perThreshold.map((r) => r.threshold)).toEqual([0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1]);
    // graded slice: t = 0 everything is cell (V_rand 1/2, worked out in metrics-isbi-scores);
    // t in 0.1..0.3 A and B merge (3/4); t in 0.4..0.8 perfect (1); t >= 0.9 nothing is cell, one basin (1/2).
    // perfect slice (probabilities 0 and 1): t = 0 everything is cell (1/2), otherwise 1.
    const expected = [
      (0.5 + 0.5) / 2,
      ...[0.1, 0.2, 0.3].map(() => (0.75 + 1) / 2),
      ...[0.4, 0.5, 0.6, 0.7, 0.8].map(() => 1),
      (0.5 + 1) / 2,
      (0.5 + 1) / 2,
    ];
    s.perThreshold.forEach((row, k) => expect(row.vRand, `threshold ${row.threshold}`).toBeCloseTo(expected[k]!, 12));
    expect(s.best.threshold).toBe(0.4);
    expect(s.best.vRand).toBeCloseTo(1, 12);
    expect(s.best.vInfo).toBeCloseTo(1, 12);
    expect(s.best.vInfoThreshold).toBe(0.4);
    expect(s.atThreshold).toEqual(s.perThreshold[5]);
  });

  it('scores the model threshold even when the sweep does not contain it', () => {
    const s = scoreSlices([{ width: 8, height: 3, data: gradedProbability() }], [LABEL], { thresholds: [0, 1], threshold: 0.2 });
    expect(s.perThreshold).toHaveLength(2);
    expect(s.atThreshold.threshold).toBe(0.2);
    expect(s.atThreshold.vRand).toBeCloseTo(0.75, 12);
    // the A|B membrane column (3 pixels) is predicted as cell at 0.2
    expect(s.atThreshold.pixelError).toBeCloseTo(3 / 24, 12);
  });

  it('rejects mismatched sizes and thresholds outside [0, 1], naming the argument', () => {
    expect(() => scoreSlices([new Float32Array(5)], [LABEL])).toThrow(/labels\[0\]/);
    expect(() => scoreSlices([gradedProbability()], [LABEL], { thresholds: [0.5, 1.5] })).toThrow(/thresholds\[1\]/);
    expect(() => scoreSlices([gradedProbability()], [])).toThrow(/labels/);
  });

  it('scores 5 real 512x512 ISBI labels against themselves as 1, over 11 thresholds, quickly', () => {
    const labels = decodeTiff(new Uint8Array(readFileSync('data/isbi2012/train-labels.tif')), 'train-labels.tif');
    const slices = labels.pages.slice(25, 30) as GreyImage[];
    const probabilities = slices.map((label) => makeImage(label.width, label.height, Float32Array.from(label.data, (v) => v / 255)));
    const start = performance.now();
    const s = scoreSlices(probabilities, slices);
    const seconds = (performance.now() - start) / 1000;
    expect(s.best.vRand).toBeCloseTo(1, 9);
    expect(s.best.vInfo).toBeCloseTo(1, 9);
    expect(s.atThreshold.pixelError).toBe(0);
    expect(s.perThreshold[0]!.vRand).toBeLessThan(0.5); // t = 0: one segment for the whole slice
    expect(seconds).toBeLessThan(10); // typically well under 1 s on one core; generous for a loaded machine
  });
});
