/**
 * TIFF LZW decompression (TIFF 6.0 section 13: MSB-first codes of 9 to 12 bits, Clear = 256,
 * EndOfInformation = 257, code width growing one code early). Written here instead of using
 * utif's decoder because utif's loops forever on a truncated strip (found while testing). This one
 * stops at the end of the input or when `expected` bytes are out, never writes past `expected`,
 * and reports how many bytes it produced so the caller can call a short strip truncated.
 */
const CLEAR = 256;
const END = 257;
const MAX_WIDTH = 12;
const TABLE_SIZE = 1 << MAX_WIDTH;

export interface LzwResult {
  /** `expected` bytes; those after `length` are zero. */
  readonly data: Uint8Array;
  /** Bytes actually decoded. */
  readonly length: number;
  /** 'ok', or why decoding stopped early. */
  readonly problem?: string;
}

export function decodeLzw(source: Uint8Array, expected: number): LzwResult {
  const out = new Uint8Array(expected);
  if (source.length >= 2 && source[0] === 0 && (source[1]! & 0x01) === 1) {
    return { data: out, length: 0, problem: 'old-style (pre-TIFF 6.0, LSB-first) LZW' };
  }
  const prefix = new Uint16Array(TABLE_SIZE);
  const suffix = new Uint8Array(TABLE_SIZE);
  const first = new Uint8Array(TABLE_SIZE);
  const lengths = new Uint16Array(TABLE_SIZE);
  for (let i = 0; i < 256; i += 1) {
    suffix[i] = i;
    first[i] = i;
    lengths[i] = 1;
  }
  const totalBits = source.length * 8;
  let bitPos = 0;
  let width = 9;
  let next = 258;
  let old = -1;
  let pos = 0;

  const emit = (code: number): void => {
    const length = lengths[code]!;
    let c = code;
    for (let k = length - 1; k >= 0; k -= 1) {
      if (pos + k < expected) out[pos + k] = suffix[c]!;
      c = prefix[c]!;
    }
    pos = Math.min(expected, pos + length);
  };

  while (pos < expected) {
    if (bitPos + width > totalBits) return { data: out, length: pos, problem: 'compressed data ends early' };
    // Read `width` bits MSB-first; at most 12 bits span at most 3 bytes.
    const byte = bitPos >>> 3;
    const window = (source[byte]! << 16) | ((source[byte + 1] ?? 0) << 8) | (source[byte + 2] ?? 0);
    const code = (window >>> (24 - (bitPos & 7) - width)) & ((1 << width) - 1);
    bitPos += width;

    if (code === END) break;
    if (code === CLEAR) {
      width = 9;
      next = 258;
      old = -1;
      continue;
    }
    if (old === -1) {
      if (code > 255) return { data: out, length: pos, problem: `code ${code} right after a clear code` };
      out[pos] = code;
      pos += 1;
      old = code;
      continue;
    }
    if (code < next) {
      emit(code);
      if (next < TABLE_SIZE) {
        prefix[next] = old;
        suffix[next] = first[code]!;
        first[next] = first[old]!;
        lengths[next] = lengths[old]! + 1;
        next += 1;
      }
    } else if (code === next && next < TABLE_SIZE) {
      prefix[next] = old;
      suffix[next] = first[old]!;
      first[next] = first[old]!;
      lengths[next] = lengths[old]! + 1;
      next += 1;
      emit(code);
    } else {
      return { data: out, length: pos, problem: `code ${code} not yet in the table (${next} entries)` };
    }
    old = code;
    if (next + 1 >= 1 << width && width < MAX_WIDTH) width += 1;
  }
  return { data: out, length: pos };
}
