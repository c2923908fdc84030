/** core/cells/pixel-queue.ts: pops exactly what one binary heap of every entry pops (priority as float32, then push order). */
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
          heap.push(Math.fround(priority), pushes++, step);
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

  it('compares priorities as float32: numbers with one float32 value are equal, first in first out', () => {
    const queue = new PixelQueue(16);
    // 0.1 and 0.1 + 1e-12 are one float32; the float32 below it is 2^-27 lower
    queue.push(0.1 + 1e-12, 0);
    queue.push(0.1, 1);
    queue.push(Math.fround(0.1) - 2 ** -27, 2);
    queue.push(-0, 3);
    queue.push(0, 4);
    expect([0, 1, 2, 3, 4].map(() => queue.pop())).toEqual([3, 4, 2, 0, 1]);
  });

  it('sorts a long bucket stably and merges later pushes below it in order', () => {
    // 5,000 entries in one bucket (the radix sort), 100 distinct keys; then, while it is popped,
    // pushes into it and below it (the heap)
    const rng = createRng(9);
    const queue = new PixelQueue(16);
    const heap = new PixelHeap(16);
    let pushes = 0;
    const base = 0.5;
    const push = (priority: number, pixel: number) => {
      queue.push(priority, pixel);
      heap.push(Math.fround(priority), pushes++, pixel);
    };
    for (let i = 0; i < 5000; i++) push(base + rng.int(0, 100) * 2 ** -24, i);
    for (let i = 0; i < 5000; i++) {
      expect(queue.pop()).toBe(heap.pop());
      if (i % 3 === 0) push(base + rng.int(0, 100) * 2 ** -24, 5000 + i);
      if (i % 7 === 0) push(base - rng.int(1, 5) * 2 ** -24, 10000 + i);
    }
    while (heap.size > 0) expect(queue.pop()).toBe(heap.pop());
    expect(queue.pop()).toBe(-1);
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
