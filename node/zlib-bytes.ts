/**
 * zlib compression of whole chunks (OME-Zarr chunks, BigTIFF tiles, stored label chunks) on
 * libuv's threads, the output made in one piece. Node's asynchronous zlib hands its output over in
 * pieces of `chunkSize` bytes (16 KiB unless told), and each piece is a round trip through the main
 * thread (a callback, the piece kept, the next step queued, the pieces joined at the end): a
 * 1 MiB chunk took 64 of them, and where the main thread was busy (feeding the model, renumbering
 * labels) the compression waited for it between pieces. Here the piece is as large as the output
 * can be (deflate) or is expected to be (inflate).
 */
import { promisify } from 'node:util';
import { deflate, inflate } from 'node:zlib';

const deflateAsync = promisify(deflate);
const inflateAsync = promisify(inflate);

/** zlib's smallest piece size. */
const SMALLEST_PIECE = 64;
/** The piece size of an inflate whose output size is not known. */
const UNKNOWN_SIZE_PIECE = 1024 * 1024;

/**
 * The zlib stream of `bytes` at `level` (0-9). Its piece is a little more than the input (zlib's
 * worst case: stored blocks), so the output comes in one piece; when it is less than half of that
 * piece it is copied out, so that what the caller keeps holds no unused memory.
 */
export async function deflateBytes(bytes: Uint8Array, level: number): Promise<Uint8Array<ArrayBuffer>> {
  const bound = bytes.length + (bytes.length >> 10) + 64;
  // zlib's output is a Buffer of its own ArrayBuffer, never a shared one
  const out = (await deflateAsync(bytes, { level, chunkSize: Math.max(SMALLEST_PIECE, bound) })) as Uint8Array<ArrayBuffer>;
  return out.byteLength < out.buffer.byteLength / 2 ? Uint8Array.prototype.slice.call(out) : out;
}

/**
 * The bytes of zlib stream `stored`, owning their ArrayBuffer (at offset 0, the buffer exactly as
 * long: a typed array of any sample type can view it). With `expectedLength`, they come in one
 * piece of that size and a stream that inflates to more is refused (RangeError) before it takes
 * more memory; the caller checks the length it got.
 */
export async function inflateBytes(stored: Uint8Array, expectedLength?: number): Promise<Uint8Array<ArrayBuffer>> {
  const options = expectedLength === undefined ? { chunkSize: UNKNOWN_SIZE_PIECE } : { chunkSize: Math.max(SMALLEST_PIECE, expectedLength), maxOutputLength: Math.max(1, expectedLength) };
  const out = (await inflateAsync(stored, options)) as Uint8Array<ArrayBuffer>;
  // small outputs share Node's buffer pool, and a short one leaves its piece partly unused
  return out.byteOffset === 0 && out.byteLength === out.buffer.byteLength ? out : Uint8Array.prototype.slice.call(out);
}
