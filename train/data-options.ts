/**
 * Options of `emseg train` on how to read the labels and the pixels of the training data:
 * `--ignore <value>` (label value of unlabelled pixels, counted in neither loss nor metrics),
 * `--invert-labels` (for labels whose membranes are 255) and `--pixel-size <nm>` (the data's
 * pixel size, rescaled to the model's training pixel size).
 */
import { EmsegError } from '../core/errors.ts';

export interface DataOptions {
  /** Label value of unlabelled pixels (1-254), null = every pixel labelled. Default null. */
  ignore: number | null;
  /** Labels have membranes = 255 and cell interior = 0: swap them on reading. Default false. */
  invertLabels: boolean;
  /** Pixel size of the training data in nm, null = the model's training pixel size (no rescaling). Default null. */
  pixelSize: number | null;
}

export const DATA_OPTION_DEFAULTS: DataOptions = { ignore: null, invertLabels: false, pixelSize: null };


export function resolveDataOptions(input: Partial<DataOptions>): DataOptions {
  const ignore = input.ignore ?? null;
  if (ignore !== null && !(Number.isInteger(ignore) && ignore >= 1 && ignore <= 254)) {
    throw new EmsegError('E_BAD_ARGUMENT', `ignore (--ignore): expected a label value from 1 to 254 (0 and 255 are the classes), found ${ignore}`);
  }
  const invertLabels = input.invertLabels ?? false;
  if (typeof invertLabels !== 'boolean') throw new EmsegError('E_BAD_ARGUMENT', `invertLabels (--invert-labels): expected true or false, found ${String(invertLabels)}`);
  const pixelSize = input.pixelSize ?? null;
  if (pixelSize !== null && !(Number.isFinite(pixelSize) && pixelSize > 0 && pixelSize <= 1e6)) {
    throw new EmsegError('E_BAD_ARGUMENT', `pixelSize (--pixel-size): expected a size in nm greater than 0, found ${pixelSize}`);
  }
  return { ignore, invertLabels, pixelSize };
}
