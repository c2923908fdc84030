// train/augment-shifts.ts: the shifts of other microscopes keep the crop's statistics, their labels
// aligned, and their randomness reproducible.
import { describe, expect, it } from 'vitest';
import { createRng } from '../core/random.ts';
import { applyCropShift, changesAppearance, drawCropShift, SHIFT_DEFAULTS, type CropShift } from '../train/augment-shifts.ts';
import { gaussianBlur, jpegArtefacts, jpegQuantizationTable } from '../core/image-filters.ts';
import { drawCropTransform, NO_AUGMENTATION, renderCrop, resolveAugmentOptions, type CropSource } from '../train/augment.ts';
import { IGNORED_TARGET } from '../train/batch.ts';

const none: CropShift = { scale: 1, blurSigma: 0, noiseFraction: 0, noiseSeed: 1, gamma: 1, saturationGain: 1, jpegQuality: 0, defect: null };

function texture(size: number, seed: number): Float32Array {
  const rng = createRng(seed);
  const values = Float32Array.from({ length: size * size }, (_, i) => Math.sin(i / 7) + Math.cos(Math.floor(i / size) / 5) + rng.normal(0, 0.3));
  return values;
}

function stats(values: Float32Array): [number, number] {
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  return [mean, Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length)];
}

describe('shift augmentation', () => {
  it('draws the same shifts from the same generator state, and every shift from the defaults in time', () => {
    const a = Array.from({ length: 50 }, ((rng) => () => drawCropShift(rng, SHIFT_DEFAULTS))(createRng(4)));
    const b = Array.from({ length: 50 }, ((rng) => () => drawCropShift(rng, SHIFT_DEFAULTS))(createRng(4)));
    expect(a).toEqual(b);
    const many = Array.from({ length: 400 }, ((rng) => () => drawCropShift(rng, SHIFT_DEFAULTS))(createRng(5)));
    expect(many.some((s) => s.blurSigma > 0) && many.some((s) => s.noiseFraction > 0) && many.some((s) => s.gamma !== 1)).toBe(true);
    expect(many.some((s) => s.jpegQuality > 0) && many.some((s) => s.saturationGain !== 1) && many.some((s) => s.defect?.kind === 'fold') && many.some((s) => s.defect?.kind === 'strip')).toBe(true);
    for (const s of many) {
      expect(s.scale).toBeGreaterThanOrEqual(1 / 1.25 - 1e-12);
      expect(s.scale).toBeLessThanOrEqual(1.25 + 1e-12);
    }
    // About a fifth of the crops keep their appearance (only the scale changes).
    const plain = many.filter((s) => !changesAppearance(s)).length / many.length;
    expect(plain).toBeGreaterThan(0.1);
    expect(plain).toBeLessThan(0.35);
  });

  it('keeps the crop mean and standard deviation (what per-slice normalization does) and changes the pixels', () => {
    const size = 64;
    for (const shift of [{ ...none, gamma: 1.5 }, { ...none, blurSigma: 1.2 }, { ...none, noiseFraction: 0.3 }, { ...none, jpegQuality: 30 }, { ...none, saturationGain: 1.4 }]) {
      const image = texture(size, 1);
      const before = stats(image);
      const original = new Float32Array(image);
      applyCropShift(image, new Float32Array(size * size), size, shift);
      const after = stats(image);
      expect(after[0]).toBeCloseTo(before[0], 4);
      expect(after[1]).toBeCloseTo(before[1], 4);
      expect(image).not.toEqual(original);
    }
    const untouched = texture(size, 1);
    applyCropShift(untouched, new Float32Array(size * size), size, { ...none, scale: 1.2 });
    expect(untouched).toEqual(texture(size, 1));
  });

  it('blurs with a normalized kernel and quantizes like JPEG', () => {
    const size = 32;
    const constant = new Float32Array(size * size).fill(0.25);
    gaussianBlur(constant, size, size, 1.5);
    for (const v of constant) expect(v).toBeCloseTo(0.25, 6);
    const values = Float32Array.from(texture(size, 2), (v) => Math.min(1, Math.max(0, 0.5 + v / 6)));
    const blurred = new Float32Array(values);
    gaussianBlur(blurred, size, size, 1);
    expect(stats(blurred)[1]).toBeLessThan(stats(values)[1]);
    // Quality 100 quantizes with steps of 1: within a few levels; quality 10 loses much more.
    expect(jpegQuantizationTable(100).every((q) => q === 1)).toBe(true);
    expect(jpegQuantizationTable(50)[0]).toBe(16);
    const error = (quality: number) => {
      const copy = new Float32Array(values);
      jpegArtefacts(copy, size, size, quality);
      return copy.reduce((a, v, i) => a + Math.abs(v - values[i]!), 0) / copy.length;
    };
    expect(error(100)).toBeLessThan(2 / 255);
    expect(error(10)).toBeGreaterThan(3 * error(90));
  });

  it('ignores the labels under a section defect, and only there', () => {
    const size = 48;
    for (const kind of ['strip', 'fold'] as const) {
      const image = texture(size, 3);
      const original = new Float32Array(image);
      const label = new Float32Array(size * size).fill(1);
      applyCropShift(image, label, size, { ...none, defect: { kind, width: 6, position: 0.5, angle: 0.3 } });
      const ignored = [...label.keys()].filter((i) => label[i] === IGNORED_TARGET);
      expect(ignored.length).toBeGreaterThan(size * 4);
      expect(ignored.length).toBeLessThan(size * 8);
      // Outside the band the image is the original one.
      for (let i = 0; i < label.length; i++) if (label[i] === 1) expect(image[i]).toBe(original[i]);
    }
  });

  it('scales the crop with the labels: binary and aligned with the image', () => {
    const width = 96;
    const label = new Uint8Array(width * width);
    for (let y = 0; y < width; y++) for (let x = 0; x < width; x++) label[y * width + x] = (x >> 3) % 2;
    const source: CropSource = { width, height: width, label, image: Float32Array.from(label) };
    const options = resolveAugmentOptions({ ...NO_AUGMENTATION, shifts: { blur: { p: 0, sigma: [0.4, 1.5] }, noise: { p: 0, fraction: [0, 0] }, gamma: { p: 0, max: 1 }, saturation: { p: 0, maxGain: 1 }, jpeg: { p: 0, quality: [50, 50] }, defect: { p: 0, width: [3, 3] } } });
    const scales = new Set<number>();
    for (let seed = 0; seed < 20; seed++) {
      const transform = drawCropTransform(createRng(seed), width, width, 32, options);
      scales.add(transform.shift!.scale);
      const target = { image: new Float32Array(32 * 32), label: new Float32Array(32 * 32), offset: 0 };
      renderCrop(source, transform, target);
      for (let i = 0; i < target.label.length; i++) {
        expect([0, 1]).toContain(target.label[i]);
        // The image is the label sampled bilinearly: on the label's side of 0.5.
        expect(target.image[i]! >= 0.5 ? 1 : 0).toBe(target.label[i]);
      }
    }
    expect(scales.size).toBe(20);
  });

  it('refuses bad options, naming them', () => {
    expect(() => resolveAugmentOptions({ shifts: { maxScale: 0.5 } })).toThrow(/augment.shifts.maxScale: expected a number in \[1, 4\], found 0.5/);
    expect(() => resolveAugmentOptions({ shifts: { jpeg: { p: 2, quality: [30, 80] } } })).toThrow(/augment.shifts.jpeg.p: expected a probability/);
    expect(resolveAugmentOptions(true).shifts).toBe(false);
    expect(resolveAugmentOptions({ shifts: true }).shifts).toEqual(SHIFT_DEFAULTS);
  });
});
