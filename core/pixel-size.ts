/**
 * The pixel-size option of train, predict and evaluate: a model learns at one pixel size (the
 * model card's `trainingPixelSize`, in nm; 4 nm for the ISBI 2012 data), and images of another
 * pixel size are rescaled to it before the model sees them, and the outputs rescaled back. The
 * size comes from the card, never from a constant. The input's own size comes from the user
 * (`--pixel-size`, the server's `pixelSize`), else from its file (core/tiff-pixel-size.ts, OME-Zarr
 * scales): `choosePixelSize` decides, for predict, the server and the web demo alike.
 */
import { EmsegError } from './errors.ts';
import type { PixelSize } from './image.ts';
import { metresPerUnit } from './tiff-pixel-size.ts';

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

/**
 * A stated pixel size further than this factor from the model's is not taken (a TIFF's 72 dpi is
 * 352778 nm): it is reported and ignored, and the image is not rescaled.
 */
export const MAX_STATED_SCALE = 16;

/** x of a stated pixel size in nm, or undefined for a unit that is no length. */
export function pixelSizeInNm(size: PixelSize): number | undefined {
  const metres = metresPerUnit(size.unit);
  return metres === undefined ? undefined : Number(((size.x * metres) / 1e-9).toPrecision(12));
}

/** A number in nm for messages: up to 4 significant digits, no exponent. */
const nm = (value: number): string => `${Number(value.toPrecision(4))} nm`;

export interface PixelSizeQuestion {
  /** The size the user gave (nm): wins over the file's. */
  override?: number | undefined;
  /** The size the file states (ImageStack.pixelSize, VolumeSource.pixelSize). */
  stated?: PixelSize | undefined;
  /** The model card's (card-options.ts trainingPixelSizeOf). */
  trainingPixelSize: number | undefined;
  /** Names the input in the line. */
  name: string;
  /** How the user overrides it, for the line and errors: '--pixel-size' (default) or 'pixelSize'. */
  option?: string;
}

export interface PixelSizeChoice {
  /** The input's pixel size in nm to rescale from (to the card's trainingPixelSize), or undefined: no rescaling. */
  pixelSize: number | undefined;
  /** Where it came from: the user's option, the file, or nowhere (no rescaling). */
  source: 'option' | 'file' | 'none';
  /** The rescale factor (new size = size * scale); 1 without rescaling. */
  scale: number;
  /** One line saying which pixel size was used and from where (predict's stderr, the server's header, the web demo's page). */
  line: string;
}

/**
 * Which pixel size an input is segmented at: the user's, else the one its file states when the
 * card records the model's (rescaled to it), else none (today's behaviour: no rescaling). An
 * override without a trainingPixelSize on the card is an error (pixelScale); a stated size without
 * one, or implausibly far from it (MAX_STATED_SCALE), is reported in the line and not used.
 */
export function choosePixelSize(question: PixelSizeQuestion): PixelSizeChoice {
  const { override, stated, trainingPixelSize, name } = question;
  const option = question.option ?? '--pixel-size';
  const statedNm = stated ? pixelSizeInNm(stated) : undefined;
  const model = trainingPixelSize === undefined ? undefined : nm(trainingPixelSize);
  const rescaled = (scale: number) => (scale === 1 ? `the model's ${model}, not rescaled` : `rescaled x${Number(scale.toPrecision(4))} to the model's ${model}`);
  if (override !== undefined) {
    const scale = pixelScale(override, trainingPixelSize, 'the model card');
    const differs = statedNm !== undefined && Math.abs(statedNm - override) > 1e-6 * override ? `; ${name} states ${nm(statedNm)}` : '';
    return { pixelSize: override, source: 'option', scale, line: `pixel size ${nm(override)} (from ${option}${differs}): ${rescaled(scale)}` };
  }
  const hint = `${option} P to set it`;
  if (!stated || statedNm === undefined) {
    const trained = model === undefined ? '' : ` (the model was trained at ${model}; ${hint})`;
    return { pixelSize: undefined, source: 'none', scale: 1, line: `pixel size: ${name} states none, not rescaled${trained}` };
  }
  const from = `${stated.from ?? 'the file'} of ${name}`;
  const anisotropic = stated.y > 0 && Math.abs(stated.y - stated.x) > 0.01 * stated.x ? `; y is ${nm((statedNm * stated.y) / stated.x)}, x is used` : '';
  if (trainingPixelSize === undefined) {
    return { pixelSize: undefined, source: 'none', scale: 1, line: `pixel size ${nm(statedNm)} (from ${from}${anisotropic}): not rescaled, the model card records no trainingPixelSize` };
  }
  const scale = statedNm / trainingPixelSize;
  if (scale > MAX_STATED_SCALE || scale < 1 / MAX_STATED_SCALE) {
    return {
      pixelSize: undefined,
      source: 'none',
      scale: 1,
      line: `pixel size ${nm(statedNm)} (from ${from}) ignored: more than ${MAX_STATED_SCALE}x from the model's ${model}, not an EM pixel size; not rescaled (${hint})`,
    };
  }
  return { pixelSize: statedNm, source: 'file', scale, line: `pixel size ${nm(statedNm)} (from ${from}${anisotropic}): ${rescaled(scale)}` };
}

/**
 * The pixel size an output states (it overlays its input): the user's override when one was given
 * (z kept from the file), else what the file stated, else none.
 */
export function outputPixelSize(choice: PixelSizeChoice, stated: PixelSize | undefined): PixelSize | undefined {
  if (choice.source !== 'option' || choice.pixelSize === undefined) return stated;
  const statedNm = stated ? pixelSizeInNm(stated) : undefined;
  const z = stated?.z !== undefined && statedNm !== undefined ? (stated.z * statedNm) / stated.x : undefined;
  return { x: choice.pixelSize, y: choice.pixelSize, ...(z !== undefined ? { z: Number(z.toPrecision(12)) } : {}), unit: 'nanometer', from: 'option' };
}
