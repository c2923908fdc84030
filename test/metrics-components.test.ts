/** core/metrics/components.ts: the run-based labelling equals a textbook breadth-first flood fill. */
import { describe, expect, it } from 'vitest';
import { labelComponents4 } from '../core/metrics/index.ts';
import { createRng } from '../core/random.ts';

/** The textbook labelling: a breadth-first flood fill from each unlabelled mask pixel in row-major order. */
function referenceComponents(mask: ArrayLike<number>, width: number, height: number): { labels: Int32Array; sizes: number[] } {
  const labels = new Int32Array(width * height);
  const sizes = [0];
  for (let start = 0; start < labels.length; start++) {
    if (mask[start] === 0 || labels[start] !== 0) continue;
    const label = sizes.length;
    labels[start] = label;
    const queue = [start];
    for (let head = 0; head < queue.length; head++) {
      const p = queue[head]!;
      const x = p % width;
      for (const q of [x > 0 ? p - 1 : -1, x < width - 1 ? p + 1 : -1, p >= width ? p - width : -1, p + width < labels.length ? p + width : -1]) {
        if (q >= 0 && mask[q] !== 0 && labels[q] === 0) {
          labels[q] = label;
          queue.push(q);
        }
      }
    }
    sizes.push(queue.length);
  }
  return { labels, sizes };
}

describe('labelComponents4', () => {
  it('equals a breadth-first flood fill on random masks of every density, size and shape', () => {
    const rng = createRng(11);
    for (let trial = 0; trial < 60; trial++) {
      const width = rng.int(1, 40);
      const height = rng.int(1, 40);
      const density = [0.1, 0.45, 0.6, 0.8, 0.95][trial % 5]!;
      const mask = new Uint8Array(width * height).map(() => (rng.float() < density ? 1 + rng.int(0, 254) : 0));
      const expected = referenceComponents(mask, width, height);
      const found = labelComponents4(mask, width, height);
      expect(found.labels).toEqual(expected.labels);
      expect(found.count).toBe(expected.sizes.length - 1);
      expect([...found.sizes]).toEqual(expected.sizes);
    }
  });

  it('joins runs through U shapes and spirals (sets merged after their runs were seen)', () => {
    const rows = ['#.#.#.#', '#.#.#.#', '#######', '.......', '###.###', '..#.#..', '###.###'];
    const width = rows[0]!.length;
    const mask = Uint8Array.from(rows.join(''), (c) => (c === '#' ? 1 : 0));
    const { labels, count, sizes } = labelComponents4(mask, width, rows.length);
    expect(count).toBe(3);
    expect([...sizes]).toEqual([0, 15, 7, 7]);
    expect(labels).toEqual(referenceComponents(mask, width, rows.length).labels);
  });

  it('labels empty and full masks, and names a wrong size', () => {
    expect(labelComponents4(new Uint8Array(6), 3, 2).count).toBe(0);
    const full = labelComponents4(new Uint8Array(6).fill(1), 3, 2);
    expect([...full.labels]).toEqual([1, 1, 1, 1, 1, 1]);
    expect([...full.sizes]).toEqual([0, 6]);
    expect(() => labelComponents4(new Uint8Array(5), 3, 2)).toThrow('mask: expected 6 pixels for 3x2, found 5');
  });
});
