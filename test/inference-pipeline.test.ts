/**
 * segmentImage and segmentStack (core/inference.ts) with predictors given as plain functions:
 * normalization of the whole slice before tiling, probability = the predictor's output at the
 * image's own size, mask polarity and threshold, TTA and stacks.
 */
import { describe, expect, it } from 'vitest';
import { makeImage, makeStack, type GreyImage } from '../core/image.ts';
import { segmentImage, segmentStack, type StackProgress } from '../core/inference.ts';
import { normalizeSlice } from '../core/normalize.ts';
import { parseThreshold, thresholdProbability, validateThreshold } from '../core/threshold.ts';
import type { TilePredictor } from '../core/tiling.ts';

function noiseImage(width: number, height: number, seed: number): GreyImage<Uint8Array> {
  let state = seed;
  const data = new Uint8Array(width * height);
  for (let i = 0; i < data.length; i++) {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    data[i] = state >>> 24;
  }
  return makeImage(width, height, data);
}

const sigmoid: TilePredictor = async (tiles) => tiles.map((x) => 1 / (1 + Math.exp(-x)));

describe('segmentImage', () => {
  it('normalizes the whole slice, then gives the pointwise prediction exactly, at any size', async () => {
    for (const [width, height] of [[512, 512], [37, 53], [1000, 700]] as [number, number][]) {
      const image = noiseImage(width, height, width);
      const normalized = normalizeSlice(image);
      const { probability, mask } = await segmentImage(image, sigmoid);
      expect([probability.width, probability.height, mask.width, mask.height]).toEqual([width, height, width, height]);
      let mismatches = 0;
      for (let i = 0; i < normalized.length; i++) {
        if (probability.data[i] !== Math.fround(1 / (1 + Math.exp(-normalized[i]!)))) mismatches++;
      }
      expect(mismatches).toBe(0);
    }
  });

  it('gives the predictor tiles with the statistics of the whole slice, not of each tile', async () => {
    // Left half dark, right half bright: per-tile normalization would make both halves average 0.
    const width = 1200;
    const height = 64;
    const data = new Uint8Array(width * height);
    for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data[y * width + x] = x < width / 2 ? 20 : 220;
    const { probability } = await segmentImage(makeImage(width, height, data), async (tiles) => tiles.slice());
    expect(probability.data[0]).toBeCloseTo(-1, 5);
    expect(probability.data[width - 1]).toBeCloseTo(1, 5);
  });

  it('masks probability >= threshold as 255 (cell interior), else 0', async () => {
    const image = noiseImage(64, 48, 5);
    const normalized = normalizeSlice(image);
    for (const threshold of [0.2, 0.5, 0.9]) {
      const { probability, mask } = await segmentImage(image, sigmoid, { threshold });
      for (let i = 0; i < mask.data.length; i++) expect(mask.data[i]).toBe(probability.data[i]! >= threshold ? 255 : 0);
      const white = mask.data.filter((v) => v === 255).length;
      expect(white).toBe(Array.from(normalized).filter((x) => Math.fround(1 / (1 + Math.exp(-x))) >= threshold).length);
    }
  });

  it('with TTA, a pointwise predictor gives exactly the same probability', async () => {
    const image = noiseImage(600, 200, 9);
    const plain = await segmentImage(image, sigmoid);
    const calls: number[] = [];
    const counting: TilePredictor = async (tiles, n, h, w) => {
      calls.push(n);
      return sigmoid(tiles, n, h, w);
    };
    const tta = await segmentImage(image, counting, { tta: true, tileBatch: 4 });
    expect(Array.from(tta.probability.data)).toEqual(Array.from(plain.probability.data));
    expect(calls.every((n) => n <= 4)).toBe(true);
    expect(calls.reduce((a, b) => a + b, 0)).toBe(8 * 2); // 700x300 at tile 512: 2 tiles, 8 views each
  });

  it('refuses a bad threshold or tile, naming it', async () => {
    const image = noiseImage(16, 16, 1);
    await expect(segmentImage(image, sigmoid, { threshold: 1.5 })).rejects.toThrow(/threshold: expected a number in \[0, 1\], found 1.5/);
    await expect(segmentImage(image, sigmoid, { tile: 100 })).rejects.toThrow(/tile: expected a positive multiple of 16, found 100/);
    await expect(segmentImage(image, async () => new Float32Array(3))).rejects.toMatchObject({ code: 'E_MODEL' });
  });
});

describe('threshold helpers', () => {
  it('validate and parse thresholds', () => {
    expect(validateThreshold(0)).toBe(0);
    expect(validateThreshold(1)).toBe(1);
    expect(parseThreshold(' 0.25 ', '--threshold')).toBe(0.25);
    for (const bad of ['', 'abc', '-0.1', '2', 'NaN']) expect(() => parseThreshold(bad, '--threshold')).toThrow(/--threshold: expected a number in \[0, 1\]/);
    expect(() => validateThreshold(Number.POSITIVE_INFINITY)).toThrow();
    const mask = thresholdProbability({ width: 3, height: 1, data: Float32Array.from([0.49, 0.5, Number.NaN]) }, 0.5);
    expect(Array.from(mask.data)).toEqual([0, 255, 0]);
  });
});

describe('segmentStack', () => {
  it('segments every page like segmentImage and reports pages and tiles', async () => {
    const pages = [noiseImage(600, 40, 1), noiseImage(600, 40, 2), noiseImage(600, 40, 3)];
    const events: StackProgress[] = [];
    const result = await segmentStack(makeStack(pages), sigmoid, { onProgress: (p) => events.push(p), tileBatch: 1 });
    expect(result.mask.pages).toHaveLength(3);
    for (const [k, page] of pages.entries()) {
      const single = await segmentImage(page, sigmoid);
      expect(Array.from(result.probability.pages[k]!.data)).toEqual(Array.from(single.probability.data));
    }
    expect(events.at(-1)).toEqual({ pagesDone: 3, pages: 3, tilesDone: 0, tiles: 0 });
    expect(events.filter((e) => e.tiles > 0 && e.pagesDone === 1).map((e) => e.tilesDone)).toEqual([1, 2]);
  });

  it('runs pages at the same time when asked, keeping their order', async () => {
    const pages = [noiseImage(64, 32, 11), noiseImage(64, 32, 12), noiseImage(64, 32, 13), noiseImage(64, 32, 14)];
    let inFlight = 0;
    let most = 0;
    const slow: TilePredictor = async (tiles, n, h, w) => {
      inFlight++;
      most = Math.max(most, inFlight);
      await new Promise((resolve) => setTimeout(resolve, 5));
      inFlight--;
      return sigmoid(tiles, n, h, w);
    };
    const together = await segmentStack(makeStack(pages), slow, { pagesAtOnce: 3 });
    expect(most).toBe(3);
    for (const [k, page] of pages.entries()) {
      expect(Array.from(together.probability.pages[k]!.data)).toEqual(Array.from((await segmentImage(page, sigmoid)).probability.data));
    }
    await expect(segmentStack(makeStack(pages), slow, { pagesAtOnce: 0 })).rejects.toThrow(/pagesAtOnce: expected a positive integer, found 0/);
  });
});
