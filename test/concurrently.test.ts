/**
 * core/concurrently.ts forEachConcurrently: at most `limit` steps in flight, items taken one at a
 * time as steps finish (a lazy iterable is not read ahead), the first failure stops the taking and
 * is thrown once the steps in flight are done.
 */
import { describe, expect, it } from 'vitest';
import { forEachConcurrently } from '../core/concurrently.ts';

const tick = (ms = 1) => new Promise<void>((resolve) => setTimeout(resolve, ms));

describe('forEachConcurrently', () => {
  it('runs every item with at most `limit` steps in flight', async () => {
    let inFlight = 0;
    let most = 0;
    const done: number[] = [];
    await forEachConcurrently([5, 1, 4, 2, 3, 1, 2], 3, async (ms) => {
      inFlight++;
      most = Math.max(most, inFlight);
      await tick(ms);
      inFlight--;
      done.push(ms);
    });
    expect(most).toBe(3);
    expect(done.sort()).toEqual([1, 1, 2, 2, 3, 4, 5]);
  });

  it('takes the items of a lazy iterable only as steps finish', async () => {
    const taken: number[] = [];
    function* items() {
      for (let i = 0; i < 6; i++) {
        taken.push(i);
        yield i;
      }
    }
    const started: number[] = [];
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const run = forEachConcurrently(items(), 2, async (i) => {
      started.push(i);
      if (i < 2) await gate;
    });
    await tick();
    expect(taken).toEqual([0, 1]);
    expect(started).toEqual([0, 1]);
    release();
    await run;
    expect(taken).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('stops taking items at the first failure, waits for the steps in flight, then throws that failure', async () => {
    const finished: number[] = [];
    const run = forEachConcurrently([0, 1, 2, 3, 4, 5], 2, async (i) => {
      if (i === 0) throw new Error('item 0 failed');
      if (i === 1) await tick(20);
      else if (i === 2) throw new Error('item 2 failed too');
      finished.push(i);
    });
    await expect(run).rejects.toThrow('item 0 failed');
    expect(finished).toEqual([1]);
  });

  it('refuses a limit that is not a positive integer', async () => {
    await expect(forEachConcurrently([1], 0, async () => {})).rejects.toThrow('limit: expected an integer >= 1, found 0');
    await expect(forEachConcurrently([1], 1.5, async () => {})).rejects.toThrow('found 1.5');
  });
});
