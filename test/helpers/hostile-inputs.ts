/**
 * The hostile-input corpus of the server, generated in memory (no large binaries in git): every
 * case the attack on issue 16 found, and the earlier bad-input kinds, each with the answer the
 * server must give. test/serve-hostile-corpus.test.ts sends them to a real listening server.
 *
 * TIFF files are built field by field (bench/shared/raw-tiff.ts), so a case can hold exactly the
 * inconsistency it tests.
 *
 * As a script, writes the corpus to a folder for trying it on a running server with curl:
 *   npx tsx test/helpers/hostile-inputs.ts /tmp/corpus   # NN-<case>.bin and manifest.json
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import sharp from 'sharp';
import { buildTiff, greyPage, short } from '../../bench/shared/raw-tiff.ts';

/**
 * A zlib stream of one Deflate block (as a compressor would write a bomb, with no block boundary
 * where an inflater might stop) that inflates to about `bytes` zero bytes at ~1032:1: a literal 0,
 * then matches of length 258 at distance 1, each coded in 2 bits by a dynamic Huffman table in
 * which the length symbol 285 and the distance symbol 0 have 1-bit codes.
 */
export function zerosZlibStream(bytes: number): Uint8Array {
  const matches = Math.ceil((bytes - 1) / 258);
  const out = new Uint8Array(64 + Math.ceil((matches * 2) / 8) + 16);
  let at = 2;
  let bit = 0;
  out[0] = 0x78;
  out[1] = 0x01;
  const bits = (value: number, count: number) => {
    for (let i = 0; i < count; i += 1) {
      if ((value >> i) & 1) out[at]! |= 1 << bit;
      if (++bit === 8) (bit = 0), (at += 1);
    }
  };
  const code = (value: number, length: number) => {
    for (let i = length - 1; i >= 0; i -= 1) bits((value >> i) & 1, 1); // Huffman codes go MSB first
  };
  bits(1, 1); // BFINAL
  bits(2, 2); // dynamic Huffman
  bits(286 - 257, 5); // HLIT: literal/length codes up to 285
  bits(0, 5); // HDIST: one distance code
  bits(18 - 4, 4); // HCLEN: code-length codes up to symbol 1 in the permuted order
  const order = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1];
  const clen: Record<number, number> = { 18: 1, 1: 2, 2: 2 }; // codes: 18 -> 0, 1 -> 10, 2 -> 11
  for (const symbol of order) bits(clen[symbol] ?? 0, 3);
  const cl = { 18: [0, 1], 1: [0b10, 2], 2: [0b11, 2] } as const;
  const zeros = (n: number) => {
    while (n > 0) {
      const run = Math.min(138, n);
      code(...cl[18]);
      bits(run - 11, 7);
      n -= run;
    }
  };
  // Literal/length lengths: 0 -> 2, 1..255 -> 0, 256 -> 2, 257..284 -> 0, 285 -> 1; distance 0 -> 1.
  code(...cl[2]);
  zeros(255);
  code(...cl[2]);
  zeros(28);
  code(...cl[1]);
  code(...cl[1]);
  // Codes: 285 -> 0, literal 0 -> 10, end of block -> 11; distance 0 -> 0.
  code(0b10, 2);
  const matchBits = bit + matches * 2; // every match is the code 0 then the code 0: zero bits, already there
  at += Math.floor(matchBits / 8);
  bit = matchBits % 8;
  code(0b11, 2);
  if (bit > 0) (bit = 0), (at += 1);
  const total = 1 + matches * 258;
  const b = total % 65521; // Adler-32 of zeros: a = 1, b = length mod 65521
  out.set([(b >>> 8) & 0xff, b & 0xff, 0x00, 0x01], at);
  return out.subarray(0, at + 4);
}

export interface HostileCase {
  name: string;
  method?: string;
  path?: string;
  query?: string;
  contentType?: string;
  body?: Uint8Array;
  /** Status and problem code the server must answer with (code undefined for a 200). */
  status: number;
  code?: string;
  /** Headers the answer must carry. */
  headers?: Record<string, string | RegExp>;
}

export interface CorpusLimits {
  maxBodyBytes: number;
  maxPages: number;
}

/** Every case, built fresh (a few MB in all; the Deflate bomb is the largest at ~10 MB). */
export async function hostileCorpus(limits: CorpusLimits): Promise<HostileCase[]> {
  const cases: HostileCase[] = [];
  const tiff = 'image/tiff';

  // 1. A strip of a 512x512 page that inflates to 10 GiB: only the 256 KiB the page needs are inflated.
  const bomb = zerosZlibStream(10 * 2 ** 30);
  cases.push({
    name: 'Deflate strip inflating to 10 GiB (the page needs 256 KiB)',
    contentType: tiff,
    body: buildTiff(bomb, [greyPage(512, 512, { offsets: [8], counts: [bomb.length], rows: 512, compression: 8 })]),
    status: 200,
  });

  // 2. 32 strips pointing at the same 5 MB PackBits run.
  const run = new Uint8Array(5 * 1024 * 1024);
  for (let i = 0; i < run.length; i += 2) run[i] = 0x81; // repeat the next byte 128 times
  cases.push({
    name: '32 strips sharing one 5 MB PackBits run',
    contentType: tiff,
    body: buildTiff(run, [greyPage(4096, 32, { offsets: Array(32).fill(8), counts: Array(32).fill(run.length), rows: 1, compression: 32773 })]),
    status: 422,
    code: 'E_CORRUPT',
  });

  // 3. A 16000x1 page whose one strip is a JPEG declaring 16000x16000.
  const jpeg = new Uint8Array(await sharp({ create: { width: 64, height: 64, channels: 3, background: { r: 90, g: 90, b: 90 } } }).greyscale().jpeg().toBuffer());
  patchJpegSize(jpeg, 16000, 16000);
  cases.push({
    name: 'a 16000x1 page holding a 16000x16000 JPEG strip',
    contentType: tiff,
    body: buildTiff(jpeg, [{ ...greyPage(16000, 1, { offsets: [8], counts: [jpeg.length], rows: 1, compression: 7 }) }]),
    status: 422,
    code: 'E_CORRUPT',
  });

  // 4. Half a million IFDs in a chain: refused after the page limit's worth, not walked whole.
  const ifdCount = 500_000;
  const flood = new Uint8Array(8 + ifdCount * 18);
  const view = new DataView(flood.buffer);
  flood.set([0x49, 0x49, 42, 0]);
  view.setUint32(4, 8, true);
  for (let i = 0; i < ifdCount; i += 1) {
    const at = 8 + i * 18;
    view.setUint16(at, 1, true);
    view.setUint16(at + 2, 256, true); // ImageWidth SHORT 1
    view.setUint16(at + 4, 3, true);
    view.setUint32(at + 6, 1, true);
    view.setUint16(at + 10, 1, true);
    view.setUint32(at + 14, i + 1 < ifdCount ? at + 18 : 0, true);
  }
  cases.push({ name: `${ifdCount} image directories in a ${(flood.length / 1e6).toFixed(0)} MB file`, contentType: tiff, body: flood, status: 413, code: 'E_TOO_LARGE' });

  // 5-7. Inconsistent fields that used to give a 500 or an all-255 mask.
  const pixels = new Uint8Array(64 * 64).fill(100);
  const good = greyPage(64, 64, { offsets: [8], counts: [pixels.length], rows: 64 });
  cases.push({ name: 'a RATIONAL ImageWidth of 129/2', contentType: tiff, body: buildTiff(pixels, [{ ...good, 256: { type: 5, values: [129, 2] } }]), status: 422, code: 'E_CORRUPT' });
  cases.push({ name: 'RowsPerStrip = -1 (SLONG)', contentType: tiff, body: buildTiff(pixels, [{ ...good, 278: { type: 9, values: [-1] } }]), status: 422, code: 'E_CORRUPT' });
  cases.push({ name: 'SamplesPerPixel = 0', contentType: tiff, body: buildTiff(pixels, [{ ...good, 277: short(0) }]), status: 422, code: 'E_CORRUPT' });

  // 8. Query numbers that are not decimal.
  const sane = buildTiff(pixels, [good]);
  cases.push({ name: 'threshold= (empty)', contentType: tiff, query: '?threshold=', body: sane, status: 400, code: 'E_BAD_ARGUMENT' });
  cases.push({ name: 'threshold=0x1', contentType: tiff, query: '?threshold=0x1', body: sane, status: 400, code: 'E_BAD_ARGUMENT' });

  // 9. Answers sent before the body is read (the keep-alive loss of issue 16).
  const large = new Uint8Array(3 * 1024 * 1024).fill(7);
  cases.push({ name: 'a 3 MB body with Content-Type text/plain (415 before reading)', contentType: 'text/plain', body: large, status: 415, code: 'E_UNSUPPORTED_MEDIA_TYPE', headers: { connection: 'close' } });
  cases.push({ name: 'a 3 MB body with output=bogus (400 before reading)', contentType: tiff, query: '?output=bogus', body: large, status: 400, code: 'E_BAD_ARGUMENT', headers: { connection: 'close' } });
  cases.push({ name: 'a body over the limit', contentType: tiff, body: new Uint8Array(limits.maxBodyBytes + 1), status: 413, code: 'E_TOO_LARGE', headers: { connection: 'close' } });

  // 10. Methods and paths.
  cases.push({ name: 'GET /v1/segment', method: 'GET', status: 405, code: 'E_METHOD_NOT_ALLOWED', headers: { allow: 'POST' } });
  cases.push({ name: 'POST /healthz with a body', method: 'POST', path: '/healthz', contentType: tiff, body: large, status: 405, code: 'E_METHOD_NOT_ALLOWED', headers: { allow: 'GET, HEAD', connection: 'close' } });
  cases.push({ name: 'the web demo source map', method: 'GET', path: '/app.js.map', status: 404, code: 'E_NOT_FOUND' });

  // 11. The earlier bad-input kinds.
  cases.push({ name: 'text sent as image/png', contentType: 'image/png', body: new TextEncoder().encode('hello, not an image'), status: 415, code: 'E_NOT_AN_IMAGE' });
  cases.push({ name: 'an empty body', contentType: tiff, body: new Uint8Array(0), status: 400, code: 'E_BAD_ARGUMENT' });
  cases.push({ name: 'a TIFF cut in half', contentType: tiff, body: sane.subarray(0, 8 + pixels.length / 2), status: 422, code: 'E_CORRUPT' });
  cases.push({ name: 'a small TIFF declaring 100000x100000 pixels', contentType: tiff, body: buildTiff(new Uint8Array(16), [greyPage(100_000, 100_000, { offsets: [8], counts: [16], rows: 100_000 })]), status: 413, code: 'E_TOO_LARGE' });
  const tooManyPages = Array.from({ length: limits.maxPages + 1 }, () => greyPage(1, 1, { offsets: [8], counts: [1], rows: 1 }));
  cases.push({ name: `${limits.maxPages + 1} pages of 1x1`, contentType: tiff, body: buildTiff(new Uint8Array(1), tooManyPages), status: 413, code: 'E_TOO_LARGE' });
  return cases;
}

/** Rewrites the size in the frame header (SOF0..SOF2) of a JPEG. */
function patchJpegSize(jpeg: Uint8Array, width: number, height: number): void {
  let i = 2;
  while (i + 9 < jpeg.length) {
    const marker = jpeg[i + 1]!;
    const length = (jpeg[i + 2]! << 8) | jpeg[i + 3]!;
    if (marker >= 0xc0 && marker <= 0xc2) {
      jpeg.set([height >> 8, height & 0xff, width >> 8, width & 0xff], i + 5);
      return;
    }
    i += 2 + length;
  }
  throw new Error('no frame header in the JPEG');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const folder = process.argv[2];
  if (!folder) throw new Error('usage: npx tsx test/helpers/hostile-inputs.ts <output folder>');
  mkdirSync(folder, { recursive: true });
  const cases = await hostileCorpus({ maxBodyBytes: 100 * 1024 * 1024, maxPages: 1000 });
  const manifest = cases.map((hostile, i) => {
    const file = `${String(i).padStart(2, '0')}-${hostile.name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 60)}.bin`;
    if (hostile.body) writeFileSync(join(folder, file), hostile.body);
    const { body, ...rest } = hostile;
    return { ...rest, ...(body ? { file } : {}) };
  });
  writeFileSync(join(folder, 'manifest.json'), `${JSON.stringify(manifest, (_key, value: unknown) => (value instanceof RegExp ? String(value) : value), 2)}\n`);
  process.stdout.write(`${cases.length} cases in ${folder} (manifest.json: method, path, query, content type, expected status and code)\n`);
}
