/** The volume the shard processes of test/volume-ome-zarr-sink.test.ts write (shared by both sides). */
export const shardTestOptions = { width: 150, height: 100, depth: 2, chunkWidth: 32, chunkHeight: 32, sampleType: 'uint8', kind: 'mask', job: { test: 'shards' } } as const;

export function shardTestValue(x: number, y: number, z: number): number {
  return (x * 3 + y * 5 + z * 7) % 13 < 7 ? 255 : 0;
}
