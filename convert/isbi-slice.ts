/**
 * The real-data input of the parity check and of the partner packages' test tensors: one slice
 * of the ISBI training stack, normalized as the contract says (zero mean, unit variance over the
 * whole slice), as NCHW [1, 1, H, W].
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { GreyImage } from '../core/image.ts';
import { EmsegError } from '../core/errors.ts';
import { normalizeSlice } from '../core/normalize.ts';
import { readImageFile } from '../node/image-files.ts';
import type { ParityInput } from './parity.ts';
import { ISBI_TRAIN_IMAGES } from '../core/isbi-data.ts';

export const DEFAULT_PARITY_IMAGE = ISBI_TRAIN_IMAGES;

/** The default stack: in the working folder, else in the emseg checkout this file belongs to. */
export function defaultParityImage(): string {
  if (existsSync(DEFAULT_PARITY_IMAGE)) return DEFAULT_PARITY_IMAGE;
  const besideCode = fileURLToPath(new URL(`../${DEFAULT_PARITY_IMAGE}`, import.meta.url));
  return existsSync(besideCode) ? besideCode : DEFAULT_PARITY_IMAGE;
}

/** Reads page `index` of an image stack (TIFF, or a single PNG/JPEG as page 0). */
export async function readSlice(path: string, index: number): Promise<GreyImage> {
  if (!existsSync(path)) {
    throw new EmsegError('E_NOT_FOUND', `${path}: no such image stack for the real-data check (give another stack, or --random-only for convert)`);
  }
  const stack = await readImageFile(path);
  const page = stack.pages[index];
  if (!page) throw new EmsegError('E_BAD_ARGUMENT', `--parity-slice ${index}: ${path} has ${stack.pages.length} slices (0-${stack.pages.length - 1})`);
  return page;
}

/** The contract's preprocessing of one slice, as float32 row-major. */
export function normalizeForModel(image: GreyImage): Float32Array {
  return normalizeSlice(image);
}

export async function isbiParityInput(path: string, index: number): Promise<ParityInput> {
  const image = await readSlice(path, index);
  return {
    label: `${path} slice ${index} (${image.width}x${image.height}, normalized)`,
    data: normalizeForModel(image),
    shape: [1, 1, image.height, image.width],
  };
}
