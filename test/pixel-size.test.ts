// core/pixel-size.ts, core/resample.ts and segmentImage's `scale`: the model sees the slice at its
// own pixel size, the caller gets probabilities and mask at the slice's size; the size comes from
// the model card, and a card without it is a clear error.
import { describe, expect, it } from 'vitest';
import type { GreyImage } from '../core/image.ts';
import { segmentImage } from '../core/inference.ts';
import { pixelScale } from '../core/pixel-size.ts';
import { resampleBilinear, resampleNearest } from '../core/resample.ts';
import type { ModelCard } from '../core/contract.ts';
import { trainingPixelSizeOf } from '../core/card-options.ts';

const W = 96;
const H = 64;
/** A smooth picture: a horizontal ramp plus a slow vertical wave. */
const picture: GreyImage<Uint8Array> = {
  width: W,
  height: H,
  data: Uint8Array.from({ length: W * H }, (_, i) => Math.round(60 + (i % W) + 20 * Math.sin(Math.floor(i / W) / 10))),
};

describe('pixel size', () => {
  it('resamples: bilinear keeps a constant, nearest keeps label values', () => {
    const flat = { width: 10, height: 7, data: new Uint8Array(70).fill(42) };
    expect([...resampleBilinear(flat, 23, 5).data].every((v) => Math.abs(v - 42) < 1e-4)).toBe(true);
    const label = { width: 8, height: 8, data: Uint8Array.from({ length: 64 }, (_, i) => [0, 128, 255][i % 3]!) };
    const up = resampleNearest(label, 19, 13);
    expect(up.data).toBeInstanceOf(Uint8Array);
    expect(new Set(up.data)).toEqual(new Set([0, 128, 255]));
  });

  it('runs the model at its pixel size and returns the slice at its own size', async () => {
    const seen: Array<[number, number]> = [];
    // A pointwise "model": probability is a smooth function of the normalized intensity.
    const predictor = async (tiles: Float32Array, n: number, height: number, width: number) => {
      seen.push([height, width]);
      return tiles.map((v) => 1 / (1 + Math.exp(-v)));
    };
    const plain = await segmentImage(picture, predictor, { tile: 128, halo: 0 });
    seen.length = 0;
    const halved = await segmentImage(picture, predictor, { tile: 128, halo: 0, scale: 0.5 });
    expect(seen).toEqual([[32, 48]]);
    expect([halved.probability.width, halved.probability.height, halved.mask.width]).toEqual([W, H, W]);
    // Away from the borders the rescaled result follows the unscaled one closely.
    let worst = 0;
    for (let y = 4; y < H - 4; y++) for (let x = 4; x < W - 4; x++) worst = Math.max(worst, Math.abs(halved.probability.data[y * W + x]! - plain.probability.data[y * W + x]!));
    expect(worst).toBeLessThan(0.02);
    expect(worst).toBeGreaterThan(0); // it did resample
  });

  it('takes the factor from the card and refuses a card without trainingPixelSize', () => {
    const card = { name: 'm', trainingPixelSize: 4 } as ModelCard;
    expect(pixelScale(8, trainingPixelSizeOf(card))).toBe(2);
    expect(trainingPixelSizeOf({ name: 'old', training: { trainingPixelSize: 5 } } as unknown as ModelCard)).toBe(5);
    expect(() => pixelScale(8, trainingPixelSizeOf({ name: 'old' } as ModelCard), 'the card of old')).toThrow(
      /--pixel-size: the card of old records no trainingPixelSize/,
    );
  });
});
