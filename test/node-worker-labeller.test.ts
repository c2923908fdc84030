/**
 * Label chunks labelled in a worker thread (node/worker-labeller.ts): the same labels and record
 * as label-chunk.ts in this thread, requests answered in order, the probability array taken over
 * when it spans its buffer (copied when it is a view), two workers labelling as one does, errors
 * carried back, a closed labeller refusing work.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CELL_PARAMS } from '../core/cells/cell-params.ts';
import { labelChunk, labelChunkContext, labelChunkGrid } from '../core/cells/label-chunk.ts';
import { startWorkerLabeller, type WorkerLabeller } from '../node/worker-labeller.ts';

const params = { ...DEFAULT_CELL_PARAMS, chunkSize: 64, chunkHalo: 16 };
const grid = labelChunkGrid(160, 150, params);

/** A membrane-like probability: bright cells, dark lines every 23 pixels, a little texture. */
function probabilityOf(lx: number, ly: number): Float32Array {
  const box = labelChunkContext(grid, lx, ly);
  const out = new Float32Array(box.width * box.height);
  for (let y = 0; y < box.height; y++) {
    for (let x = 0; x < box.width; x++) {
      const gx = box.x + x;
      const gy = box.y + y;
      const line = gx % 23 < 2 || (gy + (gx >> 3)) % 19 < 2;
      out[y * box.width + x] = line ? 0.1 : 0.9 - 0.05 * Math.sin(gx * 0.7 + gy * 0.3);
    }
  }
  return out;
}

let labeller: WorkerLabeller;
beforeAll(() => {
  labeller = startWorkerLabeller();
});
afterAll(async () => {
  await labeller.close();
});

describe('startWorkerLabeller', () => {
  it('gives the labels and record of labelChunk in this thread, for chunks asked for at the same time', async () => {
    const refs = [
      [0, 0],
      [1, 1],
      [2, 2],
      [2, 0],
    ] as const;
    const expected = refs.map(([lx, ly]) => labelChunk(probabilityOf(lx, ly), grid, lx, ly, params));
    const actual = await Promise.all(refs.map(([lx, ly]) => labeller.label(probabilityOf(lx, ly), grid, lx, ly, params)));
    for (const [k, chunk] of actual.entries()) {
      expect(chunk.record.pieces).toBeGreaterThan(1);
      expect(Array.from(chunk.labels)).toEqual(Array.from(expected[k]!.labels));
      expect(chunk.record).toEqual(expected[k]!.record);
    }
  });

  it('takes a whole-buffer probability over and copies a view', async () => {
    const whole = probabilityOf(1, 0);
    const expected = labelChunk(whole.slice(), grid, 1, 0, params);
    await labeller.label(whole, grid, 1, 0, params);
    expect(whole.length).toBe(0); // transferred
    const source = probabilityOf(1, 0);
    const padded = new Float32Array(source.length + 8);
    padded.set(source, 8);
    const view = padded.subarray(8);
    const chunk = await labeller.label(view, grid, 1, 0, params);
    expect(view.length).toBe(source.length); // still the caller's
    expect(Array.from(chunk.labels)).toEqual(Array.from(expected.labels));
  });

  it('labels with two workers as one does, several chunks at once', async () => {
    const two = startWorkerLabeller(2);
    try {
      expect(two.workers).toBe(2);
      const refs = [
        [0, 0],
        [1, 0],
        [2, 1],
        [0, 2],
        [1, 2],
      ] as const;
      const actual = await Promise.all(refs.map(([lx, ly]) => two.label(probabilityOf(lx, ly), grid, lx, ly, params)));
      for (const [k, [lx, ly]] of refs.entries()) {
        const expected = labelChunk(probabilityOf(lx, ly), grid, lx, ly, params);
        expect(Array.from(actual[k]!.labels)).toEqual(Array.from(expected.labels));
        expect(actual[k]!.record).toEqual(expected.record);
      }
    } finally {
      await two.close();
    }
    await expect(two.label(probabilityOf(0, 0), grid, 0, 0, params)).rejects.toThrow(/labelling worker was closed/);
    expect(() => startWorkerLabeller(0)).toThrow('workers: expected an integer >= 1, found 0');
  });

  it("carries the labelling's error back, and refuses work once closed", async () => {
    await expect(labeller.label(new Float32Array(10), grid, 1, 1, params)).rejects.toThrow(/probability of label chunk 1, 1: expected \d+ pixels/);
    const closing = startWorkerLabeller();
    await closing.close();
    await expect(closing.label(probabilityOf(0, 0), grid, 0, 0, params)).rejects.toThrow(/labelling worker was closed/);
  });
});
