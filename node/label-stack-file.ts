/**
 * Reading instance labels from a file (`emseg visualize --cells`): the uint32 TIFF of `emseg predict
 * --output labels`, or any 8/16-bit label image (the server's 16-bit PNG of `output=labels`, a
 * uint16 TIFF). TIFF is read through node/tiff-volume.ts, which reads 32-bit integer samples (as
 * float32, exact up to 2^24); PNG and JPEG through node/image-files.ts. Every pixel must be a
 * whole number from 0 to 2^24 - 1, else an E_BAD_ARGUMENT naming the file, the page and the pixel
 * (a probability map or an image given by mistake).
 */
import { EmsegError } from '../core/errors.ts';
import type { GreyImage } from '../core/image.ts';
import { looksLikeTiff } from '../core/tiff-ifd.ts';
import type { LabelStack } from '../core/tiff-write.ts';
import { decodeImageBytes, readInputFile } from './image-files.ts';
import { openTiffVolume } from './tiff-volume.ts';

/** Labels above this are not told apart after the float32 of a 32-bit TIFF sample (2^24 - 1). */
export const MAX_FILE_LABEL = 2 ** 24 - 1;

/** A page's samples as labels, refusing anything that is not a whole number 0..MAX_FILE_LABEL. */
function pageLabels(page: GreyImage, name: string, index: number): LabelStack['pages'][number] {
  const { data, width, height } = page;
  if (!(data instanceof Float32Array)) return { width, height, data: Uint32Array.from(data) };
  const labels = new Uint32Array(data.length);
  for (let i = 0; i < data.length; i += 1) {
    const value = data[i]!;
    if (!(Number.isInteger(value) && value >= 0 && value <= MAX_FILE_LABEL)) {
      throw new EmsegError(
        'E_BAD_ARGUMENT',
        `${name}: page ${index} holds ${value} at x ${i % width}, y ${Math.floor(i / width)}; expected cell labels, whole numbers 0-${MAX_FILE_LABEL} (the uint32 TIFF of emseg predict --output labels)`,
      );
    }
    labels[i] = value;
  }
  return { width, height, data: labels };
}

/** Reads every page of a label file (pages of one size: per pixel 0, no cell, or the cell's number). */
export async function readLabelStack(path: string): Promise<LabelStack> {
  const bytes = await readInputFile(path);
  if (!looksLikeTiff(bytes)) {
    const stack = await decodeImageBytes(bytes, path);
    return { width: stack.width, height: stack.height, pages: stack.pages.map((page, i) => pageLabels(page, path, i)) };
  }
  const volume = await openTiffVolume(path);
  try {
    const box = { x: 0, y: 0, width: volume.width, height: volume.height };
    const pages: LabelStack['pages'][number][] = [];
    for (let z = 0; z < volume.depth; z += 1) pages.push(pageLabels(await volume.readRegion(z, box), path, z));
    return { width: volume.width, height: volume.height, pages };
  } finally {
    await volume.close();
  }
}
