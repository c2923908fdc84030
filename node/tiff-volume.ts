/**
 * A TIFF or BigTIFF file as a VolumeSource (core/volume.ts): pages are slices, regions are read
 * through a file handle, so only the tiles or strips a region touches are in memory. Decoding is
 * geotiff's (classic and BigTIFF, either byte order, strips and tiles, none/LZW/Deflate/PackBits/
 * JPEG, the horizontal and floating-point predictors); this module adds the project's guards:
 *
 * - the IFD chain is walked here, with a page limit and loop detection, every offset checked
 *   against the file length;
 * - a tile or strip that would decode to more than `maxSegmentBytes` is refused before reading, and
 *   the LZW/Deflate/PackBits decoders are bounded (node/tiff-bounded-decoders.ts);
 * - a tile or strip pointing past the end of the file is an E_CORRUPT naming it, checked before
 *   geotiff reads it (geotiff's own file source would hand back zeros);
 * - geotiff's own errors become one-line E_CORRUPT errors naming the file and page.
 *
 * Sample types follow core/tiff.ts: 8/16-bit unsigned stay as they are, 32-bit float stays
 * float32; signed integers, 32-bit integers and 64-bit floats become float32; RGB(A) becomes grey
 * with the BT.601 weights of core/grey.ts; WhiteIsZero is inverted. Reduced-resolution pages
 * (NewSubfileType bit 0) are skipped; `level` n reads each page's n-th SubIFD (a pyramid level).
 * OME-TIFF: the physical pixel size of the OME-XML; ImageJ TIFF: the resolution tags with the
 * description's unit and spacing.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { GeoTIFF, GeoTIFFImage } from 'geotiff';
import './tiff-bounded-decoders.ts';
import { BOUNDED_COMPRESSIONS, boundedDecoderFor, markByteOrder, segmentBytes } from './tiff-bounded-decoders.ts';
import { EmsegError, isEmsegError } from '../core/errors.ts';
import { interleavedToGrey } from '../core/grey.ts';
import type { BitDepth, GreyImage, PixelArray } from '../core/image.ts';
import type { Box } from '../core/padding.ts';
import { looksLikeTiff } from '../core/tiff-ifd.ts';
import type { PixelSize, VolumeSource } from '../core/volume.ts';
import { inputFileError } from './image-files.ts';
import { pixelSizeFromTiffTags } from '../core/tiff-pixel-size.ts';

export interface TiffVolumeOptions {
  /** Most pages (IFDs) walked before giving up with E_TOO_LARGE. Default 100000. */
  maxPages?: number;
  /** Most bytes one decoded tile or strip may hold (E_TOO_LARGE). Default 256 MiB. */
  maxSegmentBytes?: number;
  /** Resolution level of a pyramidal (OME-)TIFF: 0 the full image (default), n its n-th SubIFD. */
  level?: number;
}

const SUPPORTED_COMPRESSIONS: Readonly<Record<number, string>> = {
  1: 'none', 5: 'LZW', 7: 'JPEG', 8: 'Deflate', 32946: 'Deflate', 32773: 'PackBits',
};

/** geotiff's data source over a file handle: reads exactly the bytes asked for, never past the end. */
class FileHandleSource {
  constructor(
    private readonly handle: FileHandle,
    readonly fileSize: number,
    private readonly name: string,
  ) {}

  async fetch(slices: { offset: number; length: number }[]): Promise<ArrayBuffer[]> {
    return Promise.all(slices.map(async ({ offset, length }) => {
      if (offset >= this.fileSize) {
        throw new EmsegError('E_CORRUPT', `${this.name}: data at byte ${offset} lies past the end of the file (truncated or corrupt TIFF, ${this.fileSize} bytes)`);
      }
      // Header and IFD reads ask for a fixed 1 KB (4 KB for BigTIFF) ahead: clamp those at the end.
      const size = Math.min(length, this.fileSize - offset);
      const buffer = new Uint8Array(size);
      await this.handle.read(buffer, 0, size, offset);
      return buffer.buffer;
    }));
  }

  /** Exactly `length` bytes at `offset`, which the caller checked lie inside the file. */
  async readAt(offset: number, length: number): Promise<Uint8Array> {
    const out = new Uint8Array(length);
    await this.handle.read(out, 0, length, offset);
    return out;
  }

  close(): Promise<void> {
    return this.handle.close();
  }
}

interface PageInfo {
  readonly image: GeoTIFFImage;
  readonly index: number;
  readonly tiled: boolean;
  readonly segmentWidth: number;
  readonly segmentHeight: number;
  readonly samples: number;
  readonly whiteIsZero: boolean;
  /** Uncompressed strips: rows are read straight from the file, whatever the strip size. */
  readonly raw: boolean;
  readonly bytesPerSample: number;
  /** Bytes from the IFD's pixel data to this page's (an ImageJ stack stored with a single IFD). */
  readonly shift: number;
  /** The Compression tag. */
  readonly compression: number;
  /** The Predictor tag (1: none). */
  readonly predictor: number;
  /** The page's bounded decoder, made at the first whole-segment read. */
  decoder?: ReturnType<typeof boundedDecoderFor>;
}

function tagNumbers(value: unknown): number[] {
  if (value === undefined || value === null) return [];
  if (typeof value === 'number') return [value];
  return Array.from(value as ArrayLike<number>, Number);
}

/** A RATIONAL tag's values: geotiff gives the numerators and denominators in turn, [n0, d0, n1, d1, ...]. */
function rationals(value: unknown): number[] {
  const flat = tagNumbers(value);
  const out: number[] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) out.push(flat[i]! / flat[i + 1]!);
  return out;
}

function corrupt(name: string, fileSize: number, what: string): EmsegError {
  return new EmsegError('E_CORRUPT', `${name}: ${what} (truncated or corrupt TIFF, ${fileSize} bytes)`);
}

export class TiffVolume implements VolumeSource {
  readonly width: number;
  readonly height: number;
  readonly depth: number;
  readonly bitDepth: BitDepth;
  /** The pages' tile or strip size, when every page is compressed or tiled with the same one (core/block-cache.ts). */
  readonly blockWidth: number | undefined;
  readonly blockHeight: number | undefined;
  private constructor(
    readonly name: string,
    private readonly source: FileHandleSource,
    private readonly pages: readonly PageInfo[],
    private readonly kind: { bits: number; format: number },
    readonly pixelSize: PixelSize | undefined,
    private readonly littleEndian: boolean,
  ) {
    const first = pages[0]!;
    this.width = first.image.getWidth();
    this.height = first.image.getHeight();
    this.depth = pages.length;
    this.bitDepth = kind.format !== 3 && kind.format !== 2 && (kind.bits === 8 || kind.bits === 16) ? kind.bits : 32;
    // Uncompressed strips are read row by row straight from the file: nothing to decode twice.
    const blocked = pages.every((page) => !page.raw && page.segmentWidth === first.segmentWidth && page.segmentHeight === first.segmentHeight);
    this.blockWidth = blocked ? first.segmentWidth : undefined;
    this.blockHeight = blocked ? first.segmentHeight : undefined;
  }

  static async open(path: string, options: TiffVolumeOptions = {}): Promise<TiffVolume> {
    let handle: FileHandle;
    try {
      handle = await open(path, 'r');
    } catch (error) {
      throw inputFileError(path, error);
    }
    try {
      const { size } = await handle.stat();
      const head = new Uint8Array(16);
      await handle.read(head, 0, 16, 0);
      if (!looksLikeTiff(head)) throw new EmsegError('E_NOT_AN_IMAGE', `${path}: not a TIFF file (starts with bytes ${[...head.subarray(0, 4)].map((b) => b.toString(16).padStart(2, '0')).join(' ')})`);
      const minimum = head[2] === 43 || head[3] === 43 ? 16 : 8;
      if (size < minimum) throw corrupt(path, size, `the ${minimum}-byte header is cut short`);
      const source = new FileHandleSource(handle, size, path);
      return await TiffVolume.fromSource(path, source, options);
    } catch (error) {
      await handle.close().catch(() => undefined);
      throw asEmsegError(error, path, 'header');
    }
  }

  private static async fromSource(name: string, source: FileHandleSource, options: TiffVolumeOptions): Promise<TiffVolume> {
    const maxPages = options.maxPages ?? 100_000;
    const maxSegmentBytes = options.maxSegmentBytes ?? 256 * 1024 * 1024;
    const tiff = await GeoTIFF.fromSource(source as unknown as Parameters<typeof GeoTIFF.fromSource>[0]);
    const pages: PageInfo[] = [];
    const seen = new Set<number>();
    let offset = Number(tiff.firstIFDOffset);
    for (let index = 0; offset !== 0; index += 1) {
      if (seen.has(offset)) throw corrupt(name, source.fileSize, `image directory ${index} at byte ${offset} repeats an earlier one (a loop in the IFD chain)`);
      if (index >= maxPages) throw new EmsegError('E_TOO_LARGE', `${name}: has more than ${maxPages} pages (image directories)`);
      if (offset < 8 || offset >= source.fileSize) throw corrupt(name, source.fileSize, `image directory ${index} at byte ${offset} lies outside the file`);
      seen.add(offset);
      let directory;
      try {
        directory = await tiff.parser.parseFileDirectoryAt(offset);
      } catch (error) {
        throw asEmsegError(error, name, `image directory ${index} at byte ${offset}`, source.fileSize);
      }
      await readArrays(name, source, directory, tiff.littleEndian);
      markByteOrder(directory, tiff.littleEndian);
      const subfile = Number((await directory.loadValue('NewSubfileType')) ?? 0);
      if (index === 0 || (subfile & 1) === 0) {
        const level = await levelDirectory(name, source, tiff, directory, pages.length, options.level ?? 0);
        const image = new GeoTIFFImage(level, tiff.littleEndian, false, tiff.source);
        pages.push(await describePage(name, image, pages.length, maxSegmentBytes));
      }
      offset = Number(directory.nextIFDByteOffset);
    }
    if (pages.length === 1 && !options.level) pages.push(...(await imagejContiguousPages(name, source.fileSize, pages[0]!)));
    const first = pages[0];
    if (!first) throw corrupt(name, source.fileSize, 'has no image directory');
    const kind = await sampleKind(name, first);
    for (const page of pages.slice(1)) {
      const other = await sampleKind(name, page);
      if (page.image.getWidth() !== first.image.getWidth() || page.image.getHeight() !== first.image.getHeight()) {
        throw new EmsegError('E_UNSUPPORTED', `${name}: page ${page.index} is ${page.image.getWidth()}x${page.image.getHeight()}, page 0 is ${first.image.getWidth()}x${first.image.getHeight()}; a volume needs pages of one size`);
      }
      if (other.bits !== kind.bits || other.format !== kind.format || page.samples !== first.samples) {
        throw new EmsegError('E_UNSUPPORTED', `${name}: page ${page.index} has other samples than page 0; a volume needs pages of one sample type`);
      }
    }
    const firstDirectory = await tiff.parser.parseFileDirectoryAt(Number(tiff.firstIFDOffset));
    const description = await firstDirectory.loadValue('ImageDescription');
    const fullWidth = Number(tagNumbers(await firstDirectory.loadValue('ImageWidth'))[0]);
    const fullHeight = Number(tagNumbers(await firstDirectory.loadValue('ImageLength'))[0]);
    const fullSize = pixelSizeFromTiffTags(typeof description === 'string' ? description : undefined, {
      xResolution: rationals(await first.image.fileDirectory.loadValue('XResolution')),
      yResolution: rationals(await first.image.fileDirectory.loadValue('YResolution')),
      resolutionUnit: tagNumbers(await first.image.fileDirectory.loadValue('ResolutionUnit'))[0],
      pages: pages.length,
      name,
    });
    // A reduced level's pixels are larger by the ratio of the sizes (the OME-XML is page 0's; the
    // resolution tags of ImageJ files and plain TIFFs are read from the level itself).
    const ratio = fullWidth / first.image.getWidth();
    const pixelSize = fullSize && ratio !== 1 && fullSize.from === 'OME-XML'
      ? { ...fullSize, x: fullSize.x * ratio, y: fullSize.y * (fullHeight / first.image.getHeight()) }
      : fullSize;
    return new TiffVolume(name, source, pages, kind, pixelSize, tiff.littleEndian);
  }

  async readRegion(z: number, box: Box): Promise<GreyImage> {
    const page = this.pages[z];
    if (!page) throw new RangeError(`z: expected 0-${this.depth - 1}, found ${z}`);
    const inside = [box.x, box.y, box.width, box.height].every(Number.isInteger) && box.x >= 0 && box.y >= 0 &&
      box.width > 0 && box.height > 0 && box.x + box.width <= this.width && box.y + box.height <= this.height;
    if (!inside) throw new RangeError(`box: expected a region inside ${this.width}x${this.height}, found ${box.width}x${box.height} at ${box.x},${box.y}`);
    if (page.raw) return this.toGrey(page, await this.readRawRows(page, box), box);
    await this.checkSegments(page, box);
    let raster: ArrayLike<number>;
    try {
      const segment = await this.readWholeSegment(page, box);
      if (segment) return this.toGrey(page, segment, box);
      raster = (await page.image.readRasters({ window: [box.x, box.y, box.x + box.width, box.y + box.height], interleave: true })) as unknown as ArrayLike<number>;
    } catch (error) {
      throw asEmsegError(error, this.name, `page ${page.index}`, this.source.fileSize);
    }
    return this.toGrey(page, raster, box);
  }

  /** The region of an uncompressed striped page, row by row from the file, decoded to samples. */
  private async readRawRows(page: PageInfo, box: Box): Promise<ArrayLike<number>> {
    const pixelBytes = page.samples * page.bytesPerSample;
    const rowBytes = this.width * pixelBytes;
    const length = box.width * pixelBytes;
    const bytes = new Uint8Array(length * box.height);
    const directory = page.image.fileDirectory;
    for (let row = 0; row < box.height; row += 1) {
      const y = box.y + row;
      const strip = Math.floor(y / page.segmentHeight);
      const stripOffset = Number(await directory.loadValueIndexed('StripOffsets', strip));
      if (!Number.isFinite(stripOffset)) throw corrupt(this.name, this.source.fileSize, `page ${page.index}: strip ${strip} is missing from StripOffsets`);
      const at = stripOffset + page.shift + (y - strip * page.segmentHeight) * rowBytes + box.x * pixelBytes;
      if (at + length > this.source.fileSize) {
        throw corrupt(this.name, this.source.fileSize, `page ${page.index} strip ${strip} at byte ${stripOffset} (row ${y} at byte ${at}) runs past the end of the file`);
      }
      bytes.set(await this.source.readAt(at, length), row * length);
    }
    return decodeSamples(bytes, this.kind, page.bytesPerSample, this.littleEndian);
  }

  /**
   * The samples of a region that is exactly one tile or strip (cropped at the image's right and
   * bottom edges), decoded by the bounded decoders and taken as they are: what core/block-cache.ts
   * asks for. Undefined for any other region or codec (JPEG, an empty segment), which readRasters
   * reads; its per-sample copy costs about as much as the inflate, so the common case skips it.
   * The caller checked the segment lies inside the file.
   */
  private async readWholeSegment(page: PageInfo, box: Box): Promise<ArrayLike<number> | undefined> {
    const { segmentWidth, segmentHeight } = page;
    const whole = box.x % segmentWidth === 0 && box.y % segmentHeight === 0 &&
      box.width === Math.min(segmentWidth, this.width - box.x) && box.height === Math.min(segmentHeight, this.height - box.y);
    const codec = BOUNDED_COMPRESSIONS.has(page.compression) || (page.compression === 1 && page.predictor === 1);
    if (!whole || !codec) return undefined;
    const directory = page.image.fileDirectory;
    const index = (box.y / segmentHeight) * Math.ceil(this.width / segmentWidth) + box.x / segmentWidth;
    const offset = Number(await directory.loadValueIndexed(page.tiled ? 'TileOffsets' : 'StripOffsets', index));
    const count = Number(await directory.loadValueIndexed(page.tiled ? 'TileByteCounts' : 'StripByteCounts', index));
    if (count === 0) return undefined;
    const stored = await this.source.readAt(offset, count);
    page.decoder ??= page.compression === 1 ? undefined : boundedDecoderFor(page.compression, directory);
    const decoded = page.decoder ? new Uint8Array(await (await page.decoder).decode(stored.buffer)) : stored;
    const pixelBytes = page.samples * page.bytesPerSample;
    const rowBytes = segmentWidth * pixelBytes;
    if (decoded.length < rowBytes * (box.height - 1) + box.width * pixelBytes) {
      throw corrupt(this.name, this.source.fileSize, `page ${page.index} ${page.tiled ? 'tile' : 'strip'} ${index} holds ${decoded.length} bytes, fewer than its ${box.width}x${box.height} pixels`);
    }
    let bytes: Uint8Array;
    if (box.width === segmentWidth) bytes = decoded.subarray(0, rowBytes * box.height);
    else {
      bytes = new Uint8Array(box.width * pixelBytes * box.height);
      for (let row = 0; row < box.height; row += 1) bytes.set(decoded.subarray(row * rowBytes, row * rowBytes + box.width * pixelBytes), row * box.width * pixelBytes);
    }
    return decodeSamples(bytes, this.kind, page.bytesPerSample, this.littleEndian);
  }

  /** Every tile or strip the region touches must lie inside the file. */
  private async checkSegments(page: PageInfo, box: Box): Promise<void> {
    const directory = page.image.fileDirectory;
    const across = Math.ceil(this.width / page.segmentWidth);
    const offsetsTag = page.tiled ? 'TileOffsets' : 'StripOffsets';
    const countsTag = page.tiled ? 'TileByteCounts' : 'StripByteCounts';
    const what = page.tiled ? 'tile' : 'strip';
    const c0 = Math.floor(box.x / page.segmentWidth);
    const c1 = Math.floor((box.x + box.width - 1) / page.segmentWidth);
    const r0 = Math.floor(box.y / page.segmentHeight);
    const r1 = Math.floor((box.y + box.height - 1) / page.segmentHeight);
    for (let r = r0; r <= r1; r += 1) {
      for (let c = c0; c <= c1; c += 1) {
        const index = r * across + c;
        let offset: number;
        let count: number;
        try {
          offset = Number(await directory.loadValueIndexed(offsetsTag, index));
          count = Number(await directory.loadValueIndexed(countsTag, index));
        } catch (error) {
          throw asEmsegError(error, this.name, `page ${page.index} ${what} table`, this.source.fileSize);
        }
        if (!Number.isFinite(offset) || !Number.isFinite(count)) {
          throw corrupt(this.name, this.source.fileSize, `page ${page.index}: ${what} ${index} is missing from ${offsetsTag}/${countsTag}`);
        }
        if (offset + count > this.source.fileSize) {
          throw corrupt(this.name, this.source.fileSize, `page ${page.index} ${what} ${index} at byte ${offset} (${count} bytes) runs past the end of the file`);
        }
      }
    }
  }

  private toGrey(page: PageInfo, raster: ArrayLike<number>, box: Box): GreyImage {
    const { bits, format } = this.kind;
    let data: PixelArray;
    // geotiff's arrays carry extra width/height properties: hand out plain views.
    if (raster instanceof Uint8Array && this.bitDepth === 8) data = new Uint8Array(raster.buffer, raster.byteOffset, raster.length);
    else if (raster instanceof Uint16Array && this.bitDepth === 16) data = new Uint16Array(raster.buffer, raster.byteOffset, raster.length);
    else if (raster instanceof Float32Array) data = new Float32Array(raster.buffer, raster.byteOffset, raster.length);
    else data = Float32Array.from(raster); // signed, 32-bit integer, 64-bit float: exact up to 2^24
    if (page.whiteIsZero && format === 1) {
      const max = bits === 8 ? 255 : bits === 16 ? 65535 : 2 ** bits - 1;
      for (let i = 0; i < data.length; i += 1) data[i] = max - data[i]!;
    }
    return page.samples === 1 ? { width: box.width, height: box.height, data } : interleavedToGrey(data, box.width, box.height, page.samples);
  }

  close(): Promise<void> {
    return this.source.close();
  }
}

/** The IFD of resolution `level` of a page: the page's own for 0, else its level-th SubIFD. */
async function levelDirectory(
  name: string,
  source: FileHandleSource,
  tiff: GeoTIFF,
  directory: GeoTIFFImage['fileDirectory'],
  page: number,
  level: number,
): Promise<GeoTIFFImage['fileDirectory']> {
  if (level === 0) return directory;
  if (!Number.isInteger(level) || level < 0) throw new EmsegError('E_BAD_ARGUMENT', `level: expected an integer >= 0, found ${level}`);
  const subIfds = tagNumbers(await directory.loadValue(330 as never));
  if (level > subIfds.length) {
    throw new EmsegError('E_BAD_ARGUMENT', `${name}: level ${level} does not exist, page ${page} has levels 0-${subIfds.length}`);
  }
  const offset = subIfds[level - 1]!;
  if (offset < 8 || offset >= source.fileSize) throw corrupt(name, source.fileSize, `page ${page} level ${level} directory at byte ${offset} lies outside the file`);
  let sub;
  try {
    sub = await tiff.parser.parseFileDirectoryAt(offset);
  } catch (error) {
    throw asEmsegError(error, name, `page ${page} level ${level} directory at byte ${offset}`, source.fileSize);
  }
  await readArrays(name, source, sub, tiff.littleEndian);
  markByteOrder(sub, tiff.littleEndian);
  return sub;
}

/** Most entries one tag array (e.g. TileOffsets) may hold: 2^26 tiles is a 2-million-pixel-wide image of 256x256 tiles. */
const MAX_ARRAY_ENTRIES = 1 << 26;

/**
 * Reads the tag arrays geotiff defers (tile and strip tables beyond the IFD's first bytes) with the
 * file's byte order. geotiff 3.0.5's DeferredArray reads them as little-endian whatever the file
 * says, so a big-endian file gets wrong tile offsets (found while testing with tifffile's BE files).
 */
async function readArrays(name: string, source: FileHandleSource, directory: GeoTIFFImage['fileDirectory'], littleEndian: boolean): Promise<void> {
  const sizes: Readonly<Record<number, number>> = { 1: 1, 3: 2, 4: 4, 13: 4, 16: 8, 18: 8 };
  for (const [tag, deferred] of [...directory.deferredArrays.entries()]) {
    const { arrayOffset, fieldType, length } = deferred as unknown as { arrayOffset: number; fieldType: number; length: number };
    const size = sizes[fieldType];
    if (size === undefined) continue; // not an offset or count table: leave it to geotiff
    if (length > MAX_ARRAY_ENTRIES) throw new EmsegError('E_TOO_LARGE', `${name}: tag ${tag} holds ${length} entries, over the limit of ${MAX_ARRAY_ENTRIES}`);
    if (arrayOffset + length * size > source.fileSize) {
      throw corrupt(name, source.fileSize, `tag ${tag} at byte ${arrayOffset} (${length * size} bytes) runs past the end of the file`);
    }
    const [buffer] = await source.fetch([{ offset: arrayOffset, length: length * size }]);
    const view = new DataView(buffer!);
    const values = size === 8 ? new Float64Array(length) : size === 4 ? new Uint32Array(length) : size === 2 ? new Uint16Array(length) : new Uint8Array(length);
    for (let i = 0; i < length; i += 1) {
      const o = i * size;
      values[i] = size === 8 ? Number(view.getBigUint64(o, littleEndian)) : size === 4 ? view.getUint32(o, littleEndian) : size === 2 ? view.getUint16(o, littleEndian) : view.getUint8(o);
    }
    directory.actualizedFields.set(tag, values as unknown as number[]);
    directory.deferredArrays.delete(tag);
  }
}

async function describePage(name: string, image: GeoTIFFImage, index: number, maxSegmentBytes: number): Promise<PageInfo> {
  const directory = image.fileDirectory;
  const value = async (tag: string): Promise<number | undefined> => {
    const v = tagNumbers(await directory.loadValue(tag as never));
    return v.length > 0 ? v[0] : undefined;
  };
  const unsupported = (what: string): EmsegError => new EmsegError('E_UNSUPPORTED', `${name}: page ${index}: ${what} is not supported`);
  const width = image.getWidth();
  const height = image.getHeight();
  if (!(width > 0 && height > 0)) throw new EmsegError('E_CORRUPT', `${name}: page ${index} declares ${width}x${height} pixels (corrupt TIFF)`);
  const compression = (await value('Compression')) ?? 1;
  if (!(compression in SUPPORTED_COMPRESSIONS)) throw unsupported(`Compression ${compression}`);
  const samples = (await value('SamplesPerPixel')) ?? 1;
  if (samples < 1 || samples > 4) throw unsupported(`SamplesPerPixel ${samples}`);
  if (samples > 1 && ((await value('PlanarConfiguration')) ?? 1) !== 1) throw unsupported('PlanarConfiguration 2 (separate colour planes)');
  const photometric = (await value('PhotometricInterpretation')) ?? 1;
  if (![0, 1, 2, 3].includes(photometric)) throw unsupported(`PhotometricInterpretation ${photometric}`);
  const tiled = !directory.hasTag('StripOffsets');
  if (tiled && !directory.hasTag('TileOffsets')) throw new EmsegError('E_CORRUPT', `${name}: page ${index} has neither strips nor tiles (corrupt TIFF)`);
  const segmentWidth = image.getTileWidth();
  const segmentHeight = Math.min(image.getTileHeight(), tiled ? Infinity : height);
  if (!(segmentWidth > 0 && segmentHeight > 0)) throw new EmsegError('E_CORRUPT', `${name}: page ${index} declares ${segmentWidth}x${segmentHeight} tiles (corrupt TIFF)`);
  const bits = tagNumbers(await directory.loadValue('BitsPerSample'));
  const raw = compression === 1 && !tiled && ((await value('Predictor')) ?? 1) === 1;
  const bytes = segmentBytes({ tileWidth: segmentWidth, tileHeight: segmentHeight, bitsPerSample: bits.length ? bits : [1] });
  if (!raw && bytes > maxSegmentBytes) {
    throw new EmsegError('E_TOO_LARGE', `${name}: page ${index}: one ${tiled ? 'tile' : 'strip'} of ${segmentWidth}x${segmentHeight} pixels decodes to ${bytes} bytes, over the limit of ${maxSegmentBytes}; rewrite the file tiled (e.g. tifffile's tile=(512, 512))`);
  }
  const bytesPerSample = Math.max(1, Math.floor((bits[0] ?? 8) / 8));
  const predictor = (await value('Predictor')) ?? 1;
  return { image, index, tiled, segmentWidth, segmentHeight, samples, whiteIsZero: photometric === 0, raw, bytesPerSample, shift: 0, compression, predictor };
}

/** Raw sample bytes in the file's byte order -> uint8, uint16 or float32 (the other kinds, exactly up to 2^24). */
function decodeSamples(bytes: Uint8Array, kind: { bits: number; format: number }, size: number, littleEndian: boolean): Uint8Array | Uint16Array | Float32Array {
  if (kind.format === 1 && kind.bits === 8) return bytes;
  const count = bytes.length / size;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = kind.format === 1 && kind.bits === 16 ? new Uint16Array(count) : new Float32Array(count);
  const read: (offset: number) => number =
    kind.format === 3 ? (size === 8 ? (o) => view.getFloat64(o, littleEndian) : (o) => view.getFloat32(o, littleEndian))
      : kind.format === 2 ? (size === 1 ? (o) => view.getInt8(o) : size === 2 ? (o) => view.getInt16(o, littleEndian) : (o) => view.getInt32(o, littleEndian))
        : size === 2 ? (o) => view.getUint16(o, littleEndian) : (o) => view.getUint32(o, littleEndian);
  for (let i = 0; i < count; i += 1) out[i] = read(i * size);
  return out;
}

/**
 * ImageJ writes stacks over 4 GiB (and some tools any stack) with a single IFD whose description
 * says `images=N`, the N pages stored one after the other. Like ImageJ, tifffile and
 * core/tiff.ts, read them as N pages when the page is uncompressed and the file holds all of them.
 */
async function imagejContiguousPages(name: string, fileSize: number, page: PageInfo): Promise<PageInfo[]> {
  if (!page.raw) return [];
  const description = await page.image.fileDirectory.loadValue('ImageDescription');
  const images = typeof description === 'string' && description.startsWith('ImageJ=') ? Number(/^images=(\d+)$/m.exec(description)?.[1] ?? 1) : 1;
  if (!(images > 1)) return [];
  const pageBytes = page.image.getWidth() * page.image.getHeight() * page.samples * page.bytesPerSample;
  const offsets = tagNumbers(await page.image.fileDirectory.loadValue('StripOffsets'));
  const start = offsets[0]!;
  const stripBytes = page.segmentHeight * page.image.getWidth() * page.samples * page.bytesPerSample;
  if (!offsets.every((offset, i) => offset === start + i * stripBytes)) return [];
  if (start + images * pageBytes > fileSize) {
    throw new EmsegError('E_CORRUPT', `${name}: an ImageJ stack of ${images} images needs ${start + images * pageBytes} bytes, the file has ${fileSize} (truncated)`);
  }
  return Array.from({ length: images - 1 }, (_, i) => ({ ...page, index: i + 1, shift: (i + 1) * pageBytes }));
}

async function sampleKind(name: string, page: PageInfo): Promise<{ bits: number; format: number }> {
  const directory = page.image.fileDirectory;
  const bits = tagNumbers(await directory.loadValue('BitsPerSample'));
  const formats = tagNumbers(await directory.loadValue('SampleFormat'));
  const b = bits[0] ?? 1;
  const f = formats[0] ?? 1;
  const ok = (f === 1 || f === 2) ? [8, 16, 32].includes(b) : f === 3 ? b === 32 || b === 64 : false;
  if (!ok || bits.some((x) => x !== b)) {
    const kind = f === 3 ? 'float' : f === 2 ? 'signed' : f === 1 ? 'unsigned' : `SampleFormat ${f}`;
    throw new EmsegError('E_UNSUPPORTED', `${name}: page ${page.index}: ${bits.join('/') || b}-bit ${kind} samples are not supported`);
  }
  return { bits: b, format: f };
}

/** geotiff's and the DataView's errors as one line naming the file and what was being read. */
function asEmsegError(error: unknown, name: string, where: string, fileSize?: number): unknown {
  if (isEmsegError(error)) {
    return error.message.startsWith(name) ? error : new EmsegError(error.code, `${name}: ${where}: ${error.message}`);
  }
  if (!(error instanceof Error)) return error;
  const size = fileSize === undefined ? '' : `, ${fileSize} bytes`;
  return new EmsegError('E_CORRUPT', `${name}: ${where}: ${error.message.split('\n')[0]} (truncated or corrupt TIFF${size})`, { cause: error });
}

export function openTiffVolume(path: string, options?: TiffVolumeOptions): Promise<TiffVolume> {
  return TiffVolume.open(path, options);
}
