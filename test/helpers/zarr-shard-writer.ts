/**
 * One shard process of test/volume-ome-zarr-sink.test.ts: opens (creates, racing the others) the
 * store at argv[2] and writes the chunks whose index modulo argv[4] is argv[3].
 * Usage: node --import tsx test/helpers/zarr-shard-writer.ts <store> <shard> <shards>
 */
import { openOmeZarrSink } from '../../node/ome-zarr-sink.ts';
import { allChunks, chunkBox } from '../../core/volume.ts';
import { shardTestOptions, shardTestValue } from './zarr-shard-volume.ts';

const [path, shard, shards] = [process.argv[2]!, Number(process.argv[3]), Number(process.argv[4])];
const sink = await openOmeZarrSink({ ...shardTestOptions, path });
let index = 0;
for (const chunk of allChunks(sink)) {
  if (index++ % shards !== shard) continue;
  const box = chunkBox(sink, chunk);
  const data = new Uint8Array(box.width * box.height);
  for (let y = 0; y < box.height; y += 1) for (let x = 0; x < box.width; x += 1) data[y * box.width + x] = shardTestValue(box.x + x, box.y + y, chunk.z);
  await sink.writeChunk(chunk, data);
}
await sink.close();
