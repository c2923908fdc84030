/**
 * Colour -> grey, the one conversion the project uses wherever a colour image (RGB or RGBA TIFF,
 * PNG or JPEG) has to become a greyscale slice. Luma weights of ITU-R BT.601 (0.299 R + 0.587 G +
 * 0.114 B), the same as Pillow's `convert('L')`; alpha is ignored. A pixel with R = G = B keeps its
 * value exactly, so a grey image stored as RGB comes back unchanged.
 */
import { makeImage, type GreyImage, type PixelArray } from './image.ts';

/** Integer weights (per mille) so that integer images convert without float rounding drift. */
const R_WEIGHT = 299;
const G_WEIGHT = 587;
const B_WEIGHT = 114;

/**
 * Converts interleaved samples (`channels` per pixel: 1 grey, 2 grey+alpha, 3 RGB, 4 RGBA) to one
 * grey image of the same sample type. Integer types round to nearest; float32 is weighted exactly.
 */
export function interleavedToGrey<D extends PixelArray>(
  samples: D,
  width: number,
  height: number,
  channels: number,
): GreyImage<D> {
  if (!Number.isInteger(channels) || channels < 1 || channels > 4) {
    throw new RangeError(`channels: expected 1, 2, 3 or 4, found ${channels}`);
  }
  const count = width * height;
  if (samples.length !== count * channels) {
    throw new RangeError(
      `samples: expected ${count * channels} values for ${width}x${height}x${channels}, found ${samples.length}`,
    );
  }
  const Type = samples.constructor as new (length: number) => D;
  const grey = new Type(count);
  if (channels <= 2) {
    for (let i = 0, s = 0; i < count; i += 1, s += channels) grey[i] = samples[s]!;
  } else if (samples instanceof Float32Array) {
    for (let i = 0, s = 0; i < count; i += 1, s += channels) {
      grey[i] = (R_WEIGHT * samples[s]! + G_WEIGHT * samples[s + 1]! + B_WEIGHT * samples[s + 2]!) / 1000;
    }
  } else {
    for (let i = 0, s = 0; i < count; i += 1, s += channels) {
      grey[i] = Math.floor((R_WEIGHT * samples[s]! + G_WEIGHT * samples[s + 1]! + B_WEIGHT * samples[s + 2]! + 500) / 1000);
    }
  }
  return makeImage(width, height, grey);
}
