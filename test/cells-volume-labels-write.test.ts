/**
 * The final step of the large-image labels (core/cells/volume-labels.ts writeVolumeLabels): the
 * stored label chunks joined and written give labelCells' labels in memory; one label chunk's
 * output chunks are written while the next is renumbered (at most two label chunks' writes in
 * flight), progress counts written label chunks, and a failed write rejects the step once no
 * write of it is in flight any more.
 */
import { describe, expect, it } from 'vitest';
import { labelCells } from '../core/cells/cell-labels.ts';
import { DEFAULT_CELL_PARAMS } from '../core/cells/cell-params.ts';
import { labelVolumeChunks, planVolumeLabels, writeVolumeLabels, type ProbabilitySource } from '../core/cells/volume-labels.ts';
import type { Box } from '../core/padding.ts';
import type { ChunkIndex } from '../core/volume.ts';
import { MemoryLabelChunkStore } from './helpers/memory-label-chunk-store.ts';
import { MemoryVolumeSink } from './helpers/memory-volume.ts';
import { syntheticCellProbability } from './helpers/synthetic-cells.ts';

const WIDTH = 100;
const HEIGHT = 84;
const params = { ...DEFAULT_CELL_PARAMS, chunkSize: 32, chunkHalo: 8 };
const probability = syntheticCellProbability(WIDTH, HEIGHT, { cell: 12, seed: 5 });

const source: ProbabilitySource = {
  async readRegion(_z: number, box: Box) {
    const data = new Float32Array(box.width * box.height);
    for (let y = 0; y < box.height; y++) data.set(probability.subarray((box.y + y) * WIDTH + box.x, (box.y + y) * WIDTH + box.x + box.width), y * box.width);
    return { width: box.width, height: box.height, data };
  },
};

/** A uint32 sink whose writes take 0-3 ms (a fixed pseudo-random order), recording which label chunks have writes in flight. */
class SlowLabelsSink extends MemoryVolumeSink {
  private readonly inFlight = new Map<string, number>();
  mostLabelChunksInFlight = 0;
  writesInFlight = 0;
  private turn = 0;
  constructor() {
    super(WIDTH, HEIGHT, 1, 16, 16, 'uint32');
  }
  override async writeChunk(chunk: ChunkIndex, data: Uint8Array | Float32Array): Promise<void> {
    // output chunks are 16x16 and label chunks 32x32: 2x2 output chunks per label chunk
    const labelChunk = `${chunk.cx >> 1}/${chunk.cy >> 1}`;
    this.inFlight.set(labelChunk, (this.inFlight.get(labelChunk) ?? 0) + 1);
    this.mostLabelChunksInFlight = Math.max(this.mostLabelChunksInFlight, this.inFlight.size);
    this.writesInFlight++;
    try {
      await new Promise((resolve) => setTimeout(resolve, (this.turn++ * 7) % 4));
      await super.writeChunk(chunk, data);
    } finally {
      this.writesInFlight--;
      const left = this.inFlight.get(labelChunk)! - 1;
      if (left === 0) this.inFlight.delete(labelChunk);
      else this.inFlight.set(labelChunk, left);
    }
  }
}

async function labelledStore() {
  const plan = planVolumeLabels({ width: WIDTH, height: HEIGHT, depth: 1, chunkWidth: 16, chunkHeight: 16 }, params);
  const store = new MemoryLabelChunkStore();
  await labelVolumeChunks(source, store, plan, plan.all, params, undefined, undefined, 2);
  return { plan, store };
}

describe('writeVolumeLabels', () => {
  it("writes labelCells' labels with the next label chunk renumbered while one's output chunks are written", async () => {
    const { plan, store } = await labelledStore();
    const sink = new SlowLabelsSink();
    const progress: number[] = [];
    const result = await writeVolumeLabels(store, sink, plan, { onChunk: (done) => progress.push(done) });
    const expected = labelCells(probability, WIDTH, HEIGHT, params);
    expect(result.counts).toEqual([expected.count]);
    expect(result.chunksWritten).toBe(7 * 6);
    expect(Array.from(sink.slice(0).data)).toEqual(Array.from(expected.labels));
    expect(sink.mostLabelChunksInFlight).toBe(2);
    expect(progress).toEqual(plan.all.map((_, i) => i + 1));
  });

  it('rejects with a failed write once none of its writes is in flight', async () => {
    const { plan, store } = await labelledStore();
    const sink = new SlowLabelsSink();
    sink.failAfterWrites = 9;
    await expect(writeVolumeLabels(store, sink, plan)).rejects.toThrow('killed');
    expect(sink.writesInFlight).toBe(0);
    expect(sink.chunks.size).toBeLessThan(7 * 6);
  });
});
