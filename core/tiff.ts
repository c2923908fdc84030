/**
 * TIFF stacks <-> ImageStack, platform-neutral (typed arrays only).
 *
 * decodeTiff reads classic TIFF and BigTIFF (II or MM byte order): single and multi-page; 8-bit and 16-bit
 * unsigned, 8/16-bit signed (as float32, exact) and 32-bit float greyscale; RGB(A) and grey+alpha
 * converted to grey with core/grey.ts; palette images as their index values (as ImageJ and
 * tifffile do); uncompressed, LZW, Deflate (zlib) and PackBits, with or without the horizontal
 * predictor, and 8-bit JPEG (grey, RGB or YCbCr; lossy by nature); strips and tiles. Reduced-resolution pages (thumbnails, NewSubfileType bit 0) are
 * skipped. Anything else is an EmsegError naming the file, the page and the tag value:
 * E_UNSUPPORTED for a variant we do not read, E_CORRUPT for a truncated or inconsistent file.
 *
 * encodeTiff (core/tiff-write.ts, re-exported here) writes uncompressed baseline TIFF stacks that
 * ImageJ/Fiji and tifffile read.
 *
 * Work is bounded by what the pages need, not by what the file claims: Deflate and PackBits stop
 * once a strip or tile is full, strips or tiles may not share bytes (their byte counts together may
 * not exceed the file), an embedded JPEG's frame size is checked before it is decoded, and
 * `maxPages` stops the walk of the IFD chain early.
 *
 * Libraries: fflate (zlib inflate), utif (JPEG). LZW is core/tiff-lzw.ts and PackBits is here
 * (both stop at the expected size; utif's do not).
 */
import { Unzlib } from 'fflate';
import UTIF from 'utif';
import { EmsegError } from './errors.ts';
import { readJpegFrame } from './image-probe.ts';
import { interleavedToGrey } from './grey.ts';
import { makeImage, makeStack, type GreyImage, type ImageStack, type PixelArray } from './image.ts';
import { decodeLzw } from './tiff-lzw.ts';
import { pixelSizeFromTiffTags } from './tiff-pixel-size.ts';
import {
  imagejImageCount,
  isReducedResolution,
  readTiffStructure,
  Tag,
  directoryLimitForPages,
  tagCount,
  tagNumber,
  tagNumbers,
  type TiffDirectory,
  type TiffReader,
} from './tiff-ifd.ts';

const COMPRESSION_NAMES: Readonly<Record<number, string>> = {
  1: 'none', 2: 'CCITT RLE', 3: 'CCITT Group 3', 4: 'CCITT Group 4', 5: 'LZW', 6: 'old-style JPEG',
  7: 'JPEG', 8: 'Deflate', 32773: 'PackBits', 32946: 'Deflate', 34712: 'JPEG 2000', 34887: 'LERC',
  34925: 'LZMA', 50000: 'Zstandard', 50001: 'WebP',
};
const SUPPORTED_COMPRESSIONS = new Set([1, 5, 7, 8, 32773, 32946]);

type SampleKind = 'uint8' | 'uint16' | 'int8' | 'int16' | 'float32';

interface PageLayout {
  readonly index: number;
  readonly width: number;
  readonly height: number;
  readonly kind: SampleKind;
  readonly bytesPerSample: number;
  readonly samples: number;
  /** Channels passed to interleavedToGrey: 1 (take sample 0) or 3/4 (RGB(A)). */
  readonly colour: boolean;
  readonly invert: boolean;
  readonly compression: number;
  readonly predictor: number;
  readonly segmentWidth: number;
  readonly segmentHeight: number;
  readonly tiled: boolean;
  readonly offsets: readonly number[];
  readonly byteCounts: readonly number[];
  readonly photometric: number;
  /** JPEGTables (quantization and Huffman tables shared by all JPEG strips or tiles). */
  readonly jpegTables: Uint8Array | undefined;
}

function unsupported(name: string, page: number, what: string): EmsegError {
  return new EmsegError('E_UNSUPPORTED', `${name}: page ${page}: ${what} is not supported`);
}

function sampleKind(bits: number, format: number): SampleKind | undefined {
  if (format === 1 && bits === 8) return 'uint8';
  if (format === 1 && bits === 16) return 'uint16';
  if (format === 2 && bits === 8) return 'int8';
  if (format === 2 && bits === 16) return 'int16';
  if (format === 3 && bits === 32) return 'float32';
  return undefined;
}

function readLayout(reader: TiffReader, dir: TiffDirectory, name: string): PageLayout {
  const page = dir.index;
  const at = (what: string) => `page ${page} ${what}`;
  const width = tagNumber(reader, dir, Tag.ImageWidth, 0, at('ImageWidth'));
  const height = tagNumber(reader, dir, Tag.ImageLength, 0, at('ImageLength'));
  if (!(width > 0 && height > 0)) throw reader.corrupt(`page ${page} has no image size (ImageWidth ${width}, ImageLength ${height})`);
  if (!Number.isSafeInteger(width) || !Number.isSafeInteger(height)) {
    throw reader.corrupt(`page ${page} declares a size of ${width}x${height}, expected whole numbers of pixels`);
  }

  const samples = tagCount(reader, dir, Tag.SamplesPerPixel, 1, at('SamplesPerPixel'));
  const bitsList = tagNumbers(reader, dir, Tag.BitsPerSample, at('BitsPerSample')) ?? [1];
  const bits = bitsList[0]!;
  if (bitsList.some((b) => b !== bits)) throw unsupported(name, page, `BitsPerSample ${bitsList.join(',')} (samples of different sizes)`);
  const formats = tagNumbers(reader, dir, Tag.SampleFormat, at('SampleFormat')) ?? [1];
  const format = formats[0]!;
  const kind = sampleKind(bits, format);
  if (!kind) {
    const formatName = { 1: 'unsigned', 2: 'signed', 3: 'float', 4: 'untyped', 5: 'complex int', 6: 'complex float' }[format] ?? `SampleFormat ${format}`;
    throw unsupported(name, page, `BitsPerSample ${bits} ${formatName} (SampleFormat ${format})`);
  }
  const photometric = tagNumber(reader, dir, Tag.Photometric, samples >= 3 ? 2 : 1, at('PhotometricInterpretation'));
  const compression = tagNumber(reader, dir, Tag.Compression, 1, at('Compression'));
  let colour = false;
  if (photometric === 2) {
    if (samples < 3 || samples > 4) throw unsupported(name, page, `RGB with SamplesPerPixel ${samples}`);
    colour = true;
  } else if (photometric === 6 && compression === 7 && samples === 3) {
    colour = true; // YCbCr inside JPEG: the JPEG decoder returns RGB
  } else if (photometric !== 0 && photometric !== 1 && photometric !== 3) {
    const names: Record<number, string> = { 4: 'transparency mask', 5: 'CMYK', 6: 'YCbCr', 8: 'CIELab', 32844: 'LogL', 32845: 'LogLuv' };
    throw unsupported(name, page, `PhotometricInterpretation ${photometric} (${names[photometric] ?? 'unknown'})`);
  }
  const invert = photometric === 0;
  if (invert && kind === 'float32') throw unsupported(name, page, 'PhotometricInterpretation 0 (WhiteIsZero) with float samples');

  if (!SUPPORTED_COMPRESSIONS.has(compression)) {
    throw unsupported(name, page, `Compression ${compression} (${COMPRESSION_NAMES[compression] ?? 'unknown'})`);
  }
  if (compression === 7 && (kind !== 'uint8' || (samples !== 1 && samples !== 3))) {
    throw unsupported(name, page, `Compression 7 (JPEG) with ${samples} samples of ${kind}`);
  }
  const predictor = tagNumber(reader, dir, Tag.Predictor, 1, at('Predictor'));
  if (predictor !== 1 && !(predictor === 2 && kind !== 'float32')) {
    throw unsupported(name, page, `Predictor ${predictor}${predictor === 3 ? ' (floating point)' : ''}${kind === 'float32' ? ' with float samples' : ''}`);
  }
  const planar = tagNumber(reader, dir, Tag.PlanarConfiguration, 1, at('PlanarConfiguration'));
  if (planar !== 1 && samples > 1) throw unsupported(name, page, `PlanarConfiguration ${planar} (separate planes) with ${samples} samples per pixel`);
  const fillOrder = tagNumber(reader, dir, Tag.FillOrder, 1, at('FillOrder'));
  if (fillOrder !== 1) throw unsupported(name, page, `FillOrder ${fillOrder}`);

  const bytesPerSample = bits / 8;
  const tiled = dir.entries.has(Tag.TileWidth) || dir.entries.has(Tag.TileOffsets);
  let segmentWidth = width;
  let segmentHeight: number;
  let offsets: number[] | undefined;
  let byteCounts: number[] | undefined;
  let segmentCount: number;
  if (tiled) {
    segmentWidth = tagNumber(reader, dir, Tag.TileWidth, 0, at('TileWidth'));
    segmentHeight = tagNumber(reader, dir, Tag.TileLength, 0, at('TileLength'));
    if (!(segmentWidth > 0 && segmentHeight > 0) || !Number.isSafeInteger(segmentWidth) || !Number.isSafeInteger(segmentHeight)) {
      throw reader.corrupt(`page ${page} has tile size ${segmentWidth}x${segmentHeight}`);
    }
    offsets = tagNumbers(reader, dir, Tag.TileOffsets, at('TileOffsets'));
    byteCounts = tagNumbers(reader, dir, Tag.TileByteCounts, at('TileByteCounts'));
    segmentCount = Math.ceil(width / segmentWidth) * Math.ceil(height / segmentHeight);
  } else {
    // 0 is read as "one strip", as libtiff does; 2^32 - 1 (the spec's default) is more than the height.
    const rowsPerStrip = tagNumber(reader, dir, Tag.RowsPerStrip, height, at('RowsPerStrip'));
    if (rowsPerStrip !== 0 && (!Number.isSafeInteger(rowsPerStrip) || rowsPerStrip < 0)) {
      throw reader.corrupt(`${at('RowsPerStrip')} is ${rowsPerStrip}, expected a positive integer`);
    }
    segmentHeight = Math.min(height, rowsPerStrip || height);
    offsets = tagNumbers(reader, dir, Tag.StripOffsets, at('StripOffsets'));
    byteCounts = tagNumbers(reader, dir, Tag.StripByteCounts, at('StripByteCounts'));
    segmentCount = Math.ceil(height / segmentHeight);
    if (!byteCounts && compression === 1 && offsets?.length === 1) byteCounts = [width * height * samples * bytesPerSample];
  }
  const segmentName = tiled ? 'tile' : 'strip';
  if (!offsets || !byteCounts) throw reader.corrupt(`page ${page} has no ${segmentName} offsets or byte counts`);
  if (offsets.length < segmentCount || byteCounts.length < segmentCount) {
    throw reader.corrupt(`page ${page} lists ${Math.min(offsets.length, byteCounts.length)} ${segmentName}s, ${segmentCount} needed`);
  }
  for (let i = 0; i < segmentCount; i += 1) {
    reader.require(offsets[i]!, byteCounts[i]!, `page ${page} ${segmentName} ${i}`);
  }
  const tablesEntry = dir.entries.get(Tag.JPEGTables);
  return {
    index: page, width, height, kind, bytesPerSample, samples, colour, invert, compression, predictor,
    segmentWidth, segmentHeight, tiled, offsets: offsets.slice(0, segmentCount), byteCounts: byteCounts.slice(0, segmentCount),
    photometric, jpegTables: compression === 7 && tablesEntry ? reader.raw(tablesEntry, at('JPEGTables')) : undefined,
  };
}

/** Decompresses one strip or tile into exactly `expected` bytes. */
function decompress(reader: TiffReader, layout: PageLayout, segment: number, expected: number, rows: number): Uint8Array {
  const offset = layout.offsets[segment]!;
  const source = reader.bytes.subarray(offset, offset + layout.byteCounts[segment]!);
  const what = `page ${layout.index} ${layout.tiled ? 'tile' : 'strip'} ${segment}`;
  let out: Uint8Array;
  let length: number;
  switch (layout.compression) {
    case 1:
      out = layout.predictor === 1 ? source : source.slice(); // the predictor is undone in place
      length = source.length;
      break;
    case 5: {
      const result = decodeLzw(source, expected);
      if (result.problem?.startsWith('old-style')) {
        throw unsupported(reader.name, layout.index, `Compression 5 with ${result.problem}`);
      }
      out = result.data;
      length = result.length;
      break;
    }
    case 7:
      out = decodeJpegSegment(reader, layout, source, what, rows, expected);
      length = out.length;
      break;
    case 8:
    case 32946:
      try {
        ({ data: out, length } = inflateBounded(source, expected));
      } catch (error) {
        throw reader.corrupt(`${what}: Deflate data does not inflate (${(error as Error).message})`);
      }
      break;
    default:
      ({ data: out, length } = decodePackBits(source, expected));
  }
  // The last strip may legitimately hold only the rows that remain.
  const needed = layout.tiled ? expected : rows * layout.segmentWidth * layout.samples * layout.bytesPerSample;
  if (length < needed) throw reader.corrupt(`${what} holds ${length} bytes, ${needed} expected`);
  return out.length === expected ? out : out.subarray(0, Math.min(out.length, expected));
}

/**
 * One JPEG strip or tile through utif's JPEG decoder (pdf.js's baseline/progressive decoder): the
 * shared JPEGTables and the segment are joined into one JPEG stream. For PhotometricInterpretation 2
 * (RGB stored without colour transform) the decoder's YCbCr->RGB transform is switched off.
 */
function decodeJpegSegment(reader: TiffReader, layout: PageLayout, source: Uint8Array, what: string, rows: number, expected: number): Uint8Array {
  let stream = source;
  const tables = layout.jpegTables;
  if (tables && tables.length >= 4) {
    const head = tables[tables.length - 2] === 0xff && tables[tables.length - 1] === 0xd9 ? tables.subarray(0, tables.length - 2) : tables;
    const body = source[0] === 0xff && source[1] === 0xd8 ? source.subarray(2) : source;
    stream = new Uint8Array(head.length + body.length);
    stream.set(head);
    stream.set(body, head.length);
  }
  // The frame header says how much the decoder would allocate and work: check it first, so a
  // 16000x16000 JPEG inside a 16000x1 strip is refused before decoding.
  const height = layout.tiled ? layout.segmentHeight : rows;
  const frame = readJpegFrame(stream);
  if (!frame) throw reader.corrupt(`${what}: JPEG data has no frame header`);
  if (frame.width !== layout.segmentWidth || frame.height < height || frame.width * frame.height * frame.components > expected) {
    throw reader.corrupt(`${what}: JPEG data is ${frame.width}x${frame.height}, expected ${layout.segmentWidth}x${height}`);
  }
  try {
    const decoder = new UTIF.JpegDecoder();
    // utif 3.1's (minified) colorTransform field: 0 = no transform, -1 = decide from the stream.
    if (layout.photometric === 2) (decoder as unknown as { B: number }).B = 0;
    decoder.parse(stream);
    if (decoder.width !== layout.segmentWidth || decoder.height < height) {
      throw reader.corrupt(`${what}: JPEG data is ${decoder.width}x${decoder.height}, expected ${layout.segmentWidth}x${height}`);
    }
    const pixels = decoder.getData(decoder.width, decoder.height);
    return pixels instanceof Uint8Array ? pixels : new Uint8Array(pixels.buffer, pixels.byteOffset, pixels.byteLength);
  } catch (error) {
    if (error instanceof EmsegError) throw error;
    // The decoder's own errors say what is wrong; anything else (a TypeError deep inside) would not help.
    const reason = error instanceof Error && error.message.startsWith('JPEG error') ? ` (${error.message})` : '';
    throw reader.corrupt(`${what}: JPEG data does not decode${reason}`);
  }
}

/**
 * Inflates zlib data into at most `expected` bytes and stops there: the input goes to fflate's
 * streaming inflater in small chunks (deflate expands 1 KiB to at most ~1 MiB), so a strip that
 * would inflate to gigabytes costs the work of `expected` bytes, not of the whole stream.
 */
function inflateBounded(source: Uint8Array, expected: number): { data: Uint8Array; length: number } {
  const data = new Uint8Array(expected);
  let length = 0;
  let full = false;
  const inflater = new Unzlib((chunk) => {
    const room = expected - length;
    if (chunk.length >= room) full = true;
    data.set(room < chunk.length ? chunk.subarray(0, room) : chunk, length);
    length += Math.min(room, chunk.length);
  });
  const step = 1024; // at most ~1 MB of output per push
  for (let at = 0; at < source.length && !full; at += step) {
    const end = Math.min(at + step, source.length);
    inflater.push(source.subarray(at, end), end === source.length);
  }
  return { data, length };
}

/** PackBits into at most `expected` bytes, stopping there; `length` says how many came out. */
function decodePackBits(source: Uint8Array, expected: number): { data: Uint8Array; length: number } {
  const data = new Uint8Array(expected);
  let length = 0;
  let i = 0;
  while (i < source.length && length < expected) {
    const n = (source[i]! << 24) >> 24;
    i += 1;
    if (n >= 0) {
      const literal = Math.min(n + 1, source.length - i, expected - length);
      data.set(source.subarray(i, i + literal), length);
      length += literal;
      i += n + 1;
    } else if (n !== -128) {
      if (i >= source.length) break;
      const run = Math.min(1 - n, expected - length);
      data.fill(source[i]!, length, length + run);
      length += run;
      i += 1;
    }
  }
  return { data, length };
}

type SampleArray = Uint8Array | Uint16Array | Int8Array | Int16Array | Float32Array;

/** Interprets decompressed bytes as samples in the file's byte order. */
function toSamples(bytes: Uint8Array, kind: SampleKind, count: number, littleEndian: boolean): SampleArray {
  if (kind === 'uint8') return bytes.length === count ? bytes : bytes.subarray(0, count);
  if (kind === 'int8') return new Int8Array(bytes.buffer, bytes.byteOffset, Math.min(count, bytes.length));
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = Math.min(count, Math.floor(bytes.length / (kind === 'float32' ? 4 : 2)));
  if (kind === 'uint16') {
    const out = new Uint16Array(count);
    for (let i = 0; i < n; i += 1) out[i] = view.getUint16(i * 2, littleEndian);
    return out;
  }
  if (kind === 'int16') {
    const out = new Int16Array(count);
    for (let i = 0; i < n; i += 1) out[i] = view.getInt16(i * 2, littleEndian);
    return out;
  }
  const out = new Float32Array(count);
  for (let i = 0; i < n; i += 1) out[i] = view.getFloat32(i * 4, littleEndian);
  return out;
}

/** Undoes horizontal differencing (Predictor 2) in place; integer arrays wrap as the spec requires. */
function undoHorizontalPredictor(samples: SampleArray, rowPixels: number, rows: number, channels: number): void {
  const rowLength = rowPixels * channels;
  for (let y = 0; y < rows; y += 1) {
    const start = y * rowLength;
    for (let i = start + channels; i < start + rowLength; i += 1) samples[i] = samples[i]! + samples[i - channels]!;
  }
}

function allocate(kind: SampleKind, length: number): SampleArray {
  switch (kind) {
    case 'uint8': return new Uint8Array(length);
    case 'uint16': return new Uint16Array(length);
    case 'int8': return new Int8Array(length);
    case 'int16': return new Int16Array(length);
    default: return new Float32Array(length);
  }
}

function decodePage(reader: TiffReader, layout: PageLayout): GreyImage {
  const { width, height, samples, segmentWidth, segmentHeight, kind } = layout;
  const pageSamples = allocate(kind, width * height * samples);
  const across = Math.ceil(width / segmentWidth);
  const segmentSamples = segmentWidth * segmentHeight * samples;
  layout.offsets.forEach((_, s) => {
    const left = layout.tiled ? (s % across) * segmentWidth : 0;
    const top = layout.tiled ? Math.floor(s / across) * segmentHeight : s * segmentHeight;
    const rows = Math.min(segmentHeight, height - top);
    const bytes = decompress(reader, layout, s, segmentSamples * layout.bytesPerSample, rows);
    const segment = toSamples(bytes, kind, segmentSamples, reader.littleEndian);
    if (layout.predictor === 2) undoHorizontalPredictor(segment, segmentWidth, rows, samples);
    const columns = Math.min(segmentWidth, width - left) * samples;
    for (let y = 0; y < rows; y += 1) {
      const from = y * segmentWidth * samples;
      pageSamples.set(segment.subarray(from, from + columns), ((top + y) * width + left) * samples);
    }
  });
  let data: PixelArray;
  if (pageSamples instanceof Int8Array || pageSamples instanceof Int16Array) data = Float32Array.from(pageSamples);
  else data = pageSamples;
  if (layout.invert) {
    const max = data instanceof Uint8Array ? 255 : data instanceof Uint16Array ? 65535 : 0;
    for (let i = 0; i < data.length; i += 1) data[i] = max - data[i]!;
  }
  if (samples === 1) return makeImage(width, height, data);
  if (layout.colour) return interleavedToGrey(data, width, height, samples);
  // Grey with extra samples (alpha or others): keep the first sample.
  const grey = new (data.constructor as new (n: number) => PixelArray)(width * height);
  for (let i = 0; i < grey.length; i += 1) grey[i] = data[i * samples]!;
  return makeImage(width, height, grey);
}

/**
 * Strips and tiles may not share bytes: their byte counts together may not exceed the file (the
 * ImageJ layout of one IFD for many pages does not share bytes either). Otherwise 32 strips
 * pointing at the same 5 MB run would cost the work of 160 MB from a 5 MB file.
 */
function assertSegmentsDoNotShareBytes(reader: TiffReader, layouts: readonly PageLayout[]): void {
  let total = 0;
  for (const layout of layouts) for (const count of layout.byteCounts) total += count;
  if (total > reader.bytes.length) {
    throw reader.corrupt(`its strips or tiles declare ${total} bytes in all, more than the file holds: they overlap or share bytes`);
  }
}

/**
 * ImageJ writes stacks over 4 GiB (and some tools write any stack) with a single IFD whose
 * ImageDescription says `images=N`, the N pages stored one after the other. Like ImageJ and
 * tifffile, read them as N pages when the file is uncompressed and holds all of them.
 */
function imagejContiguousPages(reader: TiffReader, dir: TiffDirectory, layout: PageLayout): PageLayout[] {
  if (layout.compression !== 1 || layout.tiled) return [layout];
  const pages = imagejImageCount(reader, dir);
  if (pages <= 1) return [layout];
  const pageBytes = layout.width * layout.height * layout.samples * layout.bytesPerSample;
  const start = layout.offsets[0]!;
  const contiguous = layout.offsets.every((offset, i) => offset === start + i * layout.segmentHeight * layout.width * layout.samples * layout.bytesPerSample);
  if (!contiguous || start + pages * pageBytes > reader.bytes.length) return [layout];
  return Array.from({ length: pages }, (_, p) => ({
    ...layout,
    index: p,
    offsets: layout.offsets.map((offset) => offset + p * pageBytes),
  }));
}

export interface DecodeTiffOptions {
  /**
   * Refuse (E_TOO_LARGE) a file whose pages hold more samples than this in total, before
   * allocating them. Default 2^30 (1 GiB of 8-bit samples). Servers should probe first
   * (core/image-probe.ts) and apply their own, smaller limits.
   */
  maxTotalSamples?: number;
  /** Refuse (E_TOO_LARGE) a file with more pages, while walking its IFD chain. Default: no limit. */
  maxPages?: number;
}

export const DEFAULT_MAX_TOTAL_SAMPLES = 2 ** 30;

/** Decodes every full-resolution page of a TIFF file into one stack. `name` is used in error messages. */
export function decodeTiff(bytes: Uint8Array, name: string, options: DecodeTiffOptions = {}): ImageStack {
  const walk = options.maxPages === undefined ? {} : { maxDirectories: directoryLimitForPages(options.maxPages) };
  const { reader, structure } = readTiffStructure(bytes, name, walk);
  const directories = structure.directories.filter((dir) => !isReducedResolution(reader, dir));
  if (directories.length === 0) throw reader.corrupt('no full-resolution page');
  let layouts = directories.map((dir) => readLayout(reader, dir, name));
  if (layouts.length === 1) layouts = imagejContiguousPages(reader, directories[0]!, layouts[0]!);
  if (options.maxPages !== undefined && layouts.length > options.maxPages) {
    throw new EmsegError('E_TOO_LARGE', `${name}: declares ${layouts.length} pages, the limit is ${options.maxPages} pages per stack`);
  }
  assertSegmentsDoNotShareBytes(reader, layouts);
  const limit = options.maxTotalSamples ?? DEFAULT_MAX_TOTAL_SAMPLES;
  let total = 0;
  for (const layout of layouts) {
    total += layout.width * layout.height * layout.samples;
    const segment = layout.segmentWidth * layout.segmentHeight * layout.samples;
    if (total > limit || segment > limit) {
      throw new EmsegError(
        'E_TOO_LARGE',
        `${name}: ${layouts.length} pages of ${layout.width}x${layout.height}x${layout.samples} samples exceed the limit of ${limit} samples`,
      );
    }
  }
  const first = layouts[0]!;
  for (const layout of layouts) {
    if (layout.width !== first.width || layout.height !== first.height) {
      throw unsupported(name, layout.index, `a page of ${layout.width}x${layout.height} after pages of ${first.width}x${first.height} (mixed page sizes)`);
    }
    const outKind = (k: SampleKind) => (k === 'int8' || k === 'int16' ? 'float32' : k);
    if (outKind(layout.kind) !== outKind(first.kind)) {
      throw unsupported(name, layout.index, `a ${layout.kind} page after ${first.kind} pages (mixed sample types)`);
    }
  }
  const stack = makeStack(layouts.map((layout) => decodePage(reader, layout)), name);
  const pixelSize = statedPixelSize(reader, directories[0]!, layouts.length);
  return pixelSize ? { ...stack, pixelSize } : stack;
}

/** The text of an ASCII tag: UTF-8 (OME-XML, ImageJ's µ), else Latin-1. */
function asciiText(bytes: Uint8Array): string {
  const end = bytes.indexOf(0);
  const text = end >= 0 ? bytes.subarray(0, end) : bytes;
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(text);
  } catch {
    return String.fromCharCode(...text.subarray(0, 65536));
  }
}

/** The pixel size the first page states (core/tiff-pixel-size.ts), or undefined. */
function statedPixelSize(reader: TiffReader, dir: TiffDirectory, pages: number): ImageStack['pixelSize'] {
  const entry = dir.entries.get(Tag.ImageDescription);
  const description = entry ? asciiText(reader.raw(entry, `page ${dir.index} ImageDescription`)) : undefined;
  try {
    return pixelSizeFromTiffTags(description, {
      xResolution: tagNumbers(reader, dir, Tag.XResolution, `page ${dir.index} XResolution`) ?? [],
      yResolution: tagNumbers(reader, dir, Tag.YResolution, `page ${dir.index} YResolution`) ?? [],
      resolutionUnit: tagNumber(reader, dir, Tag.ResolutionUnit, 1, `page ${dir.index} ResolutionUnit`),
      pages,
      name: reader.name,
    });
  } catch {
    return undefined; // a calibration that cannot be read (e.g. an OME-TIFF of channels) states none; the pages still decode
  }
}

export { encodeLabelTiff, encodeTiff, type EncodeTiffOptions, type LabelStack } from './tiff-write.ts';
