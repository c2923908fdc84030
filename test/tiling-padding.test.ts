/**
 * Mirror padding to a multiple and cropping back (core/padding.ts).
 */
import { describe, expect, it } from 'vitest';
import type { GreyImage } from '../core/image.ts';
import { crop, mirrorPad, padToMultiple, paddingToMultiple, reflectIndex } from '../core/padding.ts';

const ramp = (width: number, height: number): GreyImage<Float32Array> => ({
  width,
  height,
  data: Float32Array.from({ length: width * height }, (_, i) => i + 1),
});

describe('reflectIndex', () => {
  it('reflects about the edge pixels without repeating them, like numpy reflect', () => {
    // a b c d padded by 2: c b | a b c d | c b
    expect([-2, -1, 0, 1, 2, 3, 4, 5].map((i) => reflectIndex(i, 4))).toEqual([2, 1, 0, 1, 2, 3, 2, 1]);
  });

  it('keeps bouncing for pads wider than the image, and stays in range', () => {
    for (const n of [1, 2, 3, 7]) {
      for (let i = -50; i < 50; i++) {
        const k = reflectIndex(i, n);
        expect(k).toBeGreaterThanOrEqual(0);
        expect(k).toBeLessThan(n);
        // the mirror about 0 and about n - 1 give the same pixel
        expect(reflectIndex(-i, n)).toBe(k);
        expect(reflectIndex(2 * (n - 1) - i, n)).toBe(k);
      }
    }
  });
});

describe('mirrorPad and crop', () => {
  it('pads after the image to the next multiple and crops back to the same pixels', () => {
    for (const [width, height] of [[1, 1], [5, 3], [16, 16], [17, 40], [100, 33]] as [number, number][]) {
      const image = ramp(width, height);
      const { padded, box } = padToMultiple(image, 16);
      expect(padded.width % 16).toBe(0);
      expect(padded.height % 16).toBe(0);
      expect(padded.width - width).toBeLessThan(16);
      expect(padded.height - height).toBeLessThan(16);
      expect([box.x, box.y]).toEqual([0, 0]);
      const back = crop(padded, box);
      expect(Array.from(back.data)).toEqual(Array.from(image.data));
      // every padded pixel is the mirrored pixel of the image
      for (let y = 0; y < padded.height; y++) {
        for (let x = 0; x < padded.width; x++) {
          const source = reflectIndex(y - box.y, height) * width + reflectIndex(x - box.x, width);
          expect(padded.data[y * padded.width + x]).toBe(image.data[source]);
        }
      }
    }
  });

  it('pads up to a minimum size too', () => {
    const padding = paddingToMultiple(10, 20, 16, 64, 32);
    expect(padding.left + padding.right + 10).toBe(64);
    expect(padding.top + padding.bottom + 20).toBe(32);
  });

  it('returns the image itself when there is nothing to pad or crop', () => {
    const image = ramp(32, 16);
    expect(mirrorPad(image, { top: 0, bottom: 0, left: 0, right: 0 })).toBe(image);
    expect(crop(image, { x: 0, y: 0, width: 32, height: 16 })).toBe(image);
  });

  it('refuses bad padding and boxes, naming them', () => {
    expect(() => mirrorPad(ramp(4, 4), { top: -1, bottom: 0, left: 0, right: 0 })).toThrow(/padding.top/);
    expect(() => crop(ramp(4, 4), { x: 2, y: 0, width: 3, height: 1 })).toThrow(/crop box: expected a box inside 4x4/);
    expect(() => paddingToMultiple(4, 4, 0)).toThrow(/multiple/);
  });
});
