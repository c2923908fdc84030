/**
 * Reading the user's file in the browser into an ImageStack, the same type the server decodes
 * to: the format is sniffed from the bytes (core/image-probe.ts, which also gives the clear
 * EmsegError for a file that is no image or has a broken header); TIFF through core/tiff.ts;
 * PNG and JPEG through the browser's decoder (createImageBitmap, no colour management, no alpha
 * premultiplication), then to grey with core/grey.ts (R = G = B keeps its value exactly).
 */
import { EmsegError, isEmsegError } from '../../core/errors.ts';
import { interleavedToGrey } from '../../core/grey.ts';
import { makeStack, type ImageStack } from '../../core/image.ts';
import { probeImage } from '../../core/image-probe.ts';
import { decodeTiff } from '../../core/tiff.ts';

export interface DecodeLimits {
  /** Largest width x height of one page. Default 64 Mpx (the server's default). */
  maxPixels: number;
  /** Largest sum over the pages. Default 256 Mpx. */
  maxStackPixels: number;
}

export const DEFAULT_DECODE_LIMITS: DecodeLimits = { maxPixels: 64 * 2 ** 20, maxStackPixels: 256 * 2 ** 20 };

async function decodeWithBrowser(bytes: Uint8Array, name: string, format: 'png' | 'jpeg'): Promise<ImageStack> {
  let bitmap: ImageBitmap;
  try {
    const blob = new Blob([bytes as Uint8Array<ArrayBuffer>], { type: format === 'png' ? 'image/png' : 'image/jpeg' });
    bitmap = await createImageBitmap(blob, { colorSpaceConversion: 'none', premultiplyAlpha: 'none' });
  } catch (error) {
    throw new EmsegError('E_CORRUPT', `${name}: ${format.toUpperCase()} cannot be decoded (${(error as Error).message}): truncated or corrupt`, {
      cause: error,
    });
  }
  const { width, height } = bitmap;
  const canvas = new OffscreenCanvas(width, height);
  const context = canvas.getContext('2d', { willReadFrequently: true });
  if (!context) throw new EmsegError('E_BACKEND', `${name}: this browser gives no 2D canvas to read the pixels`);
  context.drawImage(bitmap, 0, 0);
  bitmap.close();
  const rgba = new Uint8Array(context.getImageData(0, 0, width, height).data.buffer);
  return makeStack([interleavedToGrey(rgba, width, height, 4)], name);
}

/** Decodes PNG, JPEG or TIFF bytes; `name` (the file name) is used in error messages. */
export async function decodeImageFile(bytes: Uint8Array, name: string, limits: DecodeLimits = DEFAULT_DECODE_LIMITS): Promise<ImageStack> {
  const probe = probeImage(bytes, name);
  if (probe.width * probe.height > limits.maxPixels || probe.totalPixels > limits.maxStackPixels) {
    throw new EmsegError(
      'E_TOO_LARGE',
      `${name}: ${probe.width}x${probe.height} x ${probe.pages} page(s) is more than this page handles (${limits.maxPixels / 2 ** 20} Mpx per page, ${limits.maxStackPixels / 2 ** 20} Mpx in all); use the emseg CLI or server`,
    );
  }
  if (probe.format === 'tiff') return decodeTiff(bytes, name);
  try {
    return await decodeWithBrowser(bytes, name, probe.format);
  } catch (error) {
    if (isEmsegError(error)) throw error;
    throw new EmsegError('E_CORRUPT', `${name}: cannot be decoded (${(error as Error).message})`, { cause: error });
  }
}
