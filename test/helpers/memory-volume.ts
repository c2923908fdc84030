/**
 * In-memory VolumeSource and VolumeSink (core/volume.ts) for tests of the streaming tiler: the
 * source records every region read, the sink keeps chunks in a map and can be told to fail after
 * some writes (a job killed mid-run).
 */
import type { Box } from '../../core/padding.ts';
import type { GreyImage, PixelArray, BitDepth } from '../../core/image.ts';
import { bitDepthOf } from '../../core/image.ts';
import type { ChunkIndex, VolumeSampleType, VolumeSink, VolumeSource } from '../../core/volume.ts';

export class MemoryVolumeSource implements VolumeSource {
  readonly name = 'memory';
  readonly width: number;
  readonly height: number;
  readonly depth: number;
  readonly bitDepth: BitDepth;
  readonly reads: { z: number; box: Box }[] = [];
  /** Largest region read, in pixels. */
  largestRead = 0;
  /** A native block size, as a tiled file's (core/block-cache.ts); none by default. */
  readonly blockWidth?: number;
  readonly blockHeight?: number;
  /** Throws on reads after this many (a disk error). */
  failAfterReads = Infinity;

  constructor(readonly slices: readonly GreyImage[], block?: { width: number; height: number }) {
    if (block) {
      this.blockWidth = block.width;
      this.blockHeight = block.height;
    }
    this.width = slices[0]!.width;
    this.height = slices[0]!.height;
    this.depth = slices.length;
    this.bitDepth = bitDepthOf(slices[0]!.data);
  }

  async readRegion(z: number, box: Box): Promise<GreyImage> {
    const slice = this.slices[z]!;
    if (box.x < 0 || box.y < 0 || box.x + box.width > this.width || box.y + box.height > this.height || box.width < 1 || box.height < 1) {
      throw new RangeError(`region ${JSON.stringify(box)} outside ${this.width}x${this.height}`);
    }
    if (this.reads.length >= this.failAfterReads) throw new Error('read failed');
    this.reads.push({ z, box });
    this.largestRead = Math.max(this.largestRead, box.width * box.height);
    const data = new (slice.data.constructor as new (n: number) => PixelArray)(box.width * box.height);
    for (let row = 0; row < box.height; row++) {
      const start = (box.y + row) * this.width + box.x;
      data.set(slice.data.subarray(start, start + box.width), row * box.width);
    }
    return { width: box.width, height: box.height, data };
  }

  async close(): Promise<void> {}
}

const key = (c: ChunkIndex) => `${c.z}/${c.cy}/${c.cx}`;

export class MemoryVolumeSink implements VolumeSink {
  readonly chunks = new Map<string, Uint8Array | Float32Array>();
  writes = 0;
  finalized = 0;
  /** Throws on the write after this many successful writes (a job killed mid-run). */
  failAfterWrites = Infinity;

  constructor(
    readonly width: number,
    readonly height: number,
    readonly depth: number,
    readonly chunkWidth: number,
    readonly chunkHeight: number,
    readonly sampleType: VolumeSampleType,
  ) {}

  async writeChunk(chunk: ChunkIndex, data: Uint8Array | Float32Array): Promise<void> {
    if (this.writes >= this.failAfterWrites) throw new Error('killed');
    const k = key(chunk);
    if (this.chunks.has(k)) throw new Error(`chunk ${k} written twice`);
    const w = Math.min(this.chunkWidth, this.width - chunk.cx * this.chunkWidth);
    const h = Math.min(this.chunkHeight, this.height - chunk.cy * this.chunkHeight);
    if (data.length !== w * h) throw new Error(`chunk ${k}: ${data.length} values, expected ${w}x${h}`);
    if ((this.sampleType === 'uint8') !== data instanceof Uint8Array) throw new Error(`chunk ${k}: wrong sample type`);
    this.chunks.set(k, data.slice());
    this.writes++;
  }

  async isChunkComplete(chunk: ChunkIndex): Promise<boolean> {
    return this.chunks.has(key(chunk));
  }

  async finalize(): Promise<void> {
    this.finalized++;
  }

  async close(): Promise<void> {}

  /** Slice `z` put together from its chunks (throws if one is missing). */
  slice(z: number): GreyImage<Uint8Array | Float32Array> {
    const data = this.sampleType === 'uint8' ? new Uint8Array(this.width * this.height) : new Float32Array(this.width * this.height);
    for (let cy = 0; cy * this.chunkHeight < this.height; cy++) {
      for (let cx = 0; cx * this.chunkWidth < this.width; cx++) {
        const chunk = this.chunks.get(key({ z, cx, cy }));
        if (!chunk) throw new Error(`chunk ${z}/${cy}/${cx} missing`);
        const w = Math.min(this.chunkWidth, this.width - cx * this.chunkWidth);
        const h = chunk.length / w;
        for (let row = 0; row < h; row++) data.set(chunk.subarray(row * w, (row + 1) * w), (cy * this.chunkHeight + row) * this.width + cx * this.chunkWidth);
      }
    }
    return { width: this.width, height: this.height, data };
  }
}
