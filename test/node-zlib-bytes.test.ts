/**
 * node/zlib-bytes.ts: whole chunks deflated and inflated back unchanged (compressible, random and
 * empty bytes, levels 0-9); a small output does not keep a chunk-sized buffer; inflated bytes own
 * their buffer (typed arrays view them at offset 0); an inflate told
 * the length it expects refuses a stream that inflates to more; what is not zlib is refused.
 */
import { inflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { deflateBytes, inflateBytes } from '../node/zlib-bytes.ts';

function labelsLike(n: number): Uint8Array {
  const labels = new Uint32Array(n);
  for (let i = 0; i < n; i++) labels[i] = 1 + Math.floor(i / 97);
  return new Uint8Array(labels.buffer);
}

function randomBytes(n: number): Uint8Array {
  const out = new Uint8Array(n);
  let state = 12345;
  for (let i = 0; i < n; i++) {
    state = (state * 1103515245 + 12345) >>> 0;
    out[i] = state >>> 24;
  }
  return out;
}

describe('deflateBytes and inflateBytes', () => {
  it('give back the bytes deflated, for compressible, random and empty input, at levels 0, 1 and 9', async () => {
    for (const bytes of [labelsLike(512 * 512), randomBytes(300_000), new Uint8Array(0)]) {
      for (const level of [0, 1, 9]) {
        const stored = await deflateBytes(bytes, level);
        expect(Buffer.from(inflateSync(stored)).equals(Buffer.from(bytes))).toBe(true);
        expect(Buffer.from(await inflateBytes(stored, bytes.length)).equals(Buffer.from(bytes))).toBe(true);
        expect(Buffer.from(await inflateBytes(stored)).equals(Buffer.from(bytes))).toBe(true);
      }
    }
  });

  it('keeps no chunk-sized buffer behind a small output', async () => {
    const bytes = labelsLike(512 * 512);
    const stored = await deflateBytes(bytes, 1);
    expect(stored.byteLength).toBeLessThan(bytes.length / 20);
    expect(stored.buffer.byteLength).toBeLessThan(2 * stored.byteLength + 8192);
  });

  it('inflates into bytes that own their buffer, small ones included (no view into a shared pool)', async () => {
    for (const n of [12, 3000, 200_000]) {
      const bytes = labelsLike(n);
      for (const out of [await inflateBytes(await deflateBytes(bytes, 1), bytes.length), await inflateBytes(await deflateBytes(bytes, 1))]) {
        expect(out.byteOffset).toBe(0);
        expect(out.buffer.byteLength).toBe(bytes.length);
        expect(Array.from(new Uint32Array(out.buffer))).toEqual(Array.from(new Uint32Array(bytes.buffer)));
      }
    }
  });

  it('refuses a stream that inflates to more than expected, and bytes that are not zlib', async () => {
    const stored = await deflateBytes(labelsLike(1000), 1);
    await expect(inflateBytes(stored, 3999)).rejects.toThrow(RangeError);
    expect((await inflateBytes(stored, 8000)).length).toBe(4000);
    await expect(inflateBytes(new Uint8Array([1, 2, 3, 4]), 16)).rejects.toThrow(/incorrect header check/);
  });
});
