import { describe, expect, it } from 'vitest';
import { concatBytes } from '../core/bytes.ts';

describe('concatBytes', () => {
  it('joins Uint8Arrays (views included) and ArrayBuffers in order', () => {
    const backing = Uint8Array.from([9, 1, 2, 9]);
    const out = concatBytes([Uint8Array.from([0]), backing.subarray(1, 3), Uint8Array.from([3, 4]).buffer, new Uint8Array(0)]);
    expect([...out]).toEqual([0, 1, 2, 3, 4]);
    expect(out.buffer.byteLength).toBe(5);
    expect(concatBytes([]).length).toBe(0);
  });
});
