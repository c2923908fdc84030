// core/shift-suite.ts: each shift changes the image as it says, sizes come back to the labels'
// grid, reruns give the same figures, and the table averages the shifts.
import { describe, expect, it } from 'vitest';
import { formatShiftSuiteMarkdown, formatShiftSuiteText, runShiftSuite, SHIFT_SUITE } from '../core/shift-suite.ts';
import type { GreyImage } from '../core/image.ts';

const SIZE = 48;

function image(): GreyImage<Uint8Array> {
  const data = new Uint8Array(SIZE * SIZE);
  for (let y = 0; y < SIZE; y++) for (let x = 0; x < SIZE; x++) data[y * SIZE + x] = x % 16 < 2 || y % 16 < 2 ? 40 : 150 + ((x * 7 + y * 3) % 50);
  return { width: SIZE, height: SIZE, data };
}

const label = (): GreyImage<Uint8Array> => ({ width: SIZE, height: SIZE, data: Uint8Array.from(image().data, (v) => (v === 40 ? 0 : 255)) });
const shift = (name: string) => SHIFT_SUITE.find((s) => s.name === name)!;
const mean = (d: ArrayLike<number>) => Array.from(d).reduce((a, b) => a + b, 0) / d.length;

describe('the shift suite', () => {
  it('has the shifts the issue names, each an 8-bit image', () => {
    expect(SHIFT_SUITE.map((s) => s.name)).toEqual(['none', '4.6nm', '6nm', '4.6nm-as-is', 'gamma0.7', 'gamma1.4', 'contrast+30%', 'contrast-30%', 'noise', 'blur', 'jpeg50']);
    for (const s of SHIFT_SUITE) {
      const { image: out, restore } = s.apply(image());
      expect(out.data).toBeInstanceOf(Uint8Array);
      if (s.name === '4.6nm-as-is') {
        expect([out.width, out.height]).toEqual([42, 42]);
        expect(restore!(new Float32Array(42 * 42).fill(0.25)).length).toBe(SIZE * SIZE);
      } else {
        expect([out.width, out.height]).toEqual([SIZE, SIZE]);
        expect(restore).toBeUndefined();
      }
      if (s.name !== 'none') expect(out.data).not.toEqual(image().data);
    }
  });

  it('changes the image in the direction it says', () => {
    expect(mean(shift('gamma0.7').apply(image()).image.data)).toBeGreaterThan(mean(image().data));
    expect(mean(shift('gamma1.4').apply(image()).image.data)).toBeLessThan(mean(image().data));
    const spread = (d: ArrayLike<number>) => Math.max(...Array.from(d)) - Math.min(...Array.from(d));
    expect(spread(shift('contrast+30%').apply(image()).image.data)).toBeGreaterThan(spread(image().data));
    expect(spread(shift('contrast-30%').apply(image()).image.data)).toBeLessThan(spread(image().data));
    // Noise is the same on a rerun (seeded by the pixels) and differs between images.
    expect(shift('noise').apply(image()).image.data).toEqual(shift('noise').apply(image()).image.data);
    const other = image();
    other.data[0] = 0;
    expect(shift('noise').apply(other).image.data.subarray(1)).not.toEqual(shift('noise').apply(image()).image.data.subarray(1));
  });

  it('scores a predictor under every shift, with the mean over the shifts', async () => {
    // A predictor that thresholds the image at its mean: good on the slice, hurt by some shifts.
    const predict = async (img: GreyImage) => {
      const m = mean(img.data);
      return Float32Array.from(img.data, (v) => (v > m * 0.6 ? 0.9 : 0.1));
    };
    const slices = [{ index: 7, image: image(), label: label() }];
    const result = await runShiftSuite(slices, { plain: predict, tta: predict }, { variantThresholds: { plain: 0.5, tta: 0.3 } });
    expect(result.slices).toEqual([7]);
    expect(result.shifts.map((s) => s.shift)).toEqual(SHIFT_SUITE.map((s) => s.name));
    const none = result.shifts[0]!.rows;
    expect(none.map((r) => [r.variant, r.threshold])).toEqual([['plain', 0.5], ['tta', 0.3]]);
    expect(none[0]!.vRand).toBeGreaterThan(0.99);
    const shifted = result.shifts.slice(1).map((s) => s.rows[0]!.vRand);
    expect(result.meanOverShifts.plain!.vRand).toBeCloseTo(shifted.reduce((a, b) => a + b, 0) / shifted.length, 12);
    const markdown = formatShiftSuiteMarkdown(result);
    expect(markdown).toMatch(/^\| shift \| V_rand plain \| V_info plain \| V_rand TTA \| V_info TTA \|\n/);
    expect(markdown).toMatch(/\| \*\*mean over the shifts\*\* \| 0\.\d{4} \|/);
    expect(formatShiftSuiteText(result).split("\n")[1]).toMatch(/^none +[01]\.\d{4}/);
  });
});
