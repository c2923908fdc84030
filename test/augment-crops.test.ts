import { describe, expect, it } from 'vitest';
import { createRng } from '../core/random.ts';
import { AUGMENT_DEFAULTS, displacementField, drawCropTransform, NO_AUGMENTATION, renderCrop, resolveAugmentOptions, type CropSource } from '../train/augment.ts';

/** A random binary source whose image is its label (0/1) and whose weights are its label + 1. */
function binarySource(width: number, height: number, seed: number): CropSource {
  const rng = createRng(seed);
  // blocky pattern so that regions are larger than a pixel
  const label = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) label[y * width + x] = ((x >> 2) + (y >> 2) + rng.int(0, 2)) % 2;
  return { width, height, label, image: Float32Array.from(label), weights: Float32Array.from(label, (v) => v + 1) };
}

function render(source: CropSource, seed: number, options = AUGMENT_DEFAULTS, size = 24) {
  const rng = createRng(seed);
  const transform = drawCropTransform(rng, source.width, source.height, size, options);
  const target = { image: new Float32Array(size * size), label: new Float32Array(size * size), weights: new Float32Array(size * size), offset: 0 };
  renderCrop(source, transform, target);
  return { ...target, transform };
}

describe('crop augmentation', () => {
  const flipsOnly = { ...NO_AUGMENTATION, flipsAndRotations: true };

  it('flips and rotations are exact permutations of the crop window, the 8 of them distinct', () => {
    const source = binarySource(40, 32, 1);
    for (let seed = 0; seed < 64; seed++) {
      const { image, label, weights, transform } = render(source, seed, flipsOnly, 16);
      // the same pixels as the window, in another order
      const window: number[] = [];
      for (let y = 0; y < 16; y++) for (let x = 0; x < 16; x++) window.push(source.image[(transform.y0 + y) * 40 + transform.x0 + x]!);
      expect([...image].sort()).toEqual(window.sort());
      expect([...label]).toEqual([...image]);
      expect([...weights]).toEqual([...image].map((v) => v + 1));
    }
    // a 16x16 source cropped whole: the 8 transforms of this asymmetric window give 8 distinct crops
    const source2 = binarySource(16, 16, 3);
    const crops = new Set<string>();
    for (let seed = 0; seed < 200; seed++) crops.add(render(source2, seed, flipsOnly, 16).image.join(''));
    expect(crops.size).toBe(8);
  });

  it('elastic deformation keeps the label binary and aligned with the image', () => {
    const source = binarySource(64, 64, 2);
    const noIntensity = { ...AUGMENT_DEFAULTS, intensity: false as const };
    for (let seed = 0; seed < 10; seed++) {
      const { image, label, weights, transform } = render(source, seed, noIntensity, 48);
      expect(transform.grid).not.toBeNull();
      const problems: string[] = [];
      for (let i = 0; i < label.length; i++) {
        if (label[i] !== 0 && label[i] !== 1) problems.push(`label ${i} = ${label[i]}`);
        // the label is the bilinear value of the same 0/1 map re-binarized: it is the image thresholded
        if (label[i] !== (image[i]! >= 0.5 ? 1 : 0)) problems.push(`label ${i} = ${label[i]}, image ${image[i]}`);
        if (!(Math.abs(weights[i]! - image[i]! - 1) < 1e-5)) problems.push(`weights ${i} = ${weights[i]}, image ${image[i]}`);
      }
      expect(problems).toEqual([]);
      // deformed: not an exact permutation of the window any more
      expect(image.some((v) => v > 0 && v < 1)).toBe(true);
    }
  });

  it('intensity jitter scales and shifts the image only', () => {
    const source = binarySource(32, 32, 4);
    const jitterOnly = { ...NO_AUGMENTATION, intensity: { contrast: 0.2, brightness: 0.2 } };
    const plain = render(source, 9, NO_AUGMENTATION, 16);
    const jittered = render(source, 9, jitterOnly, 16);
    const { contrast, brightness } = jittered.transform;
    expect(contrast).toBeGreaterThanOrEqual(0.8);
    expect(contrast).toBeLessThan(1.2);
    expect(Math.abs(brightness)).toBeLessThanOrEqual(0.2);
    jittered.image.forEach((v, i) => expect(v).toBeCloseTo(plain.image[i]! * contrast + brightness, 6));
    expect(jittered.label).toEqual(plain.label);
  });

  it('the displacement field passes through the grid nodes (bicubic interpolation)', () => {
    const g = 3;
    const dx = Float64Array.from({ length: 9 }, (_, i) => i * 1.5 - 4);
    const dy = Float64Array.from({ length: 9 }, (_, i) => 10 - i);
    const size = 21; // nodes at 0, 10, 20
    const [fx, fy] = displacementField({ size: g, dx, dy }, size);
    for (let a = 0; a < g; a++) {
      for (let b = 0; b < g; b++) {
        const p = a * 10 * size + b * 10;
        expect(fx[p]).toBeCloseTo(dx[a * g + b]!, 5);
        expect(fy[p]).toBeCloseTo(dy[a * g + b]!, 5);
      }
    }
    // a constant grid gives a constant field (the weights sum to 1)
    const [cx] = displacementField({ size: g, dx: new Float64Array(9).fill(2.5), dy: new Float64Array(9) }, 17);
    for (const v of cx) expect(v).toBeCloseTo(2.5, 9);
  });

  it('resolves options and rejects bad ones naming them', () => {
    expect(resolveAugmentOptions(false)).toEqual(NO_AUGMENTATION);
    expect(resolveAugmentOptions({ elastic: { sigma: 5 } }).elastic).toEqual({ gridSize: 3, sigma: 5 });
    expect(() => resolveAugmentOptions({ elastic: { gridSize: 1 } })).toThrow(/augment.elastic.gridSize/);
    expect(() => resolveAugmentOptions({ intensity: { contrast: 1.5 } })).toThrow(/augment.intensity.contrast/);
    expect(() => drawCropTransform(createRng(1), 10, 10, 12, AUGMENT_DEFAULTS)).toThrow(/cropSize/);
  });
});
