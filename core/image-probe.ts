/**
 * What an image file declares about itself, read from its headers only: no pixel is decoded and
 * no per-pixel memory is allocated, so a server can refuse a small file that declares
 * 100000 x 100000 pixels or 2000 pages before decoding it. TIFF page counts walk the IFD chain
 * with a loop guard (core/tiff-ifd.ts).
 */
import { EmsegError } from './errors.ts';
import { directoryLimitForPages, imagejImageCount, isReducedResolution, looksLikeTiff, readTiffStructure, Tag, tagNumber, tagNumbers } from './tiff-ifd.ts';

export type ImageFormat = 'png' | 'jpeg' | 'tiff';
export type SampleFormat = 'uint' | 'int' | 'float' | 'other';

export interface ImageProbe {
  readonly format: ImageFormat;
  /** Size of the first page. */
  readonly width: number;
  readonly height: number;
  /** Full-resolution pages (TIFF reduced-resolution pages are not counted); 1 for PNG and JPEG. */
  readonly pages: number;
  /** Sum of width x height over all pages: what decoding would allocate per sample. */
  readonly totalPixels: number;
  /** Of the first page. PNG palette images report the index depth. */
  readonly bitsPerSample: number;
  readonly samplesPerPixel: number;
  readonly sampleFormat: SampleFormat;
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

function startsWith(bytes: Uint8Array, prefix: readonly number[]): boolean {
  return bytes.length >= prefix.length && prefix.every((b, i) => bytes[i] === b);
}

/** The image format the bytes start with, or undefined. */
export function sniffImageFormat(bytes: Uint8Array): ImageFormat | undefined {
  if (startsWith(bytes, PNG_SIGNATURE)) return 'png';
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return 'jpeg';
  if (looksLikeTiff(bytes)) return 'tiff';
  return undefined;
}

function hexStart(bytes: Uint8Array): string {
  return Array.from(bytes.subarray(0, 4), (b) => b.toString(16).padStart(2, '0')).join(' ');
}

function probePng(bytes: Uint8Array, name: string): ImageProbe {
  const corrupt = () => new EmsegError('E_CORRUPT', `${name}: PNG header is truncated or has no IHDR chunk (${bytes.length} bytes)`);
  if (bytes.length < 33) throw corrupt();
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const type = String.fromCharCode(bytes[12]!, bytes[13]!, bytes[14]!, bytes[15]!);
  if (type !== 'IHDR' || view.getUint32(8) !== 13) throw corrupt();
  const width = view.getUint32(16);
  const height = view.getUint32(20);
  const bitsPerSample = bytes[24]!;
  const colourType = bytes[25]!;
  const samplesPerPixel = ({ 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 } as Record<number, number>)[colourType];
  if (samplesPerPixel === undefined || width === 0 || height === 0) {
    throw new EmsegError('E_CORRUPT', `${name}: PNG header declares colour type ${colourType}, size ${width}x${height}`);
  }
  return { format: 'png', width, height, pages: 1, totalPixels: width * height, bitsPerSample, samplesPerPixel, sampleFormat: 'uint' };
}

/** What a JPEG frame header (SOFn) declares. */
export interface JpegFrame {
  readonly width: number;
  readonly height: number;
  readonly bitsPerSample: number;
  readonly components: number;
}

/**
 * The first frame header of a JPEG stream (starting with SOI), walking the marker segments only;
 * undefined when the stream ends or a scan starts before any frame header. A broken marker is
 * E_CORRUPT naming `name`.
 */
export function readJpegFrame(bytes: Uint8Array, name = 'JPEG data'): JpegFrame | undefined {
  let i = 2;
  while (i + 4 <= bytes.length) {
    if (bytes[i] !== 0xff) {
      throw new EmsegError('E_CORRUPT', `${name}: JPEG marker expected at byte ${i}, found ${bytes[i]!.toString(16)}`);
    }
    const marker = bytes[i + 1]!;
    if (marker === 0xff) {
      i += 1; // fill byte
      continue;
    }
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd8)) {
      i += 2; // standalone markers (and a second SOI where TIFF JPEGTables and a strip are joined)
      continue;
    }
    if (marker === 0xd9 || marker === 0xda) return undefined; // end of image or start of scan before any frame header
    const length = (bytes[i + 2]! << 8) | bytes[i + 3]!;
    const isFrame = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (isFrame) {
      if (i + 10 > bytes.length) return undefined;
      return {
        bitsPerSample: bytes[i + 4]!,
        height: (bytes[i + 5]! << 8) | bytes[i + 6]!,
        width: (bytes[i + 7]! << 8) | bytes[i + 8]!,
        components: bytes[i + 9]!,
      };
    }
    if (length < 2) throw new EmsegError('E_CORRUPT', `${name}: JPEG segment at byte ${i} has length ${length}`);
    i += 2 + length;
  }
  return undefined;
}

function probeJpeg(bytes: Uint8Array, name: string): ImageProbe {
  const frame = readJpegFrame(bytes, name);
  if (!frame) throw new EmsegError('E_CORRUPT', `${name}: JPEG ends (${bytes.length} bytes) before its frame header: truncated or corrupt`);
  const { width, height, bitsPerSample, components } = frame;
  return { format: 'jpeg', width, height, pages: 1, totalPixels: width * height, bitsPerSample, samplesPerPixel: components, sampleFormat: 'uint' };
}

function probeTiff(bytes: Uint8Array, name: string, options: ProbeOptions): ImageProbe {
  const maxDirectories = options.maxPages === undefined ? undefined : directoryLimitForPages(options.maxPages);
  const { reader, structure } = readTiffStructure(bytes, name, maxDirectories === undefined ? {} : { maxDirectories });
  const pages = structure.directories.filter((dir) => !isReducedResolution(reader, dir));
  const first = pages[0];
  if (!first) throw reader.corrupt('no full-resolution page');
  let totalPixels = 0;
  for (const dir of pages) {
    totalPixels +=
      tagNumber(reader, dir, Tag.ImageWidth, 0, `page ${dir.index} ImageWidth`) *
      tagNumber(reader, dir, Tag.ImageLength, 0, `page ${dir.index} ImageLength`);
  }
  // An ImageJ stack stored with one IFD declares its page count in the description (see core/tiff.ts).
  let pageCount = pages.length;
  if (pageCount === 1 && tagNumber(reader, first, Tag.Compression, 1, 'page 0 Compression') === 1) {
    pageCount = imagejImageCount(reader, first);
    totalPixels *= pageCount;
  }
  const width = tagNumber(reader, first, Tag.ImageWidth, 0, 'page 0 ImageWidth');
  const height = tagNumber(reader, first, Tag.ImageLength, 0, 'page 0 ImageLength');
  if (!(width > 0 && height > 0)) throw reader.corrupt(`page 0 has no image size (${width}x${height})`);
  const bitsPerSample = tagNumber(reader, first, Tag.BitsPerSample, 1, 'page 0 BitsPerSample');
  const samplesPerPixel = tagNumber(reader, first, Tag.SamplesPerPixel, 1, 'page 0 SamplesPerPixel');
  const format = tagNumber(reader, first, Tag.SampleFormat, 1, 'page 0 SampleFormat');
  const sampleFormat: SampleFormat = format === 1 ? 'uint' : format === 2 ? 'int' : format === 3 ? 'float' : 'other';
  return { format: 'tiff', width, height, pages: pageCount, totalPixels, bitsPerSample, samplesPerPixel, sampleFormat };
}

export interface ProbeOptions {
  /**
   * Pages the caller accepts at most: the walk of a TIFF's IFD chain stops (E_TOO_LARGE) after
   * directoryLimitForPages(maxPages) directories instead of walking millions. Default: no limit.
   */
  maxPages?: number;
}

/** Reads format, size, page count and sample type from the headers. */
export function probeImage(bytes: Uint8Array, name: string, options: ProbeOptions = {}): ImageProbe {
  switch (sniffImageFormat(bytes)) {
    case 'png':
      return probePng(bytes, name);
    case 'jpeg':
      return probeJpeg(bytes, name);
    case 'tiff':
      return probeTiff(bytes, name, options);
    default:
      throw new EmsegError(
        'E_NOT_AN_IMAGE',
        bytes.length === 0
          ? `${name}: empty file, not an image`
          : `${name}: not a PNG, JPEG or TIFF image (starts with bytes ${hexStart(bytes)})`,
      );
  }
}
