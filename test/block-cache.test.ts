/**
 * The block cache (core/block-cache.ts): regions assembled from whole blocks equal the source's own
 * regions for any box, every block is read once while it stays in the cache, concurrent regions
 * share a block's read, and a failed read is not kept.
 */
import { describe, expect, it } from 'vitest';
import { withBlockCache } from '../core/block-cache.ts';
import type { GreyImage } from '../core/image.ts';
import { MemoryVolumeSource } from './helpers/memory-volume.ts';

function slice16(width: number, height: number, z: number): GreyImage<Uint16Array> {
  return { width, height, data: Uint16Array.from({ length: width * height }, (_, i) => (i * 7919 + z * 104729) % 65536) };
}

describe('withBlockCache', () => {
  it('returns a source without a native block size as it is', () => {
    const source = new MemoryVolumeSource([slice16(10, 10, 0)]);
    expect(withBlockCache(source, { maxBlocks: 4 })).toBe(source);
  });

  it('gives the pixels of the source for boxes of every shape, edges and cropped blocks included', async () => {
    const W = 53;
    const H = 41;
    const slices = [slice16(W, H, 0), slice16(W, H, 1)];
    const plain = new MemoryVolumeSource(slices);
    const cached = withBlockCache(new MemoryVolumeSource(slices, { width: 16, height: 12 }), { maxBlocks: 3 });
    expect([cached.width, cached.height, cached.depth, cached.bitDepth]).toEqual([W, H, 2, 16]);
    for (const box of [
      { x: 0, y: 0, width: W, height: H },
      { x: 15, y: 11, width: 2, height: 2 },
      { x: 16, y: 12, width: 16, height: 12 },
      { x: 48, y: 36, width: 5, height: 5 },
      { x: 3, y: 30, width: 50, height: 11 },
      { x: 52, y: 0, width: 1, height: 41 },
    ]) {
      for (const z of [0, 1]) {
        const got = await cached.readRegion(z, box);
        expect(got.data).toBeInstanceOf(Uint16Array);
        expect([got.width, got.height]).toEqual([box.width, box.height]);
        expect(got.data).toEqual((await plain.readRegion(z, box)).data);
      }
    }
  });

  it('reads each block once, whole, while it is held; the least recently used goes first', async () => {
    const source = new MemoryVolumeSource([slice16(64, 64, 0)], { width: 32, height: 32 });
    const cached = withBlockCache(source, { maxBlocks: 2 });
    await cached.readRegion(0, { x: 10, y: 0, width: 40, height: 20 }); // blocks (0,0) and (1,0)
    await cached.readRegion(0, { x: 0, y: 5, width: 64, height: 3 }); // the same two: no read
    expect(source.reads).toEqual([
      { z: 0, box: { x: 0, y: 0, width: 32, height: 32 } },
      { z: 0, box: { x: 32, y: 0, width: 32, height: 32 } },
    ]);
    await cached.readRegion(0, { x: 40, y: 40, width: 4, height: 4 }); // (1,1) evicts (0,0)
    await cached.readRegion(0, { x: 33, y: 1, width: 4, height: 4 }); // (1,0) still held
    await cached.readRegion(0, { x: 1, y: 1, width: 4, height: 4 }); // (0,0) read again
    expect(source.reads.map((r) => [r.box.x, r.box.y])).toEqual([[0, 0], [32, 0], [32, 32], [0, 0]]);
  });

  it('shares one read of a block between regions asking at the same time', async () => {
    const source = new MemoryVolumeSource([slice16(64, 64, 0)], { width: 64, height: 64 });
    const cached = withBlockCache(source, { maxBlocks: 1 });
    const regions = await Promise.all([0, 1, 2, 3].map((i) => cached.readRegion(0, { x: i * 10, y: i, width: 8, height: 8 })));
    expect(source.reads).toHaveLength(1);
    expect(regions[3]!.data).toEqual((await source.readRegion(0, { x: 30, y: 3, width: 8, height: 8 })).data);
  });

  it('does not keep a failed read: the next region reads the block again', async () => {
    const source = new MemoryVolumeSource([slice16(32, 32, 0)], { width: 32, height: 32 });
    source.failAfterReads = 0;
    const cached = withBlockCache(source, { maxBlocks: 4 });
    await expect(cached.readRegion(0, { x: 0, y: 0, width: 4, height: 4 })).rejects.toThrow('read failed');
    source.failAfterReads = Infinity;
    expect((await cached.readRegion(0, { x: 0, y: 0, width: 4, height: 4 })).data).toEqual((await source.readRegion(0, { x: 0, y: 0, width: 4, height: 4 })).data);
  });

  it('passes a box outside the volume to the source, which names it', async () => {
    const cached = withBlockCache(new MemoryVolumeSource([slice16(32, 32, 0)], { width: 16, height: 16 }), { maxBlocks: 4 });
    await expect(cached.readRegion(0, { x: 30, y: 0, width: 4, height: 4 })).rejects.toThrow(/outside 32x32/);
    expect(() => withBlockCache(new MemoryVolumeSource([slice16(8, 8, 0)], { width: 4, height: 4 }), { maxBlocks: 0 })).toThrow(/maxBlocks/);
  });
});
