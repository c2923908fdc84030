/**
 * The pixel-size option of train, predict and evaluate: a model learns at one pixel size (the
 * model card's `trainingPixelSize`, in nm; 4 nm for the ISBI 2012 data), and images of another
 * pixel size are rescaled to it before the model sees them, and the outputs rescaled back. The
 * size comes from the card, never from a constant.
 */
import { EmsegError } from './errors.ts';

/** The factor that brings an image of `pixelSize` nm to the model's pixel size: new size = size * factor. */
export function pixelScale(pixelSize: number, trainingPixelSize: number | undefined, what = 'the model card'): number {
  if (!(Number.isFinite(pixelSize) && pixelSize > 0)) throw new EmsegError('E_BAD_ARGUMENT', `--pixel-size: expected a size in nm greater than 0, found ${pixelSize}`);
  if (trainingPixelSize === undefined || !(trainingPixelSize > 0)) {
    throw new EmsegError('E_BAD_ARGUMENT', `--pixel-size: ${what} records no trainingPixelSize, so the images cannot be rescaled to it (convert a model trained with --pixel-size)`);
  }
  return pixelSize / trainingPixelSize;
}

/** The rescaled side length (at least 1 pixel). */
export const scaledSize = (size: number, factor: number): number => Math.max(1, Math.round(size * factor));
