// core/contrast-polarity.ts: every ISBI 2012 slice (train and test volumes) passes as it is and is
// flagged once inverted; --invert turns the verdict around; flat images give no verdict.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { checkPolarity, darkTail, INVERTED_BELOW } from '../core/contrast-polarity.ts';
import type { GreyImage } from '../core/image.ts';
import { decodeTiff } from '../core/tiff.ts';

const invert8 = (slice: GreyImage): GreyImage<Uint8Array> => ({ width: slice.width, height: slice.height, data: Uint8Array.from(slice.data, (v) => 255 - v) });

describe('contrast polarity', () => {
  for (const volume of ['train-volume', 'test-volume']) {
    it(`passes every slice of ${volume} and flags every inverted one`, () => {
      const stack = decodeTiff(new Uint8Array(readFileSync(`data/isbi2012/${volume}.tif`)), volume);
      expect(stack.pages).toHaveLength(30);
      const plain: number[] = [];
      const inverted: number[] = [];
      for (const [i, slice] of stack.pages.entries()) {
        const normal = checkPolarity([slice], `${volume}[${i}]`);
        const flipped = checkPolarity([invert8(slice)], `${volume}[${i}] inverted`);
        expect(normal.looksInverted, `${volume}[${i}] dark share ${normal.darkShare}`).toBe(false);
        expect(normal.warning).toBeUndefined();
        expect(flipped.looksInverted, `${volume}[${i}] inverted, dark share ${flipped.darkShare}`).toBe(true);
        expect(flipped.warning).toMatch(/contrast looks inverted .*use --invert$/);
        // Inverting the image swaps the tails exactly.
        expect(flipped.darkShare! + normal.darkShare!).toBeCloseTo(1, 12);
        plain.push(normal.darkShare!);
        inverted.push(flipped.darkShare!);
      }
      const range = (xs: number[]) => `${Math.min(...xs).toFixed(3)}-${Math.max(...xs).toFixed(3)}`;
      console.log(`[contrast polarity] ${volume}: dark share ${range(plain)} as it is, ${range(inverted)} inverted (flagged under ${INVERTED_BELOW})`);
      // The margins the module comment states.
      expect(Math.min(...plain)).toBeGreaterThan(0.6);
      expect(Math.max(...inverted)).toBeLessThan(0.4);
    });
  }

  it('checks the image the model will see: --invert turns the verdict around', () => {
    const stack = decodeTiff(new Uint8Array(readFileSync('data/isbi2012/test-volume.tif')), 'test-volume');
    const slice = stack.pages[3]!;
    expect(checkPolarity([invert8(slice)], 'x', { invert: true }).looksInverted).toBe(false);
    const wrong = checkPolarity([slice], 'x.tif', { invert: true, option: 'invert=true' });
    expect(wrong.looksInverted).toBe(true);
    expect(wrong.warning).toMatch(/^x\.tif: with invert=true its contrast looks inverted .* drop invert=true$/);
    // 16-bit and float copies of the same picture give the same verdict and share.
    const wide: GreyImage<Uint16Array> = { width: slice.width, height: slice.height, data: Uint16Array.from(slice.data, (v) => 65535 - v * 257) };
    const float: GreyImage<Float32Array> = { width: slice.width, height: slice.height, data: Float32Array.from(slice.data, (v) => -v / 255) };
    expect(checkPolarity([wide], 'w').darkShare).toBeCloseTo(checkPolarity([invert8(slice)], 'i').darkShare!, 12);
    expect(checkPolarity([float], 'f').looksInverted).toBe(true);
  });

  it('gives no verdict for flat and two-level images', () => {
    const flat = { width: 8, height: 8, data: new Uint8Array(64).fill(7) };
    expect(darkTail(flat)).toEqual({ dark: 0, bright: 0, pixels: 64 });
    expect(checkPolarity([flat], 'flat')).toEqual({ darkShare: undefined, looksInverted: false, warning: undefined });
    const halves = { width: 8, height: 8, data: Uint8Array.from({ length: 64 }, (_, i) => (i < 32 ? 0 : 255)) };
    expect(checkPolarity([halves], 'halves').darkShare).toBeUndefined();
  });
});
