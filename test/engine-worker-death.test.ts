// train/engine-runner.ts WorkerRunner: when its worker thread dies, every request in flight is
// rejected (nothing waits forever) and later requests fail at once with the same error.
import { describe, expect, it } from 'vitest';
import type { Worker } from 'node:worker_threads';
import { WorkerRunner } from '../train/engine-runner.ts';

describe('WorkerRunner', () => {
  it('rejects pending and later work when its worker dies', async () => {
    const runner = new WorkerRunner(() => {});
    const worker = (runner as unknown as { worker: Worker }).worker;
    await new Promise<void>((resolve) => worker.once('online', () => resolve()));
    const weights = { version: 0, values: [] };
    const first = runner.predict(new Float32Array(16), 1, 4, 4, weights);
    const second = runner.artifacts(weights);
    const settled = Promise.allSettled([first, second]);
    await worker.terminate(); // the thread is gone, as after a crash
    const results = await settled;
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    for (const r of results) expect((r as PromiseRejectedResult).reason.message).toMatch(/training worker exited with code 1/);
    await expect(runner.predict(new Float32Array(16), 1, 4, 4, weights)).rejects.toThrow(/training worker exited with code 1/);
    await runner.dispose();
  });
});
