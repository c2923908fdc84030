import { describe, expect, it } from 'vitest';
import { makeImage } from '../core/image.ts';
import { errorMap, maskLayer, overlayMask } from '../core/overlay.ts';
import { greyToRgb, toDisplayBytes } from '../core/rgb-image.ts';
import { interleavedToGrey } from '../core/grey.ts';

const image = makeImage(3, 1, new Uint8Array([0, 100, 200]));
const mask = makeImage(3, 1, new Uint8Array([255, 0, 255]));

describe('overlayMask', () => {
  it('blends the colour by alpha over the set pixels and keeps the others grey', () => {
    const out = overlayMask(image, mask, { colour: [255, 0, 0], alpha: 0.5 });
    expect(out.channels).toBe(3);
    expect(Array.from(out.data)).toEqual([128, 0, 0, 100, 100, 100, 228, 100, 100]);
  });

  it("paints the zero pixels with paint: 'zero' and gives RGBA on request", () => {
    const out = overlayMask(image, mask, { colour: [0, 0, 255], alpha: 1, paint: 'zero', output: 'rgba' });
    expect(Array.from(out.data)).toEqual([0, 0, 0, 255, 0, 0, 255, 255, 200, 200, 200, 255]);
  });

  it('scales 16-bit and float images to 0..255 for display', () => {
    const float = makeImage(3, 1, new Float32Array([-1, 0, 1]));
    expect(Array.from(toDisplayBytes(float))).toEqual([0, 128, 255]);
    expect(Array.from(toDisplayBytes(float, { range: [0, 1] }))).toEqual([0, 0, 255]);
    expect(Array.from(greyToRgb(makeImage(2, 1, new Uint16Array([1000, 3000]))).data)).toEqual([0, 0, 0, 255, 255, 255]);
  });

  it('refuses a mask of another size and an alpha outside [0, 1]', () => {
    expect(() => overlayMask(image, makeImage(2, 1, new Uint8Array(2)))).toThrow(/overlay: mask is 2x1, image is 3x1/);
    expect(() => overlayMask(image, mask, { alpha: 2 })).toThrow(/alpha: expected a number in \[0, 1\], found 2/);
  });
});

describe('maskLayer', () => {
  it('is transparent where the mask is not painted', () => {
    const out = maskLayer(mask, { colour: [10, 20, 30], alpha: 0.2 });
    expect(Array.from(out.data)).toEqual([10, 20, 30, 51, 0, 0, 0, 0, 10, 20, 30, 51]);
  });
});

describe('errorMap', () => {
  const truth = makeImage(4, 1, new Uint8Array([255, 255, 0, 0]));
  const prediction = makeImage(4, 1, new Uint8Array([255, 0, 255, 0]));

  it('colours false positives and false negatives; agreement is white/black without an image', () => {
    const out = errorMap(prediction, truth, { falsePositive: [1, 2, 3], falseNegative: [4, 5, 6] });
    expect(Array.from(out.data)).toEqual([255, 255, 255, 4, 5, 6, 1, 2, 3, 0, 0, 0]);
  });

  it('shows the image where prediction and truth agree', () => {
    const grey = makeImage(4, 1, new Uint8Array([10, 20, 30, 40]));
    const out = errorMap(prediction, truth, { image: grey });
    expect(Array.from(out.data.subarray(0, 3))).toEqual([10, 10, 10]);
    expect(Array.from(out.data.subarray(9, 12))).toEqual([40, 40, 40]);
  });
});

describe('interleavedToGrey', () => {
  it('uses BT.601 weights, keeps R = G = B exactly, ignores alpha and keeps the sample type', () => {
    const rgba = new Uint8Array([255, 0, 0, 9, 0, 255, 0, 9, 0, 0, 255, 9, 77, 77, 77, 0]);
    expect(Array.from(interleavedToGrey(rgba, 4, 1, 4).data)).toEqual([76, 150, 29, 77]);
    const rgb16 = new Uint16Array([65535, 65535, 65535, 1000, 1000, 1000]);
    const grey16 = interleavedToGrey(rgb16, 2, 1, 3);
    expect(grey16.data).toBeInstanceOf(Uint16Array);
    expect(Array.from(grey16.data)).toEqual([65535, 1000]);
    expect(Array.from(interleavedToGrey(new Uint8Array([5, 200, 6, 100]), 2, 1, 2).data)).toEqual([5, 6]);
    expect(() => interleavedToGrey(new Uint8Array(5), 2, 1, 3)).toThrow(/expected 6 values for 2x1x3, found 5/);
  });
});
