/**
 * The priority queue of the seeded watershed (watershed.ts): pixels keyed by a priority, compared
 * as float32 numbers (the watershed's elevations are float32), the lowest first, first in first out
 * among equal priorities (each push is numbered). It pops exactly what one binary heap of all
 * entries keyed by (Math.fround(priority), push number) would (pixel-heap.ts), in about constant
 * time per entry:
 *
 * - Each priority becomes a 32-bit key, its float32 bit pattern made monotone (negative numbers
 *   reversed; -0 as +0): keys order as the priorities do. A key's upper 16 bits are its bucket (a
 *   membrane probability in [0, 1] spreads over 128 buckets per power of two).
 * - Buckets above the "active" one wait unsorted in their lists, in push order: chains of blocks
 *   of BLOCK entries from one pool (so a list is read back from mostly contiguous memory). When
 *   the queue has nothing at or below the active bucket, the next non-empty bucket becomes active:
 *   its list is sorted by the keys' lower 16 bits, stably (insertion sort when short, else a
 *   two-pass radix sort: push order stays among equal keys), into the "run".
 * - A push at or below the active bucket (pushed after every entry of the run) goes to a small
 *   heap keyed by (key, push number). A pop takes the run's next entry or the heap's first,
 *   whichever key is lower, the run's on equal keys (the run's entries were pushed earlier).
 *
 * Lists hold only keys above the active bucket, the run and the heap only keys at or below it, so
 * the lower of the run's next and the heap's first is the first of all. Platform-neutral.
 */
import { PixelHeap } from './pixel-heap.ts';

const BUCKET_BITS = 16;
const BUCKETS = 1 << BUCKET_BITS;
const LOW_MASK = BUCKETS - 1;
/** Entries per block of a bucket's list. */
const BLOCK = 256;
/** Runs up to this long are sorted by insertion (stable), longer ones by radix. */
const INSERTION_SORT_MAX = 48;

const float32 = new Float32Array(1);
const bits32 = new Uint32Array(float32.buffer);

/** The monotone key of a float32 bit pattern (of a number other than -0). */
function monotoneKey(bits: number): number {
  return bits & 0x80000000 ? ~bits >>> 0 : (bits | 0x80000000) >>> 0;
}

/** The monotone 32-bit key of a priority taken as float32 (see the module comment). */
export function priorityKey(priority: number): number {
  float32[0] = priority + 0; // -0 -> +0: equal priorities share a key
  return monotoneKey(bits32[0]!);
}

/** The bucket of a priority: its key's upper 16 bits, a non-decreasing function of the priority. */
export function priorityBucket(priority: number): number {
  return priorityKey(priority) >>> (32 - BUCKET_BITS);
}

export class PixelQueue {
  /** Entries pushed at or below the active bucket after it became active, keyed by (key, push number). */
  private readonly late: PixelHeap;
  /** First and last block of each bucket's list, -1 when empty; entries in its last block. */
  private readonly head = new Int32Array(BUCKETS).fill(-1);
  private readonly tail = new Int32Array(BUCKETS).fill(-1);
  private readonly tailFill = new Int32Array(BUCKETS);
  /** The pool of blocks: per entry its pixel and its key's lower 16 bits; per block the next block of its list, or the next free block. */
  private blockPixel: Int32Array;
  private blockLow: Uint16Array;
  private nextBlock: Int32Array;
  private freeBlock = -1;
  private usedBlocks = 0;
  /** The active bucket's entries sorted: pixels and full keys, `runAt` the next to pop. */
  private runPixel: Int32Array;
  private runKey: Uint32Array;
  private runAt = 0;
  private runEnd = 0;
  /** Scratch of the radix sort. */
  private sortPixel: Int32Array;
  private sortLow: Uint16Array;
  private readonly counts = new Int32Array(257);
  /** Buckets up to this one are in the run or the heap; -1 before the first pop. */
  private active = -1;
  private pushes = 0;
  private count = 0;

  constructor(capacity = 1024) {
    const size = Math.max(16, capacity);
    this.late = new PixelHeap(Math.min(size, 4096));
    const blocks = Math.max(4, Math.ceil(size / BLOCK));
    this.blockPixel = new Int32Array(blocks * BLOCK);
    this.blockLow = new Uint16Array(blocks * BLOCK);
    this.nextBlock = new Int32Array(blocks);
    this.runPixel = new Int32Array(16);
    this.runKey = new Uint32Array(16);
    this.sortPixel = new Int32Array(16);
    this.sortLow = new Uint16Array(16);
  }

  get size(): number {
    return this.count;
  }

  /** Adds `pixel` at `priority` (compared as float32). */
  push(priority: number, pixel: number): void {
    this.pushKey(priorityKey(priority), pixel);
  }

  /** Adds `pixel` at the priority whose key (priorityKey) is `key`. */
  pushKey(key: number, pixel: number): void {
    const order = this.pushes++;
    this.count++;
    const bucket = key >>> (32 - BUCKET_BITS);
    if (bucket <= this.active) {
      this.late.push(key, order, pixel);
      return;
    }
    let block = this.tail[bucket]!;
    let fill = this.tailFill[bucket]!;
    if (block < 0 || fill === BLOCK) {
      const added = this.allocateBlock();
      if (block < 0) this.head[bucket] = added;
      else this.nextBlock[block] = added;
      this.tail[bucket] = block = added;
      fill = 0;
    }
    const at = block * BLOCK + fill;
    this.blockPixel[at] = pixel;
    this.blockLow[at] = key & LOW_MASK;
    this.tailFill[bucket] = fill + 1;
  }

  /** Removes the first entry and returns its pixel, or -1 when empty. */
  pop(): number {
    if (this.count === 0) return -1;
    this.count--;
    const late = this.late;
    if (this.runAt === this.runEnd) {
      if (late.size > 0) return late.pop();
      this.activateNextBucket();
    } else if (late.size > 0 && late.firstPriority() < this.runKey[this.runAt]!) {
      return late.pop();
    }
    return this.runPixel[this.runAt++]!;
  }

  /** Sorts the lowest non-empty bucket above the active one into the run (the run and the heap are empty, the lists not). */
  private activateNextBucket(): void {
    let bucket = this.active + 1;
    while (this.head[bucket]! < 0) bucket++;
    this.active = bucket;
    // the list, in push order, into the sort's scratch; its blocks back to the pool
    let length = 0;
    const last = this.tail[bucket]!;
    for (let block = this.head[bucket]!; block >= 0; block = block === last ? -1 : this.nextBlock[block]!) length += block === last ? this.tailFill[bucket]! : BLOCK;
    if (this.sortPixel.length < length) this.growRun(length);
    const pixels = this.sortPixel;
    const lows = this.sortLow;
    let k = 0;
    for (let block = this.head[bucket]!; block >= 0; ) {
      const fill = block === last ? this.tailFill[bucket]! : BLOCK;
      pixels.set(this.blockPixel.subarray(block * BLOCK, block * BLOCK + fill), k);
      lows.set(this.blockLow.subarray(block * BLOCK, block * BLOCK + fill), k);
      k += fill;
      const following = block === last ? -1 : this.nextBlock[block]!;
      this.nextBlock[block] = this.freeBlock;
      this.freeBlock = block;
      block = following;
    }
    this.head[bucket] = -1;
    this.tail[bucket] = -1;
    this.tailFill[bucket] = 0;

    const high = (bucket << (32 - BUCKET_BITS)) >>> 0;
    const runPixel = this.runPixel;
    const runKey = this.runKey;
    if (length <= INSERTION_SORT_MAX) {
      for (let i = 0; i < length; i++) {
        const low = lows[i]!;
        const pixel = pixels[i]!;
        let j = i;
        // stable: move past only strictly greater keys
        while (j > 0 && runKey[j - 1]! > (high | low) >>> 0) {
          runKey[j] = runKey[j - 1]!;
          runPixel[j] = runPixel[j - 1]!;
          j--;
        }
        runKey[j] = (high | low) >>> 0;
        runPixel[j] = pixel;
      }
    } else {
      // least significant byte first into the run, then the most significant back into place
      this.countingPass(pixels, lows, length, 0, runPixel, runKey);
      for (let i = 0; i < length; i++) {
        pixels[i] = runPixel[i]!;
        lows[i] = runKey[i]!;
      }
      this.countingPass(pixels, lows, length, 8, runPixel, runKey);
      for (let i = 0; i < length; i++) runKey[i] = (high | runKey[i]!) >>> 0;
    }
    this.runAt = 0;
    this.runEnd = length;
  }

  /** One stable counting-sort pass on the byte of `lows` at `shift`, into (outPixel, outLow). */
  private countingPass(pixels: Int32Array, lows: Uint16Array, length: number, shift: number, outPixel: Int32Array, outLow: Uint32Array): void {
    const counts = this.counts;
    counts.fill(0);
    for (let i = 0; i < length; i++) counts[((lows[i]! >>> shift) & 0xff) + 1]!++;
    for (let b = 1; b < 257; b++) counts[b]! += counts[b - 1]!;
    for (let i = 0; i < length; i++) {
      const low = lows[i]!;
      const at = counts[(low >>> shift) & 0xff]!++;
      outPixel[at] = pixels[i]!;
      outLow[at] = low;
    }
  }

  private allocateBlock(): number {
    if (this.freeBlock >= 0) {
      const block = this.freeBlock;
      this.freeBlock = this.nextBlock[block]!;
      return block;
    }
    if (this.usedBlocks === this.nextBlock.length) this.growPool();
    return this.usedBlocks++;
  }

  private growPool(): void {
    const blocks = this.nextBlock.length * 2;
    const pixel = new Int32Array(blocks * BLOCK);
    pixel.set(this.blockPixel);
    const low = new Uint16Array(blocks * BLOCK);
    low.set(this.blockLow);
    const next = new Int32Array(blocks);
    next.set(this.nextBlock);
    this.blockPixel = pixel;
    this.blockLow = low;
    this.nextBlock = next;
  }

  /** Room for a run of `length` entries (the run is empty when this is called). */
  private growRun(length: number): void {
    const size = Math.max(length, this.sortPixel.length * 2);
    this.runPixel = new Int32Array(size);
    this.runKey = new Uint32Array(size);
    this.sortPixel = new Int32Array(size);
    this.sortLow = new Uint16Array(size);
  }
}
