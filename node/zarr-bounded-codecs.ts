/**
 * zarrita's zlib and gzip codecs, replaced by ones whose output is bounded by the size the chunk
 * declares (chunk shape x bytes per sample): zarrita inflates without a limit, so a small chunk
 * file could inflate to gigabytes (a decompression bomb). Node's zlib (native, about twice as fast
 * as a JavaScript inflate) inflates with `maxOutputLength` set to the declared size, so a stream
 * longer than the chunk is an error; one that inflates to fewer bytes is reported by the chunk size
 * check of node/ome-zarr-source.ts. Other codecs (Blosc, zstd, lz4) are zarrita's own.
 *
 * Registered once, process-wide, when this module is imported (zarrita keeps one registry).
 */
import { gunzipSync, inflateSync } from 'node:zlib';
import * as zarr from 'zarrita';
import { EmsegError } from '../core/errors.ts';

const SAMPLE_BYTES: Readonly<Record<string, number>> = {
  bool: 1, int8: 1, uint8: 1, int16: 2, uint16: 2, float16: 2, int32: 4, uint32: 4, float32: 4, int64: 8, uint64: 8, float64: 8,
};

/** What zarrita passes to a codec: the chunk's shape, sample type and codec list. */
interface ChunkMeta {
  shape?: readonly number[];
  dataType?: string;
  codecs?: readonly { name: string }[];
}

/** Bytes of one sample of a Zarr data type, or undefined for types without a fixed size. */
export function sampleBytes(dataType: string): number | undefined {
  return SAMPLE_BYTES[dataType];
}

/** Bytes a decoded chunk holds, or undefined when the sample type has no fixed size. */
function chunkBytes(meta: ChunkMeta): number | undefined {
  // zlib over a whole shard (index included) has no size known here; inside a shard it has.
  if (meta.codecs?.some((codec) => codec.name === 'sharding_indexed')) return undefined;
  const size = SAMPLE_BYTES[meta.dataType ?? ''];
  return size === undefined || !meta.shape ? undefined : meta.shape.reduce((a, b) => a * b, 1) * size;
}

function boundedCodec(name: string, inflate: typeof inflateSync) {
  return class {
    readonly kind = 'bytes_to_bytes';
    constructor(private readonly expected: number | undefined) {}
    static fromConfig(_config: unknown, meta: ChunkMeta) {
      return new this(chunkBytes(meta));
    }
    encode(): Uint8Array {
      throw new Error(`${name} encode is not used`);
    }
    decode(bytes: Uint8Array): Uint8Array {
      try {
        const result = this.expected === undefined ? inflate(bytes) : inflate(bytes, { maxOutputLength: Math.max(1, this.expected) });
        return new Uint8Array(result.buffer, result.byteOffset, result.length);
      } catch (error) {
        const tooLong = (error as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE';
        const why = tooLong ? `inflates to more than the chunk's ${this.expected} bytes` : (error as Error).message;
        throw new EmsegError('E_CORRUPT', `${name} data does not inflate (${why})`);
      }
    }
  };
}

const zlib = boundedCodec('zlib', inflateSync);
const gzip = boundedCodec('gzip', gunzipSync);
for (const key of ['zlib', 'numcodecs.zlib']) zarr.registry.set(key, async () => zlib as never);
for (const key of ['gzip', 'numcodecs.gzip']) zarr.registry.set(key, async () => gzip as never);
