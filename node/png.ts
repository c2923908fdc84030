/**
 * PNG encoding with sharp (lossless): 8-bit and 16-bit greyscale images keep their values exactly
 * (written as 1-channel grey PNG, not RGB); RGB(A) pictures (overlays, montages) as 8-bit colour.
 */
import sharp from 'sharp';
import { EmsegError } from '../core/errors.ts';
import type { GreyImage } from '../core/image.ts';
import { isRgbImage, type RgbImage } from '../core/rgb-image.ts';

export interface EncodePngOptions {
  /** zlib level 0 (fastest) to 9 (smallest); lossless either way. Default 6. */
  compressionLevel?: number;
}

/** Encodes an 8/16-bit grey image or an RGB(A) image as PNG. Float32 images are refused (PNG holds integers). */
export async function encodePng(image: GreyImage | RgbImage, options: EncodePngOptions = {}): Promise<Uint8Array> {
  const png = { compressionLevel: options.compressionLevel ?? 6 };
  if (isRgbImage(image)) {
    const raw = { width: image.width, height: image.height, channels: image.channels };
    return new Uint8Array(await sharp(image.data, { raw }).png(png).toBuffer());
  }
  const { width, height, data } = image;
  if (data instanceof Float32Array) {
    throw new EmsegError('E_BAD_ARGUMENT', 'PNG cannot hold float32 pixels; write a TIFF instead or convert to 8/16-bit first');
  }
  const colourspace = data instanceof Uint16Array ? 'grey16' : 'b-w';
  return new Uint8Array(await sharp(data, { raw: { width, height, channels: 1 } }).toColourspace(colourspace).png(png).toBuffer());
}
