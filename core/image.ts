/**
 * The image types of the whole project: one greyscale image (a slice) and a stack of them.
 * Platform-neutral: typed arrays only, no Node or DOM types.
 */
import { EmsegError } from './errors.ts';

/** 8 and 16 are unsigned integers; 32 is float32. */
export type BitDepth = 8 | 16 | 32;

export type PixelArray = Uint8Array | Uint16Array | Float32Array;

/** A greyscale image, row-major, `data.length === width * height`. */
export interface GreyImage<D extends PixelArray = PixelArray> {
  readonly width: number;
  readonly height: number;
  readonly data: D;
}

/** Physical size of one pixel (voxel), as stated by a file (TIFF tags, ImageJ, OME-XML, OME-Zarr). */
export interface PixelSize {
  /** Along x (columns) and y (rows), in `unit`. */
  x: number;
  y: number;
  /** Between slices, when the file states it. */
  z?: number;
  /** An OME/UDUNITS length unit name, e.g. 'nanometer' or 'micrometer'. */
  unit: string;
  /** Where the file states it, for messages, e.g. 'ImageJ description' (core/tiff-pixel-size.ts). */
  from?: string;
}

/** Several greyscale images of the same size and kind (the pages of a TIFF stack). */
export interface ImageStack<D extends PixelArray = PixelArray> {
  readonly width: number;
  readonly height: number;
  readonly pages: readonly GreyImage<D>[];
  /** The pixel size the file states (decoders set it; outputs written from the stack carry it). */
  readonly pixelSize?: PixelSize;
}

export function bitDepthOf(data: PixelArray): BitDepth {
  if (data instanceof Uint8Array) return 8;
  if (data instanceof Uint16Array) return 16;
  return 32;
}

/** Builds an image, checking that the pixel count matches the size. */
export function makeImage<D extends PixelArray>(width: number, height: number, data: D): GreyImage<D> {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
    throw new RangeError(`image size: expected positive integers, found ${width}x${height}`);
  }
  if (data.length !== width * height) {
    throw new RangeError(`image data: expected ${width * height} pixels for ${width}x${height}, found ${data.length}`);
  }
  return { width, height, data };
}

/** Builds a stack, checking that every page has the stack's size. `what` names the source in errors. */
export function makeStack<D extends PixelArray>(pages: readonly GreyImage<D>[], what = 'stack'): ImageStack<D> {
  const first = pages[0];
  if (!first) throw new EmsegError('E_CORRUPT', `${what}: has no pages`);
  pages.forEach((page, index) => {
    if (page.width !== first.width || page.height !== first.height) {
      throw new EmsegError(
        'E_SIZE_MISMATCH',
        `${what}: page ${index} is ${page.width}x${page.height}, page 0 is ${first.width}x${first.height}`,
      );
    }
  });
  return { width: first.width, height: first.height, pages };
}

/** What assertSameShape compares: the page size and the number of pages (an ImageStack, or pages of labels). */
export interface StackShape {
  readonly width: number;
  readonly height: number;
  readonly pages: { readonly length: number };
}

/** Checks that two stacks (e.g. images and labels) have the same page count and page size. */
export function assertSameShape(a: StackShape, aName: string, b: StackShape, bName: string): void {
  if (a.width !== b.width || a.height !== b.height || a.pages.length !== b.pages.length) {
    throw new EmsegError(
      'E_SIZE_MISMATCH',
      `${bName}: ${b.pages.length} pages of ${b.width}x${b.height} do not match ${aName}: ${a.pages.length} pages of ${a.width}x${a.height}`,
    );
  }
}
