/** core/downsample.ts: halving rules of the pyramid levels, including odd edges and ties. */
import { describe, expect, it } from 'vitest';
import { halveImage } from '../core/downsample.ts';

describe('halveImage', () => {
  it("'majority' keeps a mask binary; ties go to 0 (membrane)", () => {
    // 3x3 mask -> 2x2: blocks [255 255 / 255 0] -> 255, [0 / 255] (1x2 tie) -> 0, [255 0] tie -> 0, [255] -> 255
    const data = new Uint8Array([255, 255, 0, 255, 0, 255, 255, 0, 255]);
    const out = halveImage({ width: 3, height: 3, data }, 'majority');
    expect([out.width, out.height]).toEqual([2, 2]);
    expect([...out.data]).toEqual([255, 0, 0, 255]);
  });

  it("'mean' averages float blocks exactly and rounds uint8 half up", () => {
    const f = halveImage({ width: 3, height: 2, data: new Float32Array([0, 0.5, 1, 1, 0.25, 0.75]) }, 'mean');
    expect([...f.data]).toEqual([Math.fround(0.4375), Math.fround(0.875)]);
    expect(f.data).toBeInstanceOf(Float32Array);
    const u = halveImage({ width: 2, height: 2, data: new Uint8Array([1, 2, 2, 2]) }, 'mean');
    expect([...u.data]).toEqual([2]); // 1.75 -> 2
    const h = halveImage({ width: 2, height: 1, data: new Uint8Array([1, 2]) }, 'mean');
    expect([...h.data]).toEqual([2]); // 1.5 -> 2
  });

  it("'nearest' keeps the top-left label of each block, odd edges included", () => {
    // 3x3 labels -> 2x2: blocks start at (0, 0), (2, 0), (0, 2), (2, 2)
    const out = halveImage({ width: 3, height: 3, data: Uint32Array.of(7, 8, 9, 10, 11, 12, 4000000000, 14, 15) }, 'nearest');
    expect(out.data).toBeInstanceOf(Uint32Array);
    expect([...out.data]).toEqual([7, 9, 4000000000, 15]);
  });
});
