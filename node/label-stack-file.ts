/**
 * Reading instance labels from any file that holds them (`emseg visualize --cells`): the uint32
 * TIFF of `emseg predict --output labels` exactly (node/label-tiff.ts), or an 8/16-bit label image
 * (the server's 16-bit PNG of `output=labels`, a uint16 TIFF) through node/image-files.ts. Every
 * pixel must be a whole number from 0 (a float TIFF of whole numbers passes), else an
 * E_BAD_ARGUMENT naming the file, the page and the pixel (a probability map given by mistake).
 */
import { EmsegError } from '../core/errors.ts';
import type { GreyImage } from '../core/image.ts';
import { probeImage } from '../core/image-probe.ts';
import type { LabelStack } from '../core/tiff-write.ts';
import { decodeImageBytes, readInputFile } from './image-files.ts';
import { decodeLabelTiff } from './label-tiff.ts';

/** A page's samples as labels, refusing anything that is not a whole number 0..2^32 - 1. */
function pageLabels(page: GreyImage, name: string, index: number): LabelStack['pages'][number] {
  const { data, width, height } = page;
  if (!(data instanceof Float32Array)) return { width, height, data: Uint32Array.from(data) };
  const labels = new Uint32Array(data.length);
  for (let i = 0; i < data.length; i += 1) {
    const value = data[i]!;
    if (!(Number.isInteger(value) && value >= 0 && value <= 0xffffffff)) {
      throw new EmsegError(
        'E_BAD_ARGUMENT',
        `${name}: page ${index} holds ${value} at x ${i % width}, y ${Math.floor(i / width)}; expected cell labels, whole numbers from 0 (the uint32 TIFF of emseg predict --output labels)`,
      );
    }
    labels[i] = value;
  }
  return { width, height, data: labels };
}

/** Reads every page of a label file (pages of one size: per pixel 0, no cell, or the cell's number). */
export async function readLabelStack(path: string): Promise<LabelStack> {
  const bytes = await readInputFile(path);
  const probe = probeImage(bytes, path);
  if (probe.format === 'tiff' && probe.bitsPerSample === 32 && probe.sampleFormat === 'uint') return decodeLabelTiff(bytes, path);
  const stack = await decodeImageBytes(bytes, path);
  return { width: stack.width, height: stack.height, pages: stack.pages.map((page, i) => pageLabels(page, path, i)) };
}
