import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { makeImage, makeStack, type GreyImage, type ImageStack } from '../core/image.ts';
import { createRng } from '../core/random.ts';
import { decodeTiff } from '../core/tiff.ts';
import { checkSplit, createDataset } from '../train/dataset.ts';

/** A small synthetic stack: `count` slices of 40x32, pixel values depending on slice and position. */
function stacks(count = 6): { images: ImageStack; labels: ImageStack } {
  const w = 40;
  const h = 32;
  const images: GreyImage<Uint8Array>[] = [];
  const labels: GreyImage<Uint8Array>[] = [];
  for (let s = 0; s < count; s++) {
    images.push(makeImage(w, h, Uint8Array.from({ length: w * h }, (_, i) => (i * 7 + s * 31) % 251)));
    labels.push(makeImage(w, h, Uint8Array.from({ length: w * h }, (_, i) => ((i % w) % 9 === 0 || Math.floor(i / w) % 7 === 0 ? 0 : 255))));
  }
  return { images: makeStack(images), labels: makeStack(labels) };
}

describe('dataset split', () => {
  it('rejects overlapping, out-of-range, duplicate and empty splits, naming the option', () => {
    expect(() => checkSplit([0, 1, 2], [2, 3], 6)).toThrow(RangeError);
    expect(() => checkSplit([0, 1, 2], [2, 3], 6)).toThrow(/validationSlices: slice 2 also in trainSlices/);
    expect(() => checkSplit([0, 6], [], 6)).toThrow(/trainSlices: slice 6 is out of range/);
    expect(() => checkSplit([0], [-1], 6)).toThrow(/validationSlices: slice -1/);
    expect(() => checkSplit([0, 0], [], 6)).toThrow(/trainSlices: slice 0 is listed twice/);
    expect(() => checkSplit([], [1], 6)).toThrow(/trainSlices: expected at least one/);
    expect(() => checkSplit([0.5], [], 6)).toThrow(/trainSlices/);
    const { images, labels } = stacks();
    // the defaults (0-24 / 25-29) do not fit a 6-slice stack
    expect(() => createDataset(images, labels)).toThrow(/trainSlices: slice 6 is out of range/);
    expect(() => createDataset(images, labels, { trainSlices: [0], validationSlices: [], cropSize: 48 })).toThrow(/cropSize/);
  });
});

describe('batches', () => {
  const { images, labels } = stacks();
  const options = { trainSlices: [0, 1, 2, 3], validationSlices: [4, 5], cropSize: 16, batchSize: 3 };

  it('normalizes whole slices before cropping', () => {
    const dataset = createDataset(images, labels, { ...options, augment: false, borderWeights: false, batchSize: 1 });
    for (let seed = 0; seed < 5; seed++) {
      // replay the generator's draws: slice, then crop position
      const replay = createRng(seed);
      const slice = options.trainSlices[replay.int(0, 4)]!;
      const x0 = replay.int(0, 40 - 16 + 1);
      const y0 = replay.int(0, 32 - 16 + 1);
      const batch = dataset.sampleBatch(createRng(seed));
      expect(batch.weights).toBeUndefined();
      // statistics of the whole slice, computed here independently
      const raw = Array.from(images.pages[slice]!.data);
      const mean = raw.reduce((a, v) => a + v, 0) / raw.length;
      const std = Math.sqrt(raw.reduce((a, v) => a + (v - mean) ** 2, 0) / raw.length);
      for (let y = 0; y < 16; y++) {
        for (let x = 0; x < 16; x++) {
          const p = (y0 + y) * 40 + x0 + x;
          expect(batch.images[y * 16 + x]).toBeCloseTo((raw[p]! - mean) / std, 5);
          expect(batch.labels[y * 16 + x]).toBe(labels.pages[slice]!.data[p] ? 1 : 0);
        }
      }
    }
  });

  it('is deterministic for a seed, and a restored generator state gives the same next batch', () => {
    const dataset = createDataset(images, labels, options);
    const a = createRng(42);
    const b = createRng(42);
    const first = dataset.sampleBatch(a);
    expect(dataset.sampleBatch(b)).toEqual(first);
    expect(first.n).toBe(3);
    expect(first.images).toHaveLength(3 * 16 * 16);
    expect(first.weights).toHaveLength(3 * 16 * 16);
    dataset.sampleBatch(a);
    const saved = JSON.parse(JSON.stringify(a.getState()));
    const next = dataset.sampleBatch(a);
    const resumed = createRng(0);
    resumed.setState(saved);
    expect(dataset.sampleBatch(resumed)).toEqual(next);
    expect(dataset.sampleBatch(createRng(43)).images).not.toEqual(first.images);
  });

  it('keeps validation slices whole, normalized, with their labels', () => {
    const dataset = createDataset(images, labels, options);
    expect(dataset.validation.map((v) => v.index)).toEqual([4, 5]);
    const batch = dataset.validationBatch();
    expect([batch.n, batch.height, batch.width]).toEqual([2, 32, 40]);
    expect(batch.labels[1]).toBe(labels.pages[5]);
    let mean = 0;
    for (let i = 40 * 32; i < 2 * 40 * 32; i++) mean += batch.images[i]! / (40 * 32);
    expect(mean).toBeCloseTo(0, 5);
  });
});

describe('on the ISBI stacks', () => {
  const read = (name: string) => decodeTiff(new Uint8Array(readFileSync(`data/isbi2012/${name}`)), name);
  const labels = read('train-labels.tif');

  it('keeps labels binary and aligned through full augmentation (images = labels)', () => {
    // with the label stack as the image stack, the normalized image takes two values, one per
    // class; without intensity jitter the label must be the image thresholded between them
    const dataset = createDataset(labels, labels, {
      trainSlices: [0], // one slice: its two normalized values are known
      validationSlices: [],
      cropSize: 128,
      batchSize: 4,
      augment: { intensity: false },
    });
    const low = dataset.train[0]!.image.reduce((m, v) => Math.min(m, v), Infinity);
    const high = dataset.train[0]!.image.reduce((m, v) => Math.max(m, v), -Infinity);
    const rng = createRng(3);
    for (let b = 0; b < 3; b++) {
      const batch = dataset.sampleBatch(rng);
      let mismatches = 0;
      for (let i = 0; i < batch.labels.length; i++) {
        const t = (batch.images[i]! - low) / (high - low); // the interpolated label value in [0, 1]
        if (Math.abs(t - 0.5) > 1e-4 && batch.labels[i] !== (t > 0.5 ? 1 : 0)) mismatches++;
        if (batch.labels[i] !== 0 && batch.labels[i] !== 1) mismatches++;
      }
      // (values within float rounding of the 0.5 level, e.g. exact ties between two pixels, are skipped)
      expect(mismatches).toBe(0);
      expect(batch.weights!.every((w) => w > 0)).toBe(true);
    }
  });

  it('samples a batch of 4 elastic 256x256 crops with weights quickly', () => {
    const images = read('train-volume.tif');
    const dataset = createDataset(images, labels, { trainSlices: [0, 1], validationSlices: [] });
    const rng = createRng(1);
    dataset.sampleBatch(rng); // warm-up
    const start = performance.now();
    for (let i = 0; i < 5; i++) dataset.sampleBatch(rng);
    const ms = (performance.now() - start) / 5;
    expect(ms).toBeLessThan(500); // typically ~30 ms on one core; generous for a loaded machine
  });
});
