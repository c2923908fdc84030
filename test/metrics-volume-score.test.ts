/**
 * core/metrics/volume-score.ts: the foreground-restricted V_rand and V_info over a stack of
 * sections of 3D object ids. One section scores as scoreLabelSlice does; an object cut into one
 * piece per section scores by the Rand formula worked by hand; an empty section is its own
 * segment; linking the truth's own pieces gives 1.
 */
import { describe, expect, it } from 'vitest';
import { linkSections, relabelSection } from '../core/cells/section-links.ts';
import { labelComponents4, scoreLabelSlice, scoreLabelVolume } from '../core/metrics/index.ts';
import { createRng } from '../core/random.ts';
import { labelFromArt } from './metrics-helpers.ts';

const truth = labelFromArt([
  '##.###.##',
  '##.###.##',
  '.........',
  '####.####',
  '####.####',
]);
const { width, height } = truth;
const components = labelComponents4(truth.data, width, height).labels;
const image = (labels: ArrayLike<number>) => ({ width, height, labels });

describe('scoreLabelVolume', () => {
  it('scores one section as scoreLabelSlice does', () => {
    const rng = createRng(5);
    for (let trial = 0; trial < 10; trial++) {
      const noisy = Float32Array.from(truth.data, (v) => (v / 255 + rng.normal(0, 0.4) >= 0.5 ? 1 : 0));
      const proposal = labelComponents4(noisy, width, height).labels;
      const volume = scoreLabelVolume([image(proposal)], [image(components)]);
      const slice = scoreLabelSlice(image(proposal), truth);
      expect(volume.vRand).toBeCloseTo(slice.vRand, 12);
      expect(volume.vInfo).toBeCloseTo(slice.vInfo, 12);
    }
  });

  it('counts pixel pairs across sections: an object in one piece per section scores 2/3 over two sections', () => {
    const n = width * height;
    const whole = new Uint32Array(n).fill(1);
    const truthVolume = [image(whole), image(whole)];
    // n pixels per section: sum a^2 = (2n)^2, sum b^2 = 2 n^2, sum p^2 = 2 n^2: V_rand = 4 n^2 / 6 n^2
    expect(scoreLabelVolume([image(whole), image(new Uint32Array(n).fill(2))], truthVolume).vRand).toBeCloseTo(2 / 3, 12);
    expect(scoreLabelVolume([image(whole), image(whole)], truthVolume).vRand).toBe(1);
    // a section without cells is one segment of its own, not a part of object 1
    expect(scoreLabelVolume([image(whole), image(new Uint32Array(n))], truthVolume).vRand).toBeCloseTo(2 / 3, 12);
  });

  it('gives the truth linked through its sections 1, and its pieces unlinked less', () => {
    const sections = [components, components, components.map((v) => (v === 2 ? 0 : v))];
    const { ids } = linkSections(sections);
    const linkedTruth = sections.map((labels, k) => image(relabelSection(labels, ids[k]!)));
    const unlinked = sections.map((labels, k) => image(labels.map((v) => (v === 0 ? 0 : v + 10 * k))));
    expect(scoreLabelVolume(linkedTruth, linkedTruth).vRand).toBe(1);
    const apart = scoreLabelVolume(unlinked, linkedTruth);
    // objects of 12, 12, 12, 24, 24 pixels (cell 2 in two sections): sum a^2 = 1584; the pieces
    // (4, 6, 4, 8, 8 per section, twice, then 4, 4, 8, 8): sum b^2 = sum p^2 = 552
    expect(apart.vRand).toBeCloseTo((2 * 552) / (1584 + 552), 12);
    expect(apart.vInfo).toBeLessThan(1);
  });

  it('refuses stacks of different depths or section sizes', () => {
    expect(() => scoreLabelVolume([image(components)], [])).toThrow('truth: expected one section per proposal section (1), found 0');
    expect(() => scoreLabelVolume([{ width: 2, height: 2, labels: [1, 1, 1, 1] }], [image(components)])).toThrow(`proposal section 0: expected ${width}x${height} = ${width * height} labels, found 2x2 with 4`);
  });
});
