/**
 * The labels job's probability sink (core/cells/volume-labels.ts LabellingSink): it queues each
 * label chunk once its context is written and labels the queue behind the writes (a write does not
 * wait for the labelling it queued) one chunk at a time, labelReady labels the rest
 * atOnceWhenReady at a time and waits for it, stop leaves the rest of the queue, and the first
 * labelling error comes back from the next write and from labelReady (settled only waits).
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_CELL_PARAMS } from '../core/cells/cell-params.ts';
import { labelChunk, labelChunkContext } from '../core/cells/label-chunk.ts';
import { LabellingSink, planVolumeLabels, type ChunkLabeller } from '../core/cells/volume-labels.ts';
import type { Box } from '../core/padding.ts';
import { allChunks, chunkBox } from '../core/volume.ts';
import { MemoryLabelChunkStore } from './helpers/memory-label-chunk-store.ts';
import { MemoryVolumeSink } from './helpers/memory-volume.ts';
import { syntheticCellProbability } from './helpers/synthetic-cells.ts';

const WIDTH = 96;
const HEIGHT = 80;
const params = { ...DEFAULT_CELL_PARAMS, chunkSize: 32, chunkHalo: 8 };
const probability = syntheticCellProbability(WIDTH, HEIGHT, { cell: 12, seed: 3 });

class ProbabilityStore extends MemoryVolumeSink {
  /** The region from the chunks written (throws if one under it is missing). */
  async readRegion(z: number, box: Box) {
    const data = new Float32Array(box.width * box.height);
    for (let y = box.y; y < box.y + box.height; y++) {
      for (let x = box.x; x < box.x + box.width; x++) {
        const chunk = { z, cx: Math.floor(x / 16), cy: Math.floor(y / 16) };
        const values = this.chunks.get(`${z}/${chunk.cy}/${chunk.cx}`);
        if (!values) throw new Error(`chunk ${z}/${chunk.cy}/${chunk.cx} missing`);
        const cb = chunkBox(this, chunk);
        data[(y - box.y) * box.width + x - box.x] = values[(y - cb.y) * cb.width + x - cb.x]!;
      }
    }
    return { width: box.width, height: box.height, data };
  }
}

async function openJob(labeller: ChunkLabeller, atOnceWhenReady = 1) {
  const store = new ProbabilityStore(WIDTH, HEIGHT, 1, 16, 16, 'float32');
  const chunks = new MemoryLabelChunkStore();
  const plan = planVolumeLabels(store, params);
  const sink = await LabellingSink.open(store, chunks, plan, plan.all, params, labeller, atOnceWhenReady);
  const writeAll = async (onEach?: () => void) => {
    for (const chunk of allChunks(store)) {
      const box = chunkBox(store, chunk);
      const data = new Float32Array(box.width * box.height);
      for (let y = 0; y < box.height; y++) data.set(probability.subarray((box.y + y) * WIDTH + box.x, (box.y + y) * WIDTH + box.x + box.width), y * box.width);
      await sink.writeChunk(chunk, data);
      onEach?.();
    }
  };
  return { sink, chunks, plan, writeAll };
}

describe('LabellingSink', () => {
  it('labels behind the writes, one chunk at a time, and labelReady waits for the queue: the chunks of labelChunk', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let started = 0;
    let running = 0;
    let mostAtOnce = 0;
    const gated: ChunkLabeller = async (p, grid, lx, ly, cellParams) => {
      started++;
      running++;
      mostAtOnce = Math.max(mostAtOnce, running);
      await gate;
      running--;
      return labelChunk(p, grid, lx, ly, cellParams);
    };
    const { sink, chunks, plan, writeAll } = await openJob(gated);
    await writeAll();
    // every write returned although the first labelling is still waiting at the gate
    expect(started).toBe(1);
    expect(chunks.chunks.size).toBe(0);
    release();
    expect(await sink.labelReady()).toBe(0);
    expect(mostAtOnce).toBe(1);
    expect(sink.labelled).toBe(plan.all.length);
    for (const ref of plan.all) {
      const box = labelChunkContext(plan.grid, ref.lx, ref.ly);
      const context = new Float32Array(box.width * box.height);
      for (let y = 0; y < box.height; y++) context.set(probability.subarray((box.y + y) * WIDTH + box.x, (box.y + y) * WIDTH + box.x + box.width), y * box.width);
      const expected = labelChunk(context, plan.grid, ref.lx, ref.ly, params);
      expect(Array.from(await chunks.readLabels(ref))).toEqual(Array.from(expected.labels));
      expect(await chunks.readRecord(ref)).toEqual(expected.record);
    }
  });

  it('labels one chunk at a time while the tiles are written, atOnceWhenReady at a time from labelReady on', async () => {
    let writing = true;
    let running = 0;
    let mostWhileWriting = 0;
    let mostAfterWrites = 0;
    const slow: ChunkLabeller = async (p, grid, lx, ly, cellParams) => {
      running++;
      if (writing) mostWhileWriting = Math.max(mostWhileWriting, running);
      else mostAfterWrites = Math.max(mostAfterWrites, running);
      await new Promise((resolve) => setTimeout(resolve, 3));
      running--;
      return labelChunk(p, grid, lx, ly, cellParams);
    };
    const { sink, chunks, plan, writeAll } = await openJob(slow, 2);
    await writeAll();
    writing = false;
    expect(await sink.labelReady()).toBe(0);
    expect(mostWhileWriting).toBe(1);
    expect(mostAfterWrites).toBe(2);
    expect(sink.labelled).toBe(plan.all.length);
    expect(chunks.chunks.size).toBe(plan.all.length);
    await expect(LabellingSink.open(new ProbabilityStore(WIDTH, HEIGHT, 1, 16, 16, 'float32'), chunks, plan, plan.all, params, slow, 0)).rejects.toThrow('atOnceWhenReady: expected an integer >= 1, found 0');
  });

  it('stops: the chunk being labelled is stored, nothing else queued is labelled', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let started = 0;
    const gated: ChunkLabeller = async (p, grid, lx, ly, cellParams) => {
      started++;
      await gate;
      return labelChunk(p, grid, lx, ly, cellParams);
    };
    const { sink, chunks, plan, writeAll } = await openJob(gated);
    await writeAll();
    expect(plan.all.length).toBeGreaterThan(2);
    sink.stop();
    release();
    await sink.settled();
    expect(started).toBe(1);
    expect(chunks.chunks.size).toBe(1);
    expect(sink.labelled).toBe(1);
  });

  it('throws the first labelling error from the next write and from labelReady; settled only waits', async () => {
    let calls = 0;
    const failing: ChunkLabeller = async (p, grid, lx, ly, cellParams) => {
      calls++;
      if (calls === 1) throw new Error('out of memory while labelling');
      return labelChunk(p, grid, lx, ly, cellParams);
    };
    const { sink, chunks, writeAll } = await openJob(failing);
    await expect(writeAll(() => {})).rejects.toThrow('out of memory while labelling');
    await expect(sink.settled()).resolves.toBeUndefined();
    await expect(sink.labelReady()).rejects.toThrow('out of memory while labelling');
    // nothing queued after the error was labelled
    expect(calls).toBe(1);
    expect(chunks.chunks.size).toBe(0);
  });
});
