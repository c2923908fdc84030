/**
 * A colour picture for display (montages, overlays, error maps): 8-bit RGB or RGBA, interleaved,
 * row-major. Analysis data stays in GreyImage; this type is only for what people look at.
 */
import type { GreyImage } from './image.ts';

export type Rgb = readonly [number, number, number];

export interface RgbImage {
  readonly width: number;
  readonly height: number;
  /** 3 = RGB, 4 = RGBA. */
  readonly channels: 3 | 4;
  /** `width * height * channels` bytes. */
  readonly data: Uint8Array;
}

export function isRgbImage(value: GreyImage | RgbImage): value is RgbImage {
  return 'channels' in value;
}

/** A blank (filled) RGB image. */
export function makeRgbImage(width: number, height: number, fill: Rgb = [0, 0, 0]): RgbImage {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
    throw new RangeError(`image size: expected positive integers, found ${width}x${height}`);
  }
  const data = new Uint8Array(width * height * 3);
  if (fill[0] !== 0 || fill[1] !== 0 || fill[2] !== 0) {
    for (let i = 0; i < data.length; i += 3) {
      data[i] = fill[0];
      data[i + 1] = fill[1];
      data[i + 2] = fill[2];
    }
  }
  return { width, height, channels: 3, data };
}

export interface DisplayRangeOptions {
  /**
   * Intensity shown as black and as white. Default: [0, 255] for 8-bit images (values unchanged);
   * the image's own minimum and maximum for 16-bit and float images.
   */
  range?: readonly [number, number];
}

/** Maps a grey image of any depth to display bytes 0..255 (linear between `range`, clipped). */
export function toDisplayBytes(image: GreyImage, options: DisplayRangeOptions = {}): Uint8Array {
  const { data } = image;
  if (data instanceof Uint8Array && options.range === undefined) return data;
  let [low, high] = options.range ?? [Infinity, -Infinity];
  if (options.range === undefined) {
    for (let i = 0; i < data.length; i += 1) {
      const v = data[i]!;
      if (v < low) low = v;
      if (v > high) high = v;
    }
  }
  const scale = high > low ? 255 / (high - low) : 0;
  const out = new Uint8Array(data.length);
  for (let i = 0; i < data.length; i += 1) {
    const v = Math.round((data[i]! - low) * scale);
    out[i] = v > 0 ? (v > 255 ? 255 : v) : 0; // NaN -> 0
  }
  return out;
}

/** A grey image as RGB (R = G = B), scaled for display by `toDisplayBytes`. */
export function greyToRgb(image: GreyImage, options: DisplayRangeOptions = {}): RgbImage {
  const grey = toDisplayBytes(image, options);
  const data = new Uint8Array(grey.length * 3);
  for (let i = 0, o = 0; i < grey.length; i += 1, o += 3) {
    const v = grey[i]!;
    data[o] = v;
    data[o + 1] = v;
    data[o + 2] = v;
  }
  return { width: image.width, height: image.height, channels: 3, data };
}
