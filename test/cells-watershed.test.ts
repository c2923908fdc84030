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

/**
 * The textbook flooding, as a reference: every labelled pixel pushes each unfinished neighbour
 * (a pixel may be queued several times), a sorted list for a queue, (elevation, push number) first.
 */
function referenceWatershed(elevation: ArrayLike<number>, seeds: ArrayLike<number>, width: number, height: number, mask: ArrayLike<number> | null): Int32Array {
  const n = width * height;
  const labels = new Int32Array(n);
  const done = new Uint8Array(n);
  const queue: { e: number; order: number; p: number; label: number }[] = [];
  let order = 0;
  const neighbours = (p: number) => [p % width > 0 ? p - 1 : -1, p >= width ? p - width : -1, p % width < width - 1 ? p + 1 : -1, p + width < n ? p + width : -1].filter((q) => q >= 0);
  const push = (p: number, label: number) => {
    for (const q of neighbours(p)) if (done[q] === 0 && (mask === null || mask[q] !== 0)) queue.push({ e: elevation[q]!, order: order++, p: q, label });
  };
  for (let p = 0; p < n; p++) if (seeds[p] !== 0) (labels[p] = seeds[p]!), (done[p] = 1);
  for (let p = 0; p < n; p++) if (labels[p] !== 0) push(p, labels[p]!);
  while (queue.length > 0) {
    let best = 0;
    for (let i = 1; i < queue.length; i++) if (queue[i]!.e < queue[best]!.e || (queue[i]!.e === queue[best]!.e && queue[i]!.order < queue[best]!.order)) best = i;
    const { p, label } = queue.splice(best, 1)[0]!;
    if (done[p] !== 0) continue;
    done[p] = 1;
    if (neighbours(p).some((q) => labels[q] !== 0 && labels[q] !== label)) continue;
    labels[p] = label;
    push(p, label);
  }
  return labels;
}

describe('seededWatershed', () => {
  it('floods exactly as the textbook algorithm, ties and masks included', () => {
    const rng = createRng(11);
    for (let trial = 0; trial < 60; trial++) {
      const width = rng.int(1, 24);
      const height = rng.int(1, 24);
      const n = width * height;
      // every other trial on a few levels only, so that equal elevations are common
      const levels = rng.int(2, 6);
      const elevation = Float32Array.from({ length: n }, () => (trial % 2 === 0 ? rng.int(0, levels) / levels : rng.float()));
      const seeds = new Int32Array(n);
      for (let k = rng.int(0, 8); k > 0; k--) seeds[rng.int(0, n)] = rng.int(1, 5);
      const mask = trial % 3 === 0 ? Uint8Array.from({ length: n }, () => (rng.float() < 0.8 ? 1 : 0)) : null;
      expect([...seededWatershed(elevation, seeds, width, height, { mask })]).toEqual([...referenceWatershed(elevation, seeds, width, height, mask)]);
    }
  });

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

  it('invert floods 1 - elevation: the labels of flooding a float32 copy of 1 - elevation', () => {
    const rng = createRng(21);
    const width = 37;
    const height = 29;
    const probability = Float64Array.from({ length: width * height }, () => rng.float());
    const seeds = new Int32Array(width * height);
    for (let k = 1; k <= 12; k++) seeds[rng.int(0, width * height - 1)] = k;
    const mask = Uint8Array.from(probability, (v) => (v > 0.1 ? 1 : 0));
    const expected = seededWatershed(Float32Array.from(probability, (v) => 1 - v), seeds, width, height, { mask });
    expect(seededWatershed(probability, seeds, width, height, { mask, invert: true })).toEqual(expected);
    expect(seededWatershed(probability, seeds, width, height, { mask })).not.toEqual(expected);
    // into the seeds' own array: the same labels
    const own = Int32Array.from(seeds);
    expect(seededWatershed(probability, own, width, height, { mask, invert: true, into: own })).toBe(own);
    expect(own).toEqual(expected);
    expect(() => seededWatershed(probability, seeds, width, height, { into: new Int32Array(3) })).toThrow(`into: expected ${width * height} pixels for ${width}x${height}, found 3`);
  });

  it('floods nothing without seeds and names bad arguments', () => {
    expect([...seededWatershed(new Float32Array(4), new Int32Array(4), 2, 2)]).toEqual([0, 0, 0, 0]);
    expect(() => seededWatershed(new Float32Array(3), new Int32Array(4), 2, 2)).toThrow('elevation: expected 4 pixels for 2x2, found 3');
    expect(() => seededWatershed(new Float32Array(4), Int32Array.of(0, -1, 0, 0), 2, 2)).toThrow('seeds: expected integer labels 0-2147483647, found -1 at pixel 1');
    expect(() => seededWatershed(new Float32Array(4), Float64Array.of(0, 2 ** 31, 0, 0), 2, 2)).toThrow('seeds: expected integer labels 0-2147483647, found 2147483648 at pixel 1');
    expect(() => seededWatershed(new Float32Array(4), Float64Array.of(0, 1.5, 0, 0), 2, 2)).toThrow('seeds: expected integer labels 0-2147483647, found 1.5 at pixel 1');
    expect(() => seededWatershed(Float32Array.of(0, Number.NaN, 0, 0), Int32Array.of(1, 0, 0, 0), 2, 2)).toThrow('elevation: expected numbers, found NaN at pixel 1');
  });
});
