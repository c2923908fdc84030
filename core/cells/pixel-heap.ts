/**
 * A binary min-heap of pixels keyed by a float priority, first in first out among equal
 * priorities (each push gets a running number), on growable typed arrays. The priority queue of
 * the seeded watershed (watershed.ts). Platform-neutral.
 */
/** (priority a, order a) comes before (priority b, order b). */
function before(priorityA: number, orderA: number, priorityB: number, orderB: number): boolean {
  return priorityA < priorityB || (priorityA === priorityB && orderA < orderB);
}

export class PixelHeap {
  private priority: Float64Array;
  private order: Float64Array;
  private pixel: Int32Array;
  private value: Int32Array;
  private count = 0;
  private pushes = 0;

  constructor(capacity = 1024) {
    const size = Math.max(16, capacity);
    this.priority = new Float64Array(size);
    this.order = new Float64Array(size);
    this.pixel = new Int32Array(size);
    this.value = new Int32Array(size);
  }

  get size(): number {
    return this.count;
  }

  /** Adds `pixel` carrying `value` (e.g. a label) at `priority`. */
  push(priority: number, pixel: number, value: number): void {
    if (this.count === this.pixel.length) this.grow();
    let i = this.count++;
    const order = this.pushes++;
    // sift up
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(priority, order, this.priority[parent]!, this.order[parent]!)) break;
      this.move(parent, i);
      i = parent;
    }
    this.priority[i] = priority;
    this.order[i] = order;
    this.pixel[i] = pixel;
    this.value[i] = value;
  }

  /** Removes the first entry; its pixel and value are then `poppedPixel` and `poppedValue`. Returns false when empty. */
  pop(): boolean {
    if (this.count === 0) return false;
    this.poppedPixel = this.pixel[0]!;
    this.poppedValue = this.value[0]!;
    const last = --this.count;
    if (last === 0) return true;
    const priority = this.priority[last]!;
    const order = this.order[last]!;
    const pixel = this.pixel[last]!;
    const value = this.value[last]!;
    let i = 0;
    // sift down
    for (;;) {
      let child = 2 * i + 1;
      if (child >= last) break;
      if (child + 1 < last && before(this.priority[child + 1]!, this.order[child + 1]!, this.priority[child]!, this.order[child]!)) child++;
      if (!before(this.priority[child]!, this.order[child]!, priority, order)) break;
      this.move(child, i);
      i = child;
    }
    this.priority[i] = priority;
    this.order[i] = order;
    this.pixel[i] = pixel;
    this.value[i] = value;
    return true;
  }

  poppedPixel = -1;
  poppedValue = 0;

  private move(from: number, to: number): void {
    this.priority[to] = this.priority[from]!;
    this.order[to] = this.order[from]!;
    this.pixel[to] = this.pixel[from]!;
    this.value[to] = this.value[from]!;
  }

  private grow(): void {
    const size = this.pixel.length * 2;
    const priority = new Float64Array(size);
    priority.set(this.priority);
    const order = new Float64Array(size);
    order.set(this.order);
    const pixel = new Int32Array(size);
    pixel.set(this.pixel);
    const value = new Int32Array(size);
    value.set(this.value);
    this.priority = priority;
    this.order = order;
    this.pixel = pixel;
    this.value = value;
  }
}
