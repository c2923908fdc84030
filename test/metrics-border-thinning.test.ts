import { describe, expect, it } from 'vitest';
import { labelComponents4, thinBorders } from '../core/metrics/index.ts';
import { labelFromArt } from './metrics-helpers.ts';

const cellMask = (rows: string[]) => Uint8Array.from(labelFromArt(rows).data, (v) => (v ? 1 : 0));

describe('connected components (4-connectivity)', () => {
  it('does not join diagonal neighbours and counts sizes', () => {
    const c = labelComponents4(cellMask(['#.#', '.#.', '##.']), 3, 3);
    // (0,0), (2,0) alone; (1,1) joins (1,2) and (0,2): 3 components of sizes 1, 1, 3
    expect(c.count).toBe(3);
    expect([...c.sizes.slice(1)].sort()).toEqual([1, 1, 3]);
    expect(c.labels[0]).not.toBe(c.labels[4]);
    expect(c.labels[4]).toBe(c.labels[7]);
    expect(c.labels[7]).toBe(c.labels[6]);
  });
});

/**
 * Oracle: a literal, slow transcription of Fiji's WatershedTransform2D.apply on the binary image
 * (cell = 0, border = 255), x in the outer loop and y in the inner loop, neighbours left, up,
 * right, down, levels in increasing order, the first-in-first-out queue and the global flag.
 */
function fijiWatershed(cell: Uint8Array, width: number, height: number): Int32Array {
  const MASK = -2, WSHED = 0, INIT = -1, INQUEUE = -3;
  const lab = (x: number, y: number) => y * width + x;
  const labels = new Int32Array(width * height).fill(INIT);
  const value = (p: number) => (cell[p] ? 0 : 255);
  const order: number[] = [];
  for (let x = 0; x < width; x++) for (let y = 0; y < height; y++) order.push(lab(x, y));
  order.sort((a, b) => value(a) - value(b)); // stable: ties keep the scan order
  const neighbours = (p: number) => {
    const x = p % width, y = Math.floor(p / width);
    return [[x - 1, y], [x, y - 1], [x + 1, y], [x, y + 1]].filter(([u, v]) => u! >= 0 && u! < width && v! >= 0 && v! < height).map(([u, v]) => lab(u!, v!));
  };
  let current = 0;
  let flag = false;
  for (const h of [...new Set(order.map(value))]) {
    const level = order.filter((p) => value(p) === h);
    const fifo: number[] = [];
    for (const p of level) {
      labels[p] = MASK;
      if (neighbours(p).some((q) => labels[q]! >= WSHED)) {
        fifo.push(p);
        labels[p] = INQUEUE;
      }
    }
    while (fifo.length) {
      const p = fifo.shift()!;
      for (const q of neighbours(p)) {
        if (labels[q]! > 0) {
          if (labels[p] === INQUEUE || (labels[p] === WSHED && flag)) labels[p] = labels[q]!;
          else if (labels[p]! > 0 && labels[p] !== labels[q]) {
            labels[p] = WSHED;
            flag = false;
          }
        } else if (labels[q] === WSHED) {
          if (labels[p] === INQUEUE) {
            labels[p] = WSHED;
            flag = true;
          }
        } else if (labels[q] === MASK) {
          labels[q] = INQUEUE;
          fifo.push(q);
        }
      }
    }
    for (const p of level) {
      if (labels[p] !== MASK) continue;
      current++;
      const queue = [p];
      labels[p] = current;
      while (queue.length) {
        const r = queue.shift()!;
        for (const q of neighbours(r)) {
          if (labels[q] === MASK) {
            queue.push(q);
            labels[q] = current;
          }
        }
      }
    }
  }
  return labels.map((l) => (l === INIT ? 0 : l));
}

/** True when two label images are the same partition with the same zero pixels. */
function samePartition(a: Int32Array, b: Int32Array): boolean {
  const ab = new Map<number, number>();
  const ba = new Map<number, number>();
  for (let i = 0; i < a.length; i++) {
    if ((a[i] === 0) !== (b[i] === 0)) return false;
    if (ab.has(a[i]!) && ab.get(a[i]!) !== b[i]) return false;
    if (ba.has(b[i]!) && ba.get(b[i]!) !== a[i]) return false;
    ab.set(a[i]!, b[i]!);
    ba.set(b[i]!, a[i]!);
  }
  return true;
}

describe('border thinning (watershed of the binary proposal)', () => {
  it('gives the same lines and segments as a literal transcription of Fiji\'s algorithm', () => {
    let s = 99;
    const next = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296);
    for (let trial = 0; trial < 60; trial++) {
      const w = 5 + Math.floor(next() * 20);
      const h = 5 + Math.floor(next() * 20);
      const density = trial === 0 ? 0 : trial === 1 ? 1 : 0.3 + next() * 0.5;
      const mask = Uint8Array.from({ length: w * h }, () => (next() < density ? 1 : 0));
      const expected = fijiWatershed(mask, w, h);
      const actual = thinBorders(mask, w, h);
      expect(samePartition(actual.labels, expected), `trial ${trial} (${w}x${h})`).toBe(true);
      expect(actual.count).toBe(Math.max(...expected));
    }
  });

  it('thins a 3-pixel membrane between two cells to a single line', () => {
    const rows = ['##...##', '##...##', '##...##', '##...##'];
    const t = thinBorders(cellMask(rows), 7, 4);
    expect(t.count).toBe(2);
    for (let y = 0; y < 4; y++) {
      const row = [...t.labels.slice(y * 7, y * 7 + 7)];
      // left cell and its half of the membrane, one line pixel in the middle, then the right cell
      expect(row.filter((l) => l === 0)).toHaveLength(1);
      expect(row[3]).toBe(0);
      expect(row[2]).toBe(row[0]);
      expect(row[4]).toBe(row[6]);
      expect(row[0]).not.toBe(row[6]);
    }
  });

  it("breaks ties like Fiji's flooding: a 2-pixel membrane goes left, then a line", () => {
    // column-major FIFO: column 2 is reached from the left cell first and joins it; column 3 then
    // touches both basins and becomes the watershed line (derived by hand from the algorithm)
    const t = thinBorders(cellMask(['##..##', '##..##', '##..##']), 6, 3);
    for (let y = 0; y < 3; y++) {
      const row = [...t.labels.slice(y * 6, y * 6 + 6)];
      expect(row.map((l) => (l === row[0] ? 'A' : l === 0 ? '0' : 'B')).join('')).toBe('AAA0BB');
    }
  });

  it('keeps every cell component as its own basin and assigns every cell pixel', () => {
    let s = 12345;
    const next = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296);
    for (let trial = 0; trial < 20; trial++) {
      const w = 11;
      const h = 9;
      const mask = Uint8Array.from({ length: w * h }, () => (next() < 0.55 ? 1 : 0));
      const components = labelComponents4(mask, w, h);
      const thinned = thinBorders(mask, w, h);
      const basinOf = new Map<number, number>();
      for (let p = 0; p < w * h; p++) {
        if (!mask[p]) continue;
        const basin = thinned.labels[p]!;
        expect(basin).toBeGreaterThan(0);
        const component = components.labels[p]!;
        if (basinOf.has(component)) expect(basinOf.get(component)).toBe(basin);
        else basinOf.set(component, basin);
      }
      // distinct components, distinct basins; no basin without a component
      expect(new Set(basinOf.values()).size).toBe(components.count);
      expect(thinned.count).toBe(Math.max(components.count, 1));
    }
  });

  it('labels an image without any cell as one basin', () => {
    const t = thinBorders(new Uint8Array(12), 4, 3);
    expect(t.count).toBe(1);
    expect([...t.labels].every((l) => l === 1)).toBe(true);
  });
});
