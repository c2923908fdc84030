/**
 * The pixel-size option of train, predict and evaluate: a model learns at one pixel size (the
 * model card's `trainingPixelSize`, in nm; 4 nm for the ISBI 2012 data), and images of another
 * pixel size are rescaled to it before the model sees them, and the outputs rescaled back. The
 * size comes from the card, never from a constant.
 */
import { EmsegError } from './errors.ts';

/** The factor that brings an image of `pixelSize` nm to the model's pixel size: new size = size * factor. */
export function pixelScale(pixelSize: number, trainingPixelSize: number | undefined, what = 'the model card', name = '--pixel-size'): number {
  if (!(Number.isFinite(pixelSize) && pixelSize > 0)) throw new EmsegError('E_BAD_ARGUMENT', `${name}: expected a size in nm greater than 0, found ${pixelSize}`);
  if (trainingPixelSize === undefined || !(trainingPixelSize > 0)) {
    throw new EmsegError('E_BAD_ARGUMENT', `${name}: ${what} records no trainingPixelSize, so the images cannot be rescaled to it (convert a model trained with --pixel-size)`);
  }
  return pixelSize / trainingPixelSize;
}

/**
 * Segmentation rescales an image at most this much either way: a pixel size from 1/16 to 16 times
 * the card's trainingPixelSize. Beyond it the model would see a picture unlike anything it learned
 * on, and a typo (`pixelSize=2400` for 2.4) would turn a 16x16 upload into gigapixels of work.
 */
export const MAX_PIXEL_SCALE = 16;

/** pixelScale, refusing a factor beyond MAX_PIXEL_SCALE either way, naming the sizes accepted. */
export function segmentationPixelScale(pixelSize: number, trainingPixelSize: number | undefined, what = 'the model card', name = '--pixel-size'): number {
  const factor = pixelScale(pixelSize, trainingPixelSize, what, name);
  if (factor > MAX_PIXEL_SCALE || factor < 1 / MAX_PIXEL_SCALE) {
    const [low, high] = [trainingPixelSize! / MAX_PIXEL_SCALE, trainingPixelSize! * MAX_PIXEL_SCALE];
    throw new EmsegError(
      'E_BAD_ARGUMENT',
      `${name}: expected a size in nm from ${low} to ${high} (${what} records trainingPixelSize ${trainingPixelSize} nm; images are rescaled at most ${MAX_PIXEL_SCALE}x either way), found ${pixelSize}`,
    );
  }
  return factor;
}

/** The rescaled side length (at least 1 pixel). */
export const scaledSize = (size: number, factor: number): number => Math.max(1, Math.round(size * factor));
