import { describe, expect, it } from 'vitest';
import { createBatchingPredictor } from '../core/tile-batcher.ts';

/** A predictor that records its calls and answers f(x) = 2x + 1 for every value, so each caller can check it got its own tiles back. */
function recordingPredictor(delayMs = 5) {
  const calls: { n: number; height: number; width: number }[] = [];
  const predictor = async (tiles: Float32Array, n: number, height: number, width: number) => {
    calls.push({ n, height, width });
    await new Promise((resolve) => setTimeout(resolve, delayMs));
    const out = new Float32Array(n * height * width);
    for (let i = 0; i < out.length; i += 1) out[i] = 2 * tiles[i]! + 1;
    return out;
  };
  return { calls, predictor };
}

function tilesOf(n: number, height: number, width: number, seed: number): Float32Array {
  const data = new Float32Array(n * height * width);
  for (let i = 0; i < data.length; i += 1) data[i] = seed * 1000 + i;
  return data;
}

describe('createBatchingPredictor', () => {
  it('merges concurrent calls of the same shape into one session call and gives each its own results', async () => {
    const { calls, predictor } = recordingPredictor();
    const batcher = createBatchingPredictor(predictor, { maxBatch: 8, maxWaitMs: 20 });
    const inputs = [tilesOf(1, 4, 4, 1), tilesOf(2, 4, 4, 2), tilesOf(1, 4, 4, 3), tilesOf(3, 4, 4, 4)];
    const outputs = await Promise.all(inputs.map((tiles) => batcher.predict(tiles, tiles.length / 16, 4, 4)));
    expect(calls).toEqual([{ n: 7, height: 4, width: 4 }]);
    outputs.forEach((output, k) => {
      const input = inputs[k]!;
      expect(output.length).toBe(input.length);
      expect(Array.from(output)).toEqual(Array.from(input, (x) => 2 * x + 1));
    });
  });

  it('never puts more than maxBatch tiles in one call and keeps shapes apart', async () => {
    const { calls, predictor } = recordingPredictor();
    const batcher = createBatchingPredictor(predictor, { maxBatch: 3, maxWaitMs: 10 });
    const jobs = [
      batcher.predict(tilesOf(2, 4, 4, 1), 2, 4, 4),
      batcher.predict(tilesOf(1, 8, 8, 2), 1, 8, 8),
      batcher.predict(tilesOf(2, 4, 4, 3), 2, 4, 4),
      batcher.predict(tilesOf(1, 4, 4, 4), 1, 4, 4),
    ];
    const outputs = await Promise.all(jobs);
    expect(calls.every((call) => call.n <= 3)).toBe(true);
    expect(calls.reduce((sum, call) => sum + call.n, 0)).toBe(6);
    expect(calls.length).toBeLessThan(4); // the 4x4 calls were merged
    expect(outputs[1]!.length).toBe(64);
    expect(outputs[3]![0]).toBe(2 * 4000 + 1);
  });

  it('runs one session call at a time and batches what queued behind it', async () => {
    let active = 0;
    let maxActive = 0;
    const sizes: number[] = [];
    const predictor = async (tiles: Float32Array, n: number) => {
      active += 1;
      maxActive = Math.max(maxActive, active);
      sizes.push(n);
      await new Promise((resolve) => setTimeout(resolve, 15));
      active -= 1;
      return tiles.slice();
    };
    const batcher = createBatchingPredictor(predictor, { maxBatch: 4, maxWaitMs: 0 });
    const first = batcher.predict(tilesOf(1, 2, 2, 0), 1, 2, 2);
    await new Promise((resolve) => setTimeout(resolve, 2));
    const rest = [1, 2, 3].map((k) => batcher.predict(tilesOf(1, 2, 2, k), 1, 2, 2));
    await Promise.all([first, ...rest]);
    expect(maxActive).toBe(1);
    expect(sizes).toEqual([1, 3]);
  });

  it('rejects every call of a failed batch and keeps serving', async () => {
    let fail = true;
    const predictor = async (tiles: Float32Array) => {
      if (fail) throw new Error('session exploded');
      return tiles.slice();
    };
    const batcher = createBatchingPredictor(predictor, { maxBatch: 4, maxWaitMs: 5 });
    const results = await Promise.allSettled([batcher.predict(tilesOf(1, 2, 2, 1), 1, 2, 2), batcher.predict(tilesOf(1, 2, 2, 2), 1, 2, 2)]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    fail = false;
    await expect(batcher.predict(tilesOf(1, 2, 2, 3), 1, 2, 2)).resolves.toHaveLength(4);
  });

  it('drops a queued call whose signal aborts, without running it', async () => {
    const { calls, predictor } = recordingPredictor(20);
    const batcher = createBatchingPredictor(predictor, { maxBatch: 1, maxWaitMs: 0 });
    const controller = new AbortController();
    const running = batcher.predict(tilesOf(1, 2, 2, 1), 1, 2, 2);
    const queued = batcher.forSignal(controller.signal)(tilesOf(1, 2, 2, 2), 1, 2, 2);
    expect(batcher.pendingTiles).toBe(1);
    controller.abort(new Error('timed out'));
    await expect(queued).rejects.toThrow('timed out');
    await running;
    expect(calls).toHaveLength(1);
    expect(batcher.pendingTiles).toBe(0);
  });

  it('does not wait maxWaitMs for a lone request, but still merges the calls it makes in one turn', async () => {
    const { calls, predictor } = recordingPredictor(0);
    let lone = true;
    const batcher = createBatchingPredictor(predictor, { maxBatch: 8, maxWaitMs: 1000, loneRequest: () => lone });
    const started = performance.now();
    await Promise.all([batcher.predict(tilesOf(1, 4, 4, 1), 1, 4, 4), batcher.predict(tilesOf(2, 4, 4, 2), 2, 4, 4)]);
    expect(performance.now() - started).toBeLessThan(500);
    expect(calls).toEqual([{ n: 3, height: 4, width: 4 }]);
    lone = false; // another request in the server: wait for its tiles as before
    const waited = performance.now();
    await batcher.predict(tilesOf(1, 4, 4, 3), 1, 4, 4);
    expect(performance.now() - waited).toBeGreaterThanOrEqual(990);
  });

  it('checks its options', () => {
    const { predictor } = recordingPredictor();
    expect(() => createBatchingPredictor(predictor, { maxBatch: 0 })).toThrow(/maxBatch/);
    expect(() => createBatchingPredictor(predictor, { maxWaitMs: -1 })).toThrow(/maxWaitMs/);
  });
});
