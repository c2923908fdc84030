/**
 * Reading a uint32 label TIFF (`emseg predict --output labels`, core/tiff-write.ts
 * encodeLabelTiff: one page per slice, unsigned 32-bit samples, one sample per pixel) back into
 * memory, through geotiff (core/tiff.ts reads images, not 32-bit integers). Problems are an
 * EmsegError naming the file: E_NOT_FOUND, E_CORRUPT, E_UNSUPPORTED.
 *
 *   const labels = await readLabelTiff('labels.tif');   // { width, height, pages: [{ width, height, data: Uint32Array }] }
 */
import { fromArrayBuffer } from 'geotiff';
import { EmsegError, isEmsegError } from '../core/errors.ts';
import type { LabelStack } from '../core/tiff-write.ts';
import { readInputFile } from './image-files.ts';

export async function readLabelTiff(path: string): Promise<LabelStack> {
  return decodeLabelTiff(await readInputFile(path), path);
}

/** The same from the file's bytes; `path` names it in errors. */
export async function decodeLabelTiff(bytes: Uint8Array, path: string): Promise<LabelStack> {
  try {
    const tiff = await fromArrayBuffer(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer);
    const count = await tiff.getImageCount();
    const pages: LabelStack['pages'][number][] = [];
    for (let i = 0; i < count; i++) {
      const image = await tiff.getImage(i);
      const bits = image.getBitsPerSample();
      const format = image.getSampleFormat();
      if (image.getSamplesPerPixel() !== 1 || bits !== 32 || format !== 1) {
        throw new EmsegError('E_UNSUPPORTED', `${path}: page ${i}: expected uint32 labels (one 32-bit unsigned sample per pixel, as emseg predict --output labels writes), found ${image.getSamplesPerPixel()} sample(s) of ${bits} bits, SampleFormat ${format}`);
      }
      const [data] = await image.readRasters();
      pages.push({ width: image.getWidth(), height: image.getHeight(), data: data as Uint32Array });
    }
    const { width, height } = pages[0]!;
    pages.forEach((page, i) => {
      if (page.width !== width || page.height !== height) throw new EmsegError('E_UNSUPPORTED', `${path}: page ${i}: expected ${width}x${height} like page 0, found ${page.width}x${page.height}`);
    });
    return { width, height, pages };
  } catch (error) {
    if (isEmsegError(error)) throw error;
    throw new EmsegError('E_CORRUPT', `${path}: not a readable TIFF (${(error as Error).message})`, { cause: error });
  }
}
