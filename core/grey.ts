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
  const grey = greyTarget(samples, width, height, channels);
  convertToGrey(samples, channels, grey, 0, width * height);
  return makeImage(width, height, grey);
}

/**
 * interleavedToGrey in steps of about `pixelsPerStep` pixels, awaiting `pause()` between steps:
 * the same result, without holding a thread for the whole image (node/image-files.ts pauses with
 * setImmediate so that a server's event loop keeps answering while a big colour upload converts).
 */
export async function interleavedToGreyInSteps<D extends PixelArray>(
  samples: D,
  width: number,
  height: number,
  channels: number,
  pause: () => Promise<void>,
  pixelsPerStep = 1 << 20,
): Promise<GreyImage<D>> {
  const grey = greyTarget(samples, width, height, channels);
  const count = width * height;
  for (let from = 0; from < count; from += pixelsPerStep) {
    if (from > 0) await pause();
    convertToGrey(samples, channels, grey, from, Math.min(count, from + pixelsPerStep));
  }
  return makeImage(width, height, grey);
}

/** Checks the arguments and allocates the grey output of the samples' type. */
function greyTarget<D extends PixelArray>(samples: D, width: number, height: number, channels: number): D {
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
  return new Type(count);
}

/** Writes grey pixels [from, to) of `grey` from the interleaved samples. */
function convertToGrey<D extends PixelArray>(samples: D, channels: number, grey: D, from: number, to: number): void {
  if (channels <= 2) {
    for (let i = from, s = from * channels; i < to; i += 1, s += channels) grey[i] = samples[s]!;
  } else if (samples instanceof Float32Array) {
    for (let i = from, s = from * channels; i < to; i += 1, s += channels) {
      grey[i] = (R_WEIGHT * samples[s]! + G_WEIGHT * samples[s + 1]! + B_WEIGHT * samples[s + 2]!) / 1000;
    }
  } else {
    for (let i = from, s = from * channels; i < to; i += 1, s += channels) {
      grey[i] = Math.floor((R_WEIGHT * samples[s]! + G_WEIGHT * samples[s + 1]! + B_WEIGHT * samples[s + 2]! + 500) / 1000);
    }
  }
}
