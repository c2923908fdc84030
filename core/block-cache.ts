/**
 * A VolumeSource that reads its source one native block (a TIFF tile or strip, a Zarr chunk) at a
 * time and keeps the blocks it read last, so that overlapping regions (the tiles of a sliding
 * window overlap each other and cross block edges) decode every block once instead of once per
 * region. Regions are assembled from the cached blocks row by row.
 *
 *   const cached = withBlockCache(source, { maxBlocks: 128 }); // source.blockWidth/blockHeight set
 *
 * - Blocks are read with the source's own readRegion on the block's box (cropped at the right and
 *   bottom edges), so the pixels are exactly the source's.
 * - The cache holds at most `maxBlocks` blocks, least recently used first out; a block being read
 *   is shared by every region that asks for it meanwhile (one read).
 * - A failed read is not cached: the next region asking for that block reads it again.
 * Platform-neutral.
 */
import type { GreyImage, PixelArray } from './image.ts';
import type { Box } from './padding.ts';
import type { VolumeSource } from './volume.ts';

export interface BlockCacheOptions {
  /** Most blocks held. At least 1. */
  maxBlocks: number;
}

/** A source with a native block size, wrapped in a block cache; any other source as it is. */
export function withBlockCache(source: VolumeSource, options: BlockCacheOptions): VolumeSource {
  const { blockWidth, blockHeight } = source;
  if (!blockWidth || !blockHeight) return source;
  if (!Number.isInteger(options.maxBlocks) || options.maxBlocks < 1) {
    throw new RangeError(`maxBlocks: expected an integer >= 1, found ${options.maxBlocks}`);
  }
  return new BlockCachedSource(source, blockWidth, blockHeight, options.maxBlocks);
}

class BlockCachedSource implements VolumeSource {
  readonly name: string;
  readonly width: number;
  readonly height: number;
  readonly depth: number;
  readonly bitDepth: VolumeSource['bitDepth'];
  readonly pixelSize: VolumeSource['pixelSize'];
  /** Blocks by key, in use order (a Map keeps insertion order: the first entry is the least recent). */
  private readonly blocks = new Map<string, Promise<GreyImage>>();

  constructor(
    private readonly source: VolumeSource,
    readonly blockWidth: number,
    readonly blockHeight: number,
    private readonly maxBlocks: number,
  ) {
    this.name = source.name;
    this.width = source.width;
    this.height = source.height;
    this.depth = source.depth;
    this.bitDepth = source.bitDepth;
    if (source.pixelSize) this.pixelSize = source.pixelSize;
  }

  private block(z: number, column: number, row: number): Promise<GreyImage> {
    const key = `${z}/${row}/${column}`;
    const held = this.blocks.get(key);
    if (held) {
      this.blocks.delete(key);
      this.blocks.set(key, held);
      return held;
    }
    const x = column * this.blockWidth;
    const y = row * this.blockHeight;
    const box = { x, y, width: Math.min(this.blockWidth, this.width - x), height: Math.min(this.blockHeight, this.height - y) };
    const reading = this.source.readRegion(z, box);
    this.blocks.set(key, reading);
    reading.catch(() => {
      if (this.blocks.get(key) === reading) this.blocks.delete(key);
    });
    while (this.blocks.size > this.maxBlocks) this.blocks.delete(this.blocks.keys().next().value!);
    return reading;
  }

  async readRegion(z: number, box: Box): Promise<GreyImage> {
    const inside = Number.isInteger(z) && z >= 0 && z < this.depth && [box.x, box.y, box.width, box.height].every(Number.isInteger) &&
      box.x >= 0 && box.y >= 0 && box.width > 0 && box.height > 0 && box.x + box.width <= this.width && box.y + box.height <= this.height;
    if (!inside) return this.source.readRegion(z, box); // the source's own error
    const c0 = Math.floor(box.x / this.blockWidth);
    const c1 = Math.floor((box.x + box.width - 1) / this.blockWidth);
    const r0 = Math.floor(box.y / this.blockHeight);
    const r1 = Math.floor((box.y + box.height - 1) / this.blockHeight);
    const wanted: { column: number; row: number; image: Promise<GreyImage> }[] = [];
    for (let row = r0; row <= r1; row++) for (let column = c0; column <= c1; column++) wanted.push({ column, row, image: this.block(z, column, row) });
    const images = await Promise.all(wanted.map((w) => w.image));
    let data: PixelArray | undefined;
    wanted.forEach(({ column, row }, k) => {
      const block = images[k]!;
      const bx = column * this.blockWidth;
      const by = row * this.blockHeight;
      data ??= new (block.data.constructor as new (length: number) => PixelArray)(box.width * box.height);
      const left = Math.max(box.x, bx);
      const right = Math.min(box.x + box.width, bx + block.width);
      const top = Math.max(box.y, by);
      const bottom = Math.min(box.y + box.height, by + block.height);
      for (let y = top; y < bottom; y++) {
        const from = (y - by) * block.width + (left - bx);
        data.set(block.data.subarray(from, from + right - left), (y - box.y) * box.width + (left - box.x));
      }
    });
    return { width: box.width, height: box.height, data: data! };
  }

  close(): Promise<void> {
    this.blocks.clear();
    return this.source.close();
  }
}
