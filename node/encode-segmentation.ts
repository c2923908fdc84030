/**
 * Encodes a segmented stack as the output asked for, for `emseg predict` and the server alike:
 * mask as an 8-bit PNG (one page) or TIFF; probability as a float32 TIFF or an 8-bit PNG
 * (core/segmentation-output.ts quantizeProbability); overlay as an RGB PNG of one page with the
 * membranes in red (core/overlay.ts). TIFF answers state the input's pixel size, so they overlay
 * it in Fiji. Page counts are the caller's to check first.
 */
import { EmsegError } from '../core/errors.ts';
import type { ImageStack, PixelSize } from '../core/image.ts';
import type { StackSegmentation } from '../core/inference.ts';
import { MEMBRANE_OVERLAY, overlayMask } from '../core/overlay.ts';
import { quantizeProbability, type OutputFormat, type OutputKind } from '../core/segmentation-output.ts';
import { encodeTiff } from '../core/tiff.ts';
import { encodePng } from './png.ts';

export const CONTENT_TYPES: Record<OutputFormat, string> = { png: 'image/png', tiff: 'image/tiff' };

export interface EncodeSegmentationOptions {
  /** zlib level of PNG answers, 0-9 (node/png.ts; default 6). The server answers at 1: a 512x512 mask in about 1.5 ms instead of 4, 32 KB instead of 12. */
  pngCompressionLevel?: number;
  /** The pixel size a TIFF answer states (core/tiff-write.ts). Default: the input stack's own. */
  pixelSize?: PixelSize | undefined;
}

export async function encodeSegmentation(
  stack: ImageStack,
  result: StackSegmentation,
  output: OutputKind,
  format: OutputFormat,
  name: string,
  options: EncodeSegmentationOptions = {},
): Promise<Uint8Array> {
  const png = options.pngCompressionLevel === undefined ? {} : { compressionLevel: options.pngCompressionLevel };
  if (format === 'png' && stack.pages.length > 1) {
    throw new EmsegError('E_BAD_ARGUMENT', `${name}: has ${stack.pages.length} pages, but a PNG holds one`);
  }
  if (output === 'overlay') {
    if (format !== 'png') throw new EmsegError('E_BAD_ARGUMENT', `${name}: an overlay is written as PNG, not ${format}`);
    return encodePng(overlayMask(stack.pages[0]!, result.mask.pages[0]!, MEMBRANE_OVERLAY), png);
  }
  const tiff = { pixelSize: 'pixelSize' in options ? options.pixelSize : stack.pixelSize };
  if (output === 'mask') return format === 'png' ? encodePng(result.mask.pages[0]!, png) : encodeTiff(result.mask, tiff);
  return format === 'png' ? encodePng(quantizeProbability(result.probability.pages[0]!), png) : encodeTiff(result.probability, tiff);
}
