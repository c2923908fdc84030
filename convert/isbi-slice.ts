/**
 * The real-data input of the parity check and of the partner packages' test tensors: one slice
 * of the ISBI training stack, normalized as the contract says (zero mean, unit variance over the
 * whole slice), as NCHW [1, 1, H, W].
 */
import { existsSync } from 'node:fs';
import type { GreyImage } from '../core/image.ts';
import { EmsegError } from '../core/errors.ts';
import { normalizeSlice } from '../core/normalize.ts';
import { readImageFile } from '../node/image-files.ts';
import { packageFile } from '../node/shipped-model.ts';
import type { ParityInput } from './parity.ts';
import { ISBI_SAMPLE_SLICE, ISBI_TRAIN_IMAGES } from '../core/isbi-data.ts';

export const DEFAULT_PARITY_IMAGE = ISBI_TRAIN_IMAGES;

/** `file` in the working folder, else in the emseg checkout or package this code belongs to, else undefined. */
function findDefault(file: string): string | undefined {
  if (existsSync(file)) return file;
  const inPackage = packageFile(file);
  return existsSync(inPackage) ? inPackage : undefined;
}

/** The default stack: in the working folder, else in the emseg checkout this file belongs to. */
export function defaultParityImage(): string {
  return findDefault(DEFAULT_PARITY_IMAGE) ?? DEFAULT_PARITY_IMAGE;
}

/**
 * The default test image of the partner packages: the ISBI training stack where it is (a checkout),
 * else its slice 0 as the PNG the npm package ships (the same pixels, so the same test tensors).
 */
export function defaultTestImage(): string {
  return findDefault(ISBI_TRAIN_IMAGES) ?? findDefault(ISBI_SAMPLE_SLICE) ?? ISBI_TRAIN_IMAGES;
}

/** The flags that name the stack and the slice, for the errors: convert's by default. */
export interface SliceFlags {
  image: string;
  slice: string;
  /** What else the user may do when the stack is missing. */
  otherwise?: string;
}

const CONVERT_FLAGS: SliceFlags = { image: '--parity-image', slice: '--parity-slice', otherwise: 'or --random-only' };

/** Reads page `index` of an image stack (TIFF, or a single PNG/JPEG as page 0). */
export async function readSlice(path: string, index: number, flags: SliceFlags = CONVERT_FLAGS): Promise<GreyImage> {
  if (!existsSync(path)) {
    throw new EmsegError('E_NOT_FOUND', `${flags.image} ${path}: no such image file; give an existing TIFF stack or PNG/JPEG slice${flags.otherwise ? ` (${flags.otherwise})` : ''}`);
  }
  const stack = await readImageFile(path);
  const page = stack.pages[index];
  if (!page) throw new EmsegError('E_BAD_ARGUMENT', `${flags.slice} ${index}: ${path} has ${stack.pages.length} slice(s) (0-${stack.pages.length - 1})`);
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
