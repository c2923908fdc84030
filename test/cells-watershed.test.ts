/** core/cells/watershed.ts: seeded flooding with one-pixel lines, 4-connectivity, masks. */
import { describe, expect, it } from 'vitest';
import { seededWatershed } from '../core/cells/watershed.ts';
import { createRng } from '../core/random.ts';

/** No two different labels are 4-neighbours. */
function separated(labels: Int32Array, width: number): boolean {
  for (let p = 0; p < labels.length; p++) {
    const a = labels[p]!;
    if (a === 0) continue;
    if (p % width < width - 1 && labels[p + 1] !== 0 && labels[p + 1] !== a) return false;
    if (p + width < labels.length && labels[p + width] !== 0 && labels[p + width] !== a) return false;
  }
  return true;
}

describe('seededWatershed', () => {
  it('splits two valleys at the ridge with a one-pixel line', () => {
    // 1D profile over 9 columns, 3 rows: valleys at x = 1 and x = 7, ridge at x = 4
    const profile = [0.2, 0, 0.3, 0.6, 0.9, 0.6, 0.3, 0, 0.2];
    const width = 9;
    const height = 3;
    const elevation = Float32Array.from({ length: width * height }, (_, i) => profile[i % width]!);
    const seeds = new Int32Array(width * height);
    seeds[width + 1] = 1;
    seeds[width + 7] = 2;
    const labels = seededWatershed(elevation, seeds, width, height);
    for (let y = 0; y < height; y++) expect([...labels.slice(y * width, y * width + width)]).toEqual([1, 1, 1, 1, 0, 2, 2, 2, 2]);
  });

  it('keeps seeds, never lets different labels touch, and leaves masked pixels 0', () => {
    const rng = createRng(3);
    const width = 40;
    const height = 30;
    const elevation = Float32Array.from({ length: width * height }, () => rng.float());
    const seeds = new Int32Array(width * height);
    for (let k = 1; k <= 12; k++) seeds[rng.int(0, width * height - 1)] = k;
    const mask = Uint8Array.from({ length: width * height }, (_, i) => (i % width === 20 ? 0 : 1));
    const labels = seededWatershed(elevation, seeds, width, height, { mask });
    expect(separated(labels, width)).toBe(true);
    for (let p = 0; p < seeds.length; p++) if (seeds[p] !== 0) expect(labels[p]).toBe(seeds[p]);
    for (let y = 0; y < height; y++) {
      if (seeds[y * width + 20] === 0) expect(labels[y * width + 20]).toBe(0);
    }
    // every pixel reachable from a seed is a cell or a line; without the mask, lines are rare
    const unmasked = seededWatershed(elevation, seeds, width, height);
    const lines = unmasked.filter((v) => v === 0).length;
    expect(lines).toBeGreaterThan(0);
    expect(lines).toBeLessThan(width * height * 0.25);
  });

  it('floods nothing without seeds and names bad arguments', () => {
    expect([...seededWatershed(new Float32Array(4), new Int32Array(4), 2, 2)]).toEqual([0, 0, 0, 0]);
    expect(() => seededWatershed(new Float32Array(3), new Int32Array(4), 2, 2)).toThrow('elevation: expected 4 pixels for 2x2, found 3');
    expect(() => seededWatershed(new Float32Array(4), Int32Array.of(0, -1, 0, 0), 2, 2)).toThrow('seeds: expected non-negative integer labels, found -1 at pixel 1');
  });
});
