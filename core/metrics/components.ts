/**
 * Connected-component labelling of a binary mask with 4-connectivity (the ISBI 2012 ground-truth
 * segments are the 4-connected components of the white class). Breadth-first flood fill with an
 * explicit typed-array queue: no recursion, O(pixels).
 */

export interface Components {
  /** Per pixel: 0 = not in the mask, 1..count = component. */
  labels: Int32Array;
  count: number;
  /** Pixels per component, index 0 unused. */
  sizes: Int32Array;
}

/**
 * Labels the 4-connected components of the pixels where `mask[i]` is truthy (non-zero), numbered
 * 1, 2, ... in row-major order of their first pixel.
 */
export function labelComponents4(mask: ArrayLike<number>, width: number, height: number): Components {
  const n = width * height;
  if (mask.length !== n) throw new RangeError(`mask: expected ${n} pixels for ${width}x${height}, found ${mask.length}`);
  const labels = new Int32Array(n);
  const queue = new Int32Array(n);
  const sizeList: number[] = [0];
  let count = 0;
  for (let start = 0; start < n; start++) {
    if (mask[start] === 0 || labels[start] !== 0) continue;
    count++;
    labels[start] = count;
    let head = 0;
    let tail = 0;
    queue[tail++] = start;
    while (head < tail) {
      const p = queue[head++]!;
      const x = p % width;
      if (x > 0 && mask[p - 1] !== 0 && labels[p - 1] === 0) {
        labels[p - 1] = count;
        queue[tail++] = p - 1;
      }
      if (x < width - 1 && mask[p + 1] !== 0 && labels[p + 1] === 0) {
        labels[p + 1] = count;
        queue[tail++] = p + 1;
      }
      if (p >= width && mask[p - width] !== 0 && labels[p - width] === 0) {
        labels[p - width] = count;
        queue[tail++] = p - width;
      }
      if (p + width < n && mask[p + width] !== 0 && labels[p + width] === 0) {
        labels[p + width] = count;
        queue[tail++] = p + width;
      }
    }
    sizeList.push(tail);
  }
  return { labels, count, sizes: Int32Array.from(sizeList) };
}
