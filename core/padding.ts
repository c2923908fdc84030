/**
 * Mirror padding and cropping of float images, the contract's answer to sizes the model cannot
 * take (CONVENTIONS.md: "mirror-pad to the next multiple, crop back").
 *
 * Mirror (reflect) padding repeats the image reflected about its edge pixel, without doubling the
 * edge (numpy's and PyTorch's `reflect`): a row `a b c d` padded by 2 on each side reads
 * `c b | a b c d | c b`. Pads wider than the image keep bouncing between the two edges, so any
 * pad works even on a 1-pixel-wide image (which simply repeats).
 *
 * Platform-neutral: typed arrays only.
 */
import type { GreyImage } from './image.ts';

/** Pixels added on each side of an image. */
export interface Padding {
  top: number;
  bottom: number;
  left: number;
  right: number;
}

/** A rectangle inside an image, in pixels. */
export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** The index of the pixel that position `i` (possibly outside 0..n-1) mirrors to, reflecting about the edge pixels. */
export function reflectIndex(i: number, n: number): number {
  if (n === 1) return 0;
  const period = 2 * (n - 1);
  const k = (((i % period) + period) % period) | 0; // | 0: never -0
  return k < n ? k : period - k;
}

/** Smallest multiple of `multiple` that is >= `size`. */
export function roundUpToMultiple(size: number, multiple: number): number {
  return Math.ceil(size / multiple) * multiple;
}

function checkPositiveInteger(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 1) throw new RangeError(`${name}: expected a positive integer, found ${value}`);
}

/**
 * The padding that brings width and height up to at least `minWidth`/`minHeight` and to a
 * multiple of `multiple`, all of it after the image (bottom and right). Padding after, not
 * around: pixel (x, y) keeps its position, so its phase relative to the model's pooling grid
 * (multiples of 2^depth) does not depend on the image's size, and a tiled run and a whole-image
 * run see every pixel at the same phase (a U-Net is not invariant to shifts by other amounts).
 */
export function paddingToMultiple(width: number, height: number, multiple: number, minWidth = 1, minHeight = 1): Padding {
  checkPositiveInteger('multiple', multiple);
  const targetWidth = roundUpToMultiple(Math.max(width, minWidth), multiple);
  const targetHeight = roundUpToMultiple(Math.max(height, minHeight), multiple);
  return { top: 0, bottom: targetHeight - height, left: 0, right: targetWidth - width };
}

/** Mirror-pads an image by `padding`. Returns the same image when the padding is all zeros. */
export function mirrorPad(image: GreyImage<Float32Array>, padding: Padding): GreyImage<Float32Array> {
  const { top, bottom, left, right } = padding;
  for (const [name, value] of Object.entries(padding)) {
    if (!Number.isInteger(value) || value < 0) throw new RangeError(`padding.${name}: expected an integer >= 0, found ${value}`);
  }
  if (top === 0 && bottom === 0 && left === 0 && right === 0) return image;
  const { width, height, data } = image;
  const outWidth = width + left + right;
  const outHeight = height + top + bottom;
  const out = new Float32Array(outWidth * outHeight);
  const columns = new Int32Array(outWidth);
  for (let x = 0; x < outWidth; x++) columns[x] = reflectIndex(x - left, width);
  for (let y = 0; y < outHeight; y++) {
    const row = reflectIndex(y - top, height) * width;
    const base = y * outWidth;
    out.set(data.subarray(row, row + width), base + left);
    for (let x = 0; x < left; x++) out[base + x] = data[row + columns[x]!]!;
    for (let x = left + width; x < outWidth; x++) out[base + x] = data[row + columns[x]!]!;
  }
  return { width: outWidth, height: outHeight, data: out };
}

/** Copies the pixels of `box` out of an image (the box must lie inside it). */
export function crop<D extends Float32Array | Uint8Array>(image: GreyImage<D>, box: Box): GreyImage<D> {
  const { x, y, width, height } = box;
  if (x < 0 || y < 0 || width < 1 || height < 1 || x + width > image.width || y + height > image.height) {
    throw new RangeError(
      `crop box: expected a box inside ${image.width}x${image.height}, found ${width}x${height} at (${x}, ${y})`,
    );
  }
  if (x === 0 && y === 0 && width === image.width && height === image.height) return image;
  const out = new (image.data.constructor as new (n: number) => D)(width * height);
  for (let row = 0; row < height; row++) {
    const start = (y + row) * image.width + x;
    out.set(image.data.subarray(start, start + width), row * width);
  }
  return { width, height, data: out };
}

/** The box of the original image inside an image padded by `padding`. */
export function unpaddedBox(width: number, height: number, padding: Padding): Box {
  return { x: padding.left, y: padding.top, width, height };
}

/** Mirror-pads to a multiple (and at least a minimum size); returns the padded image and the box to crop back. */
export function padToMultiple(
  image: GreyImage<Float32Array>,
  multiple: number,
  minWidth = 1,
  minHeight = 1,
): { padded: GreyImage<Float32Array>; box: Box } {
  const padding = paddingToMultiple(image.width, image.height, multiple, minWidth, minHeight);
  return { padded: mirrorPad(image, padding), box: unpaddedBox(image.width, image.height, padding) };
}
