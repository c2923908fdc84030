/**
 * Reading images in Node: PNG and JPEG through sharp, TIFF through core/tiff.ts, everything as an
 * ImageStack (PNG/JPEG: one page). Grey stays grey at its depth (8-bit Uint8Array, 16-bit
 * Uint16Array, float TIFF Float32Array); colour becomes grey with core/grey.ts. Every problem is
 * an EmsegError naming the file: E_NOT_FOUND, E_NOT_AN_IMAGE, E_UNSUPPORTED, E_CORRUPT.
 */
import { readFile } from 'node:fs/promises';
import sharp from 'sharp';
import { EmsegError, isEmsegError } from '../core/errors.ts';
import { interleavedToGreyInSteps } from '../core/grey.ts';
import { makeStack, type ImageStack } from '../core/image.ts';
import { probeImage } from '../core/image-probe.ts';
import { decodeTiff } from '../core/tiff.ts';

/** Reads a file's bytes; a missing file is E_NOT_FOUND, a folder E_BAD_ARGUMENT. */
export async function readInputFile(path: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await readFile(path));
  } catch (error) {
    throw inputFileError(path, error);
  }
}

/** The EmsegError for a file system error met while opening or reading input `path` (others unchanged). */
export function inputFileError(path: string, error: unknown): unknown {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT' || code === 'ENOTDIR') return new EmsegError('E_NOT_FOUND', `${path}: no such file`);
  if (code === 'EISDIR') return new EmsegError('E_BAD_ARGUMENT', `${path}: is a folder, expected an image file`);
  if (code === 'EACCES' || code === 'EPERM') return new EmsegError('E_BAD_ARGUMENT', `${path}: cannot be read (permission denied)`);
  return error;
}

async function decodeWithSharp(bytes: Uint8Array, name: string, format: string): Promise<ImageStack> {
  try {
    const meta = await sharp(bytes).metadata();
    const sixteen = meta.depth === 'ushort';
    const grey = meta.space === 'b-w' || meta.space === 'grey16';
    const colourspace = grey ? (sixteen ? 'grey16' : 'b-w') : sixteen ? 'rgb16' : 'srgb';
    const { data, info } = await sharp(bytes)
      .toColourspace(colourspace)
      .raw({ depth: sixteen ? 'ushort' : 'uchar' })
      .toBuffer({ resolveWithObject: true });
    // A view when the 16-bit samples are aligned (no copy of a big buffer on the event loop).
    const samples = !sixteen
      ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
      : data.byteOffset % 2 === 0
        ? new Uint16Array(data.buffer, data.byteOffset, data.byteLength / 2)
        : new Uint16Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength));
    // In steps with pauses: a big colour image converts without stopping the event loop.
    const pause = () => new Promise<void>((resolve) => setImmediate(resolve));
    return makeStack([await interleavedToGreyInSteps(samples, info.width, info.height, info.channels, pause)], name);
  } catch (error) {
    if (isEmsegError(error)) throw error;
    const reason = (error as Error).message.split('\n')[0]!.trim();
    throw new EmsegError('E_CORRUPT', `${name}: ${format.toUpperCase()} cannot be decoded (${reason}): truncated or corrupt`, { cause: error });
  }
}

/** sharp's default input limit (limitInputPixels): 0x3FFF * 0x3FFF pixels. */
const SHARP_PIXEL_LIMIT = 0x3fff * 0x3fff;

/** Decodes PNG, JPEG or TIFF bytes; `name` (usually the path) is used in error messages. */
export async function decodeImageBytes(bytes: Uint8Array, name: string): Promise<ImageStack> {
  const probe = probeImage(bytes, name); // E_NOT_AN_IMAGE / E_CORRUPT from the headers, before decoding
  if (probe.format === 'tiff') return decodeTiff(bytes, name);
  if (probe.totalPixels > SHARP_PIXEL_LIMIT) {
    throw new EmsegError('E_TOO_LARGE', `${name}: ${probe.width}x${probe.height} pixels exceed the limit of ${SHARP_PIXEL_LIMIT} pixels`);
  }
  return decodeWithSharp(bytes, name, probe.format);
}

/** Reads and decodes an image file (PNG, JPEG or TIFF stack). */
export async function readImageFile(path: string): Promise<ImageStack> {
  return decodeImageBytes(await readInputFile(path), path);
}
