/**
 * A binary min-heap of pixels keyed by (priority, order): the lowest priority first, the lowest
 * order among equal priorities, on growable typed arrays. The caller numbers the entries (its push
 * count gives first in first out): pixel-queue.ts keeps the entries pushed at or below its active
 * bucket here.
 * Platform-neutral.
 */
export class PixelHeap {
  private priority: Float64Array;
  private order: Float64Array;
  private pixel: Int32Array;
  private count = 0;

  constructor(capacity = 1024) {
    const size = Math.max(16, capacity);
    this.priority = new Float64Array(size);
    this.order = new Float64Array(size);
    this.pixel = new Int32Array(size);
  }

  get size(): number {
    return this.count;
  }

  /** The first entry's priority (the heap is not empty). */
  firstPriority(): number {
    return this.priority[0]!;
  }

  /** Adds `pixel` at `priority`, numbered `order`. */
  push(priority: number, order: number, pixel: number): void {
    if (this.count === this.pixel.length) this.grow();
    const priorities = this.priority;
    const orders = this.order;
    const pixels = this.pixel;
    let i = this.count++;
    // sift up: (priority a, order a) comes first when a's priority is lower, or equal with a lower order
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const above = priorities[parent]!;
      if (above < priority || (above === priority && orders[parent]! < order)) break;
      priorities[i] = above;
      orders[i] = orders[parent]!;
      pixels[i] = pixels[parent]!;
      i = parent;
    }
    priorities[i] = priority;
    orders[i] = order;
    pixels[i] = pixel;
  }

  /** Removes the first entry and returns its pixel, or -1 when empty. */
  pop(): number {
    if (this.count === 0) return -1;
    const priorities = this.priority;
    const orders = this.order;
    const pixels = this.pixel;
    const popped = pixels[0]!;
    const last = --this.count;
    if (last === 0) return popped;
    const priority = priorities[last]!;
    const order = orders[last]!;
    const pixel = pixels[last]!;
    let i = 0;
    // sift down
    for (;;) {
      let child = 2 * i + 1;
      if (child >= last) break;
      let below = priorities[child]!;
      if (child + 1 < last) {
        const right = priorities[child + 1]!;
        if (right < below || (right === below && orders[child + 1]! < orders[child]!)) {
          child++;
          below = right;
        }
      }
      if (priority < below || (priority === below && order < orders[child]!)) break;
      priorities[i] = below;
      orders[i] = orders[child]!;
      pixels[i] = pixels[child]!;
      i = child;
    }
    priorities[i] = priority;
    orders[i] = order;
    pixels[i] = pixel;
    return popped;
  }

  private grow(): void {
    const size = this.pixel.length * 2;
    const priority = new Float64Array(size);
    priority.set(this.priority);
    const order = new Float64Array(size);
    order.set(this.order);
    const pixel = new Int32Array(size);
    pixel.set(this.pixel);
    this.priority = priority;
    this.order = order;
    this.pixel = pixel;
  }
}
