/** core/cells/distance-transform.ts against a brute-force Euclidean distance on random and drawn masks. */
import { describe, expect, it } from 'vitest';
import { distanceTransform } from '../core/cells/distance-transform.ts';
import { createRng } from '../core/random.ts';

function bruteForce(inside: Uint8Array, width: number, height: number): Float64Array {
  const out = new Float64Array(width * height);
  for (let p = 0; p < inside.length; p++) {
    if (!inside[p]) continue;
    let best = Infinity;
    for (let q = 0; q < inside.length; q++) {
      if (inside[q]) continue;
      const dx = (p % width) - (q % width);
      const dy = Math.floor(p / width) - Math.floor(q / width);
      best = Math.min(best, dx * dx + dy * dy);
    }
    out[p] = Math.sqrt(best);
  }
  return out;
}

describe('distanceTransform', () => {
  it('equals the brute-force Euclidean distance on random masks of many shapes', () => {
    const rng = createRng(7);
    const random = () => rng.float();
    for (const [width, height] of [[1, 1], [1, 9], [9, 1], [5, 7], [16, 16], [23, 11]] as const) {
      for (const density of [0.05, 0.5, 0.95]) {
        const inside = Uint8Array.from({ length: width * height }, () => (random() < density ? 1 : 0));
        const expected = bruteForce(inside, width, height);
        const found = distanceTransform(inside, width, height);
        for (let i = 0; i < inside.length; i++) expect(found[i], `${width}x${height} pixel ${i}`).toBeCloseTo(expected[i]!, 5);
      }
    }
  });

  it('measures a disc from its centre and is 0 outside', () => {
    const width = 21;
    const inside = Uint8Array.from({ length: width * width }, (_, i) => ((i % width) - 10) ** 2 + (Math.floor(i / width) - 10) ** 2 <= 64 ? 1 : 0);
    const d = distanceTransform(inside, width, width);
    expect(d[10 * width + 10]).toBeCloseTo(Math.sqrt(65), 5); // nearest outside pixels are 1 and 8 pixels off the centre (1 + 64 > 64)
    expect(d[0]).toBe(0);
  });

  it('is Infinity without any outside pixel, and names a wrong size', () => {
    expect([...distanceTransform(new Uint8Array(6).fill(1), 3, 2)]).toEqual(new Array(6).fill(Infinity));
    expect(() => distanceTransform(new Uint8Array(5), 3, 2)).toThrow('inside: expected 6 pixels for 3x2, found 5');
  });
});
