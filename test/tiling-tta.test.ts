/**
 * The 8 dihedral views of test-time augmentation (core/tta.ts): each is a distinct bijection,
 * transform then inverse is the identity, rotations and flips compose as the group says, non-square
 * tiles are sent with swapped shapes, and the average is what it should be.
 */
import { describe, expect, it } from 'vitest';
import { DIHEDRAL_TRANSFORMS, inverseTransformTiles, sourceIndexMap, swapsAxes, transformTiles, withTta } from '../core/tta.ts';
import type { TilePredictor } from '../core/tiling.ts';

const tiles = (n: number, height: number, width: number) => Float32Array.from({ length: n * height * width }, (_, i) => i * 0.5 - 3);

describe('dihedral transforms', () => {
  it('are 8 distinct bijections, undone by their inverse, on non-square tiles', () => {
    const [n, h, w] = [2, 3, 5];
    const input = tiles(n, h, w);
    const seen = new Set<string>();
    for (const transform of DIHEDRAL_TRANSFORMS) {
      const map = sourceIndexMap(transform, h, w);
      expect(new Set(map).size).toBe(h * w);
      seen.add(Array.from(map).join(','));
      const out = transformTiles(input, n, h, w, transform);
      expect(Array.from(inverseTransformTiles(out, n, h, w, transform))).toEqual(Array.from(input));
    }
    expect(seen.size).toBe(8);
  });

  it('rotate-90 is counter-clockwise, and twice rotate-90 is rotate-180', () => {
    // 2x3:  1 2 3 / 4 5 6  -> counter-clockwise 3x2: 3 6 / 2 5 / 1 4
    const image = Float32Array.from([1, 2, 3, 4, 5, 6]);
    expect(Array.from(transformTiles(image, 1, 2, 3, 'rotate-90'))).toEqual([3, 6, 2, 5, 1, 4]);
    const once = transformTiles(image, 1, 2, 3, 'rotate-90');
    const twice = transformTiles(once, 1, 3, 2, 'rotate-90');
    expect(Array.from(twice)).toEqual(Array.from(transformTiles(image, 1, 2, 3, 'rotate-180')));
    const thrice = transformTiles(twice, 1, 2, 3, 'rotate-90');
    expect(Array.from(thrice)).toEqual(Array.from(transformTiles(image, 1, 2, 3, 'rotate-270')));
  });
});

describe('withTta', () => {
  it('sends swapped shapes for non-square tiles, at most maxTilesPerCall at a time, and averages', async () => {
    const shapes: string[] = [];
    // A view-dependent predictor: x plus the column index it sees. The average over the 8 views of
    // a pixel's column index is known: (col + (w-1-col)) / 2 for the 4 unswapped views and
    // (row + (h-1-row)) / 2 for the 4 swapped ones.
    const predictor: TilePredictor = async (input, n, height, width) => {
      shapes.push(`${n}x${height}x${width}`);
      const out = new Float32Array(input.length);
      for (let i = 0; i < input.length; i++) out[i] = input[i]! + (i % width);
      return out;
    };
    const [n, h, w] = [3, 4, 6];
    const input = tiles(n, h, w);
    const out = await withTta(predictor, { maxTilesPerCall: 5 })(input, n, h, w);
    const expectedOffset = ((w - 1) / 2 + (h - 1) / 2) / 2;
    for (let i = 0; i < input.length; i++) expect(out[i]).toBeCloseTo(input[i]! + expectedOffset, 5);
    expect(shapes.every((s) => Number(s.split('x')[0]) <= 5)).toBe(true);
    const tilesByShape = (hh: number, ww: number) => shapes.filter((s) => s.endsWith(`x${hh}x${ww}`)).reduce((sum, s) => sum + Number(s.split('x')[0]), 0);
    expect(tilesByShape(h, w)).toBe(4 * n);
    expect(tilesByShape(w, h)).toBe(4 * n);
    expect(DIHEDRAL_TRANSFORMS.filter(swapsAxes)).toHaveLength(4);
  });

  it('is exactly the plain prediction for a pointwise predictor', async () => {
    const plusOne: TilePredictor = async (input) => input.map((x) => x + 1);
    const input = tiles(2, 16, 32);
    const out = await withTta(plusOne)(input, 2, 16, 32);
    expect(Array.from(out)).toEqual(Array.from(input.map((x) => x + 1)));
  });
});
