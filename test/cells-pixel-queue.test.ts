/** core/cells/pixel-queue.ts: pops exactly what one binary heap of every entry pops (priority, then push order). */
import { describe, expect, it } from 'vitest';
import { PixelHeap } from '../core/cells/pixel-heap.ts';
import { PixelQueue, priorityBucket } from '../core/cells/pixel-queue.ts';
import { createRng } from '../core/random.ts';

describe('priorityBucket', () => {
  it('never decreases with the priority, over the whole number line', () => {
    const values = [-Infinity, -1e30, -2, -1, -0.5, -1e-40, -0, 0, 1e-45, 1e-40, 6e-8, 0.25, 0.4999999, 0.5, 0.75, 1, 1.5, 2, 1e30, Infinity];
    for (let i = 1; i < values.length; i++) expect(priorityBucket(values[i]!)).toBeGreaterThanOrEqual(priorityBucket(values[i - 1]!));
    expect(priorityBucket(-0)).toBe(priorityBucket(0));
    expect(priorityBucket(0.5)).toBeLessThan(priorityBucket(0.75));
  });
});

describe('PixelQueue', () => {
  it('pops in the order of a heap keyed by (priority, push number), pushes and pops interleaved', () => {
    const rng = createRng(5);
    for (let trial = 0; trial < 40; trial++) {
      const queue = new PixelQueue(16);
      const heap = new PixelHeap(16);
      let pushes = 0;
      // a few levels (many ties), membrane-like values in [0, 1], or any sign and size
      const draw = [() => rng.int(0, 4) / 4, () => Math.fround(rng.float()), () => (rng.float() - 0.5) * 10 ** rng.int(-3, 4), () => (rng.float() < 0.5 ? 0 : -0)][trial % 4]!;
      const popped: number[] = [];
      const expected: number[] = [];
      for (let step = 0; step < 3000; step++) {
        if (rng.float() < 0.55) {
          const priority = draw();
          queue.push(priority, step);
          heap.push(priority, pushes++, step);
        } else {
          popped.push(queue.pop());
          expected.push(heap.pop());
        }
        expect(queue.size).toBe(heap.size);
      }
      while (heap.size > 0) {
        popped.push(queue.pop());
        expected.push(heap.pop());
      }
      expect(queue.pop()).toBe(-1);
      expect(popped).toEqual(expected);
    }
  });

  it('grows past its first capacity and reuses the entries it moved on', () => {
    const queue = new PixelQueue(16);
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 1000; i++) queue.push((i * 7919) % 1000 / 1000, i);
      const out: number[] = [];
      for (let p = queue.pop(); p >= 0; p = queue.pop()) out.push(p);
      expect(out.map((p) => ((p * 7919) % 1000) / 1000)).toEqual([...out.map((p) => ((p * 7919) % 1000) / 1000)].sort((a, b) => a - b));
      expect(new Set(out).size).toBe(1000);
    }
  });
});
