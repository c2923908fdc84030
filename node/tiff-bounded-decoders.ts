/**
 * geotiff's decoders for LZW, Deflate and PackBits, replaced by ones whose output is bounded by the
 * size the tile or strip declares (tile width x height x bytes per pixel): a decompression bomb
 * (a few KB inflating to GBs) or a corrupt LZW stream cannot grow memory or loop. The codecs are
 * core/tiff-lzw.ts (as core/tiff.ts); Node's zlib with `maxOutputLength` (native, about twice as
 * fast as a JavaScript inflate), and for a stream it refuses (one longer than the segment, a bad
 * checksum) fflate's inflate into a fixed buffer, which keeps what fits, as core/tiff.ts does; utif's
 * PackBits into a fixed buffer. A segment that decodes to fewer bytes is padded with zeros (the last strip
 * of an image legitimately holds fewer rows).
 *
 * Registered once, process-wide, when this module is imported (geotiff keeps one registry).
 */
import { addDecoder, BaseDecoder } from 'geotiff';
import { inflateSync } from 'node:zlib';
import { unzlibSync } from 'fflate';
import UTIF from 'utif';
import { decodeLzw } from '../core/tiff-lzw.ts';
import { EmsegError } from '../core/errors.ts';

interface DecoderSettings {
  tileWidth: number;
  tileHeight: number;
  bitsPerSample: number | ArrayLike<number>;
  predictor: number;
  samplesPerPixel: number;
  littleEndian: boolean;
}

/** Bytes one decoded tile or strip holds (chunky layout). */
export function segmentBytes(parameters: Pick<DecoderSettings, 'tileWidth' | 'tileHeight' | 'bitsPerSample'>): number {
  const bits = typeof parameters.bitsPerSample === 'number' ? [parameters.bitsPerSample] : Array.from(parameters.bitsPerSample);
  const bitsPerPixel = bits.reduce((a, b) => a + b, 0);
  return Math.ceil((parameters.tileWidth * bitsPerPixel) / 8) * parameters.tileHeight;
}

/** Marks a directory with its file's byte order, which geotiff does not pass to decoders. */
export function markByteOrder(directory: object, littleEndian: boolean): void {
  (directory as { emsegLittleEndian?: boolean }).emsegLittleEndian = littleEndian;
}

type Directory = { loadValue(tag: string): Promise<unknown>; hasTag(tag: string): boolean; emsegLittleEndian?: boolean };

async function decoderParameters(directory: Directory): Promise<DecoderSettings> {
  const first = (v: unknown): number | undefined => (v === undefined || v === null ? undefined : typeof v === 'number' ? v : Number((v as ArrayLike<number>)[0]));
  const tiled = !directory.hasTag('StripOffsets');
  const bits = (await directory.loadValue('BitsPerSample')) as number | ArrayLike<number>;
  return {
    tileWidth: first(await directory.loadValue(tiled ? 'TileWidth' : 'ImageWidth'))!,
    tileHeight: tiled ? first(await directory.loadValue('TileLength'))! : first(await directory.loadValue('RowsPerStrip')) ?? first(await directory.loadValue('ImageLength'))!,
    bitsPerSample: bits,
    predictor: first(await directory.loadValue('Predictor')) ?? 1,
    samplesPerPixel: first(await directory.loadValue('SamplesPerPixel')) ?? 1,
    littleEndian: directory.emsegLittleEndian ?? true,
  };
}

function swapBytes(bytes: Uint8Array, size: number): void {
  for (let i = 0; i + size <= bytes.length; i += size) {
    for (let a = i, b = i + size - 1; a < b; a += 1, b -= 1) {
      const t = bytes[a]!;
      bytes[a] = bytes[b]!;
      bytes[b] = t;
    }
  }
}

/**
 * The bounded codecs with the predictors undone for either byte order: geotiff 3.0.5 undoes the
 * horizontal predictor on native (little-endian) words and lays the floating-point predictor's
 * output out little-endian, which is wrong for big-endian files (found while testing).
 */
abstract class BoundedDecoder extends BaseDecoder {
  private get settings(): DecoderSettings {
    return this.parameters as unknown as DecoderSettings;
  }

  override async decode(buffer: ArrayBufferLike): Promise<ArrayBufferLike> {
    const p = this.settings;
    const bits = typeof p.bitsPerSample === 'number' ? p.bitsPerSample : Number(p.bitsPerSample[0]);
    const size = bits / 8;
    if (p.predictor === 3) {
      const out = await super.decode(buffer); // little-endian floats
      if (!p.littleEndian) swapBytes(new Uint8Array(out), size);
      return out;
    }
    const decoded = await this.decodeBlock(buffer);
    if (p.predictor !== 2) return decoded;
    if (![1, 2, 4].includes(size)) throw new EmsegError('E_UNSUPPORTED', `the horizontal predictor with ${bits}-bit samples`);
    const bytes = new Uint8Array(decoded);
    if (!p.littleEndian) swapBytes(bytes, size);
    const words = size === 1 ? bytes : size === 2 ? new Uint16Array(decoded, 0, bytes.length >> 1) : new Uint32Array(decoded, 0, bytes.length >> 2);
    const rowSamples = p.tileWidth * p.samplesPerPixel;
    const stride = p.samplesPerPixel;
    for (let row = 0; row + rowSamples <= words.length; row += rowSamples) {
      for (let i = row + stride; i < row + rowSamples; i += 1) words[i] = words[i]! + words[i - stride]!;
    }
    if (!p.littleEndian) swapBytes(bytes, size);
    return decoded;
  }
}

function expected(decoder: BaseDecoder): number {
  return segmentBytes(decoder.parameters as unknown as DecoderSettings);
}

class BoundedLzwDecoder extends BoundedDecoder {
  override decodeBlock(buffer: ArrayBufferLike): ArrayBufferLike {
    const result = decodeLzw(new Uint8Array(buffer), expected(this));
    if (result.problem?.startsWith('old-style')) throw new EmsegError('E_UNSUPPORTED', `Compression 5 with ${result.problem}`);
    return result.data.buffer;
  }
}

class BoundedDeflateDecoder extends BoundedDecoder {
  override decodeBlock(buffer: ArrayBufferLike): ArrayBufferLike {
    const size = expected(this);
    const stream = new Uint8Array(buffer);
    let inflated: Buffer;
    try {
      inflated = inflateSync(stream, { maxOutputLength: Math.max(1, size) }); // bounded: a zip bomb cannot grow it
    } catch {
      const out = new Uint8Array(size);
      try {
        unzlibSync(stream, { out });
      } catch (error) {
        throw new EmsegError('E_CORRUPT', `Deflate data does not inflate (${(error as Error).message})`);
      }
      return out.buffer;
    }
    if (inflated.length === size && inflated.byteOffset === 0 && inflated.buffer.byteLength === size) return inflated.buffer;
    const out = new Uint8Array(size);
    out.set(inflated.subarray(0, size));
    return out.buffer;
  }
}

class BoundedPackBitsDecoder extends BoundedDecoder {
  override decodeBlock(buffer: ArrayBufferLike): ArrayBufferLike {
    const out = new Uint8Array(expected(this));
    const source = new Uint8Array(buffer).slice(); // utif indexes `.buffer` directly: a fresh array
    UTIF.decode._decodePackBits(source, 0, source.length, out, 0);
    return out.buffer;
  }
}

/** Compression codes decoded by the bounded decoders here. */
export const BOUNDED_COMPRESSIONS: ReadonlySet<number> = new Set([5, 8, 32946, 32773]);

/** A bounded decoder for one page (IFD) of compression `compression` (one of BOUNDED_COMPRESSIONS). */
export async function boundedDecoderFor(compression: number, directory: object): Promise<{ decode(buffer: ArrayBufferLike): Promise<ArrayBufferLike> }> {
  const settings = await decoderParameters(directory as Directory);
  const Decoder = compression === 5 ? BoundedLzwDecoder : compression === 32773 ? BoundedPackBitsDecoder : BoundedDeflateDecoder;
  return new Decoder(settings as unknown as ConstructorParameters<typeof BaseDecoder>[0]);
}

const parameters = decoderParameters as unknown as Parameters<typeof addDecoder>[2];
addDecoder(5, async () => BoundedLzwDecoder, parameters, false);
addDecoder([8, 32946], async () => BoundedDeflateDecoder, parameters, false);
addDecoder(32773, async () => BoundedPackBitsDecoder, parameters, false);
