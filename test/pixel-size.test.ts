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
import { choosePixelSize, outputPixelSize } from '../core/pixel-size.ts';
import { decodeTiff, encodeTiff } from '../core/tiff.ts';
import { Tag } from '../core/tiff-ifd.ts';
import { imagejCalibration } from '../core/tiff-pixel-size.ts';

/** A one-page 8-bit TIFF from encodeTiff, with its resolution tags rewritten (it writes them at fixed places). */
function tiffWithResolution(x: [number, number], unit: number, imagej = false): Uint8Array {
  const bytes = encodeTiff({ width: 4, height: 4, pages: [{ width: 4, height: 4, data: new Uint8Array(16) }] }, { imagej });
  const view = new DataView(bytes.buffer);
  const entries = view.getUint16(8, true);
  for (let i = 0; i < entries; i++) {
    const e = 10 + i * 12;
    const tag = view.getUint16(e, true);
    if (tag === Tag.XResolution || tag === Tag.YResolution) {
      const at = view.getUint32(e + 8, true);
      view.setUint32(at, x[0], true);
      view.setUint32(at + 4, x[1], true);
    }
    if (tag === Tag.ResolutionUnit) view.setUint16(e + 8, unit, true);
  }
  return bytes;
}

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

  it('reads the pixel size a TIFF states: resolution in inch or cm yes, unit none or 1/1 no', () => {
    expect(decodeTiff(tiffWithResolution([2500000, 1], 3), 'cm').pixelSize).toEqual({ x: 4, y: 4, unit: 'nanometer', from: 'resolution tags (per centimeter)' });
    expect(decodeTiff(tiffWithResolution([6350000, 1], 2), 'inch').pixelSize).toMatchObject({ x: 4, unit: 'nanometer' });
    expect(decodeTiff(tiffWithResolution([1, 1], 1), 'none').pixelSize).toBeUndefined();
    expect(decodeTiff(tiffWithResolution([250, 1], 1), 'no unit').pixelSize).toBeUndefined();
    // An ImageJ description without unit= states nothing either (encodeTiff writes none without a pixel size).
    expect(decodeTiff(tiffWithResolution([1, 1], 1, true), 'imagej').pixelSize).toBeUndefined();
  });

  it('writes the pixel size the ImageJ way and the plain-TIFF way, and reads both back', () => {
    const page = { width: 4, height: 4, data: new Uint8Array(16) };
    const stated = { x: 8, y: 8, z: 50, unit: 'nanometer' };
    expect(decodeTiff(encodeTiff({ width: 4, height: 4, pages: [page, page] }, { pixelSize: stated }), 'ij').pixelSize).toEqual({ ...stated, from: 'ImageJ description' });
    expect(decodeTiff(encodeTiff({ width: 4, height: 4, pages: [page] }, { pixelSize: stated, imagej: false }), 'plain').pixelSize).toEqual({ x: 8, y: 8, unit: 'nanometer', from: 'resolution tags (per centimeter)' });
    // The stack's own pixel size goes along by default; micrometres stay micrometres.
    const micron = decodeTiff(encodeTiff({ width: 4, height: 4, pages: [page], pixelSize: { x: 0.5, y: 0.5, unit: 'micrometer' } }), 'um').pixelSize;
    expect(micron).toEqual({ x: 0.5, y: 0.5, unit: 'micrometer', from: 'ImageJ description' });
    expect(imagejCalibration({ x: 0.004, y: 0.004, z: 0.05, unit: 'micrometer' })).toEqual({ lines: ['unit=micron', 'spacing=0.05'], xResolution: 250, yResolution: 250 });
  });

  it('chooses the pixel size: the option, else the file, else none; implausible sizes are ignored', () => {
    const imagej = { x: 8, y: 8, unit: 'nanometer', from: 'ImageJ description' };
    const file = choosePixelSize({ stated: imagej, trainingPixelSize: 4, name: 'a.tif' });
    expect(file).toEqual({ pixelSize: 8, source: 'file', scale: 2, line: "pixel size 8 nm (from ImageJ description of a.tif): rescaled x2 to the model's 4 nm" });
    const option = choosePixelSize({ override: 4, stated: imagej, trainingPixelSize: 4, name: 'a.tif', option: 'pixelSize' });
    expect(option).toMatchObject({ pixelSize: 4, source: 'option', scale: 1, line: "pixel size 4 nm (from pixelSize; a.tif states 8 nm): the model's 4 nm, not rescaled" });
    expect(choosePixelSize({ stated: { x: 0.008, y: 0.008, unit: 'micrometer' }, trainingPixelSize: 4, name: 'b' })).toMatchObject({ pixelSize: 8, scale: 2 });
    // 72 dpi is 352778 nm: no EM pixel size.
    const dpi = choosePixelSize({ stated: { x: 352777.777778, y: 352777.777778, unit: 'nanometer', from: 'resolution tags (per inch)' }, trainingPixelSize: 4, name: 'c.tif' });
    expect(dpi).toMatchObject({ pixelSize: undefined, source: 'none', scale: 1 });
    expect(dpi.line).toMatch(/^pixel size 352800 nm \(from resolution tags \(per inch\) of c\.tif\) ignored: more than 16x from the model's 4 nm/);
    expect(choosePixelSize({ stated: imagej, trainingPixelSize: undefined, name: 'd' })).toMatchObject({ pixelSize: undefined, scale: 1, line: 'pixel size 8 nm (from ImageJ description of d): not rescaled, the model card records no trainingPixelSize' });
    expect(choosePixelSize({ trainingPixelSize: 4, name: 'e.png' }).line).toBe("pixel size: e.png states none, not rescaled (the model was trained at 4 nm; --pixel-size P to set it)");
    expect(() => choosePixelSize({ override: 8, trainingPixelSize: undefined, name: 'f' })).toThrow(/records no trainingPixelSize/);
    // The output states what was used.
    expect(outputPixelSize(option, { ...imagej, z: 100 })).toEqual({ x: 4, y: 4, z: 100, unit: 'nanometer', from: 'option' });
    expect(outputPixelSize(file, imagej)).toBe(imagej);
  });
});
