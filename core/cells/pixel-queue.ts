/**
 * The priority queue of the seeded watershed (watershed.ts): pixels keyed by a number, the lowest
 * first, first in first out among equal numbers (each push is numbered). It pops exactly what one
 * binary heap of all entries would (pixel-heap.ts, keyed by priority and push number), faster when
 * the queue is long:
 *
 * - Every priority falls in one of 65,536 buckets, the upper 16 bits of its float32 bit pattern
 *   made monotone (negative numbers reversed): a non-decreasing function of the priority, so a
 *   lower bucket holds only lower priorities. A membrane probability in [0, 1] spreads over
 *   128 of them per power of two, so the many pixels close to 0 do not share one bucket.
 * - The heap holds only the entries of the buckets up to the "active" one; the others wait
 *   unsorted in their bucket's list (a linked list in one pool of entries). A push at or below
 *   the active bucket goes to the heap, above it to its list. When the heap runs empty, the next
 *   non-empty bucket's list moves into it (the active bucket only moves up).
 *
 * Since each list holds only priorities above every entry of the heap, the heap's first entry is
 * the first of all. Platform-neutral.
 */
import { PixelHeap } from './pixel-heap.ts';

const BUCKET_BITS = 16;
const BUCKETS = 1 << BUCKET_BITS;

const float32 = new Float32Array(1);
const bits32 = new Uint32Array(float32.buffer);

/** The bucket of a priority: a non-decreasing function of it (see the module comment). */
export function priorityBucket(priority: number): number {
  float32[0] = priority + 0; // -0 -> +0: equal priorities share a bucket
  const bits = bits32[0]!;
  const monotone = bits & 0x80000000 ? ~bits >>> 0 : (bits | 0x80000000) >>> 0;
  return monotone >>> (32 - BUCKET_BITS);
}

export class PixelQueue {
  private readonly heap: PixelHeap;
  /** First and last entry of each bucket's list, -1 when empty. */
  private readonly head = new Int32Array(BUCKETS).fill(-1);
  private readonly tail = new Int32Array(BUCKETS).fill(-1);
  /** The pool of list entries, and its free entries chained through `next`. */
  private priority: Float64Array;
  private order: Float64Array;
  private pixel: Int32Array;
  private next: Int32Array;
  private free = -1;
  private used = 0;
  /** Buckets up to this one are in the heap; -1 before the first pop. */
  private active = -1;
  private pushes = 0;
  private count = 0;

  constructor(capacity = 1024) {
    const size = Math.max(16, capacity);
    this.heap = new PixelHeap(Math.min(size, 4096));
    this.priority = new Float64Array(size);
    this.order = new Float64Array(size);
    this.pixel = new Int32Array(size);
    this.next = new Int32Array(size);
  }

  get size(): number {
    return this.count;
  }

  /** Adds `pixel` at `priority`. */
  push(priority: number, pixel: number): void {
    const order = this.pushes++;
    this.count++;
    const bucket = priorityBucket(priority);
    if (bucket <= this.active) {
      this.heap.push(priority, order, pixel);
      return;
    }
    const entry = this.allocate();
    this.priority[entry] = priority;
    this.order[entry] = order;
    this.pixel[entry] = pixel;
    this.next[entry] = -1;
    const last = this.tail[bucket]!;
    if (last < 0) this.head[bucket] = entry;
    else this.next[last] = entry;
    this.tail[bucket] = entry;
  }

  /** Removes the first entry and returns its pixel, or -1 when empty. */
  pop(): number {
    if (this.count === 0) return -1;
    if (this.heap.size === 0) this.activateNextBucket();
    this.count--;
    return this.heap.pop();
  }

  /** Moves the lowest non-empty bucket above the active one into the heap (the queue is not empty). */
  private activateNextBucket(): void {
    let bucket = this.active + 1;
    while (this.head[bucket]! < 0) bucket++;
    this.active = bucket;
    for (let entry = this.head[bucket]!; entry >= 0; ) {
      const following = this.next[entry]!;
      this.heap.push(this.priority[entry]!, this.order[entry]!, this.pixel[entry]!);
      this.next[entry] = this.free;
      this.free = entry;
      entry = following;
    }
    this.head[bucket] = -1;
    this.tail[bucket] = -1;
  }

  private allocate(): number {
    if (this.free >= 0) {
      const entry = this.free;
      this.free = this.next[entry]!;
      return entry;
    }
    if (this.used === this.pixel.length) this.grow();
    return this.used++;
  }

  private grow(): void {
    const size = this.pixel.length * 2;
    const grown = <T extends Float64Array | Int32Array>(old: T, make: (n: number) => T): T => {
      const array = make(size);
      array.set(old);
      return array;
    };
    this.priority = grown(this.priority, (n) => new Float64Array(n));
    this.order = grown(this.order, (n) => new Float64Array(n));
    this.pixel = grown(this.pixel, (n) => new Int32Array(n));
    this.next = grown(this.next, (n) => new Int32Array(n));
  }
}
