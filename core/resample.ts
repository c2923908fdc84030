/**
 * Resampling a greyscale image to another size, pixel centres aligned (the centre of output
 * pixel x lies at input coordinate (x + 0.5) * inWidth / outWidth - 0.5, edges clamped): bilinear
 * for intensities and probabilities, nearest for labels (which must keep their values).
 * Platform-neutral; used for the pixel-size option (core/pixel-size.ts), in memory here and region
 * by region for large volumes (core/resampled-volume.ts, the same pixels).
 */
import type { GreyImage, PixelArray } from './image.ts';

function checkSize(width: number, height: number): void {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new RangeError(`resample size: expected positive integers, found ${width}x${height}`);
  }
}

/** The input coordinate of output pixel `o`'s centre (edges clamped): the one rule of every resampling here. */
export const sourceCoordinate = (o: number, inSize: number, outSize: number): number => Math.min(inSize - 1, Math.max(0, (o + 0.5) * (inSize / outSize) - 0.5));
const source = sourceCoordinate;

/** Bilinear resampling to width x height, as float32. */
export function resampleBilinear(image: GreyImage, width: number, height: number): GreyImage<Float32Array> {
  checkSize(width, height);
  const { width: w, height: h, data } = image;
  const out = new Float32Array(width * height);
  for (let y = 0; y < height; y++) {
    const sy = source(y, h, height);
    const y0 = Math.floor(sy);
    const y1 = Math.min(h - 1, y0 + 1);
    const ty = sy - y0;
    for (let x = 0; x < width; x++) {
      const sx = source(x, w, width);
      const x0 = Math.floor(sx);
      const x1 = Math.min(w - 1, x0 + 1);
      const tx = sx - x0;
      const top = data[y0 * w + x0]! * (1 - tx) + data[y0 * w + x1]! * tx;
      const bottom = data[y1 * w + x0]! * (1 - tx) + data[y1 * w + x1]! * tx;
      out[y * width + x] = top * (1 - ty) + bottom * ty;
    }
  }
  return { width, height, data: out };
}

/** Nearest-neighbour resampling to width x height, keeping the pixel type and values. */
export function resampleNearest<D extends PixelArray>(image: GreyImage<D>, width: number, height: number): GreyImage<D> {
  checkSize(width, height);
  const { width: w, height: h, data } = image;
  const out = new (data.constructor as new (n: number) => D)(width * height);
  for (let y = 0; y < height; y++) {
    const sy = Math.round(source(y, h, height));
    for (let x = 0; x < width; x++) out[y * width + x] = data[sy * w + Math.round(source(x, w, width))]!;
  }
  return { width, height, data: out };
}
