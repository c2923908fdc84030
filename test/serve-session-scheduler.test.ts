/**
 * node/session-scheduler.ts with fake sessions: a lone call takes the wide session, concurrent
 * calls the narrow ones, the core budget is never exceeded, calls start in arrival order, errors
 * free their session.
 */
import { describe, expect, it } from 'vitest';
import type { TilePredictor } from '../core/tiling.ts';
import { createSessionScheduler } from '../node/session-scheduler.ts';

interface FakeSession {
  predictor: TilePredictor;
  /** Calls started on this session, by their first tile value. */
  started: number[];
  /** Finishes the oldest running call (with the input + `offset`, or an error). */
  finish: (error?: Error) => void;
  readonly running: number;
}

/** A session that holds each call until `finish`; `cost` cores while running, counted in `load`. */
function fakeSession(offset: number, cost: number, load: { now: number; peak: number }): FakeSession {
  const started: number[] = [];
  const pending: { tiles: Float32Array; resolve: (output: Float32Array) => void; reject: (error: Error) => void }[] = [];
  return {
    started,
    predictor: (tiles) =>
      new Promise<Float32Array>((resolve, reject) => {
        started.push(tiles[0]!);
        load.now += cost;
        load.peak = Math.max(load.peak, load.now);
        pending.push({ tiles, resolve, reject });
      }),
    finish: (error) => {
      const call = pending.shift();
      if (!call) throw new Error('no call running');
      load.now -= cost;
      if (error) call.reject(error);
      else call.resolve(call.tiles.map((value) => value + offset));
    },
    get running() {
      return pending.length;
    },
  };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));
const call = (value: number) => Float32Array.of(value);

function setUp(demand?: () => number) {
  const load = { now: 0, peak: 0 };
  const narrow = [fakeSession(100, 1, load), fakeSession(200, 1, load)];
  const wide = fakeSession(1000, 2, load);
  const scheduler = createSessionScheduler({ narrow: narrow.map((s) => s.predictor), wide: wide.predictor, ...(demand ? { demand } : {}) });
  return { load, narrow, wide, scheduler };
}

describe('createSessionScheduler', () => {
  it('runs a lone call on the wide session', async () => {
    const { wide, narrow, scheduler } = setUp();
    const result = scheduler.predictor(call(1), 1, 1, 1);
    await tick();
    expect(wide.started).toEqual([1]);
    expect(narrow.every((s) => s.started.length === 0)).toBe(true);
    wide.finish();
    expect(Array.from(await result)).toEqual([1001]);
    expect(scheduler.runs).toEqual({ wide: 1, narrow: 0 });
  });

  it('runs concurrent calls side by side on the narrow sessions, never above the core budget', async () => {
    const { load, wide, narrow, scheduler } = setUp();
    const results = [1, 2, 3, 4, 5].map((value) => scheduler.predictor(call(value), 1, 1, 1));
    await tick();
    // The first call found the scheduler idle and alone: wide. The others wait for the cores.
    expect(wide.started).toEqual([1]);
    wide.finish();
    await tick();
    expect(narrow[0]!.started).toEqual([2]);
    expect(narrow[1]!.started).toEqual([3]);
    narrow[1]!.finish();
    await tick();
    expect(narrow[1]!.started).toEqual([3, 4]); // arrival order; the wide session waits for idle cores
    narrow[0]!.finish();
    await tick();
    expect(narrow[0]!.started).toEqual([2, 5]); // one call left but a narrow session busy: narrow
    narrow[0]!.finish();
    narrow[1]!.finish();
    expect((await Promise.all(results)).map((r) => r[0])).toEqual([1001, 102, 203, 204, 105]);
    expect(load.peak).toBe(2);
    expect(wide.started).toEqual([1]);
  });

  it('keeps to the narrow sessions while the server has other requests (demand)', async () => {
    let requests = 3;
    const { wide, narrow, scheduler } = setUp(() => requests);
    const first = scheduler.predictor(call(1), 1, 1, 1);
    await tick();
    expect(narrow[0]!.started).toEqual([1]);
    narrow[0]!.finish();
    await first;
    requests = 1;
    const second = scheduler.predictor(call(2), 1, 1, 1);
    await tick();
    expect(wide.started).toEqual([2]);
    wide.finish();
    await second;
  });

  it('waits for running narrow calls before it starts the wide session, and frees a session whose call failed', async () => {
    const { load, wide, narrow, scheduler } = setUp();
    scheduler.setDemand(() => 2);
    const first = scheduler.predictor(call(1), 1, 1, 1);
    await tick();
    scheduler.setDemand(() => 1);
    const second = scheduler.predictor(call(2), 1, 1, 1);
    await tick();
    expect(narrow[0]!.started).toEqual([1]);
    expect(narrow[1]!.started).toEqual([2]); // a session was busy: narrow, not wide
    narrow[0]!.finish(new Error('boom'));
    await expect(first).rejects.toThrow('boom');
    const third = scheduler.predictor(call(3), 1, 1, 1);
    await tick();
    expect(narrow[0]!.started).toEqual([1, 3]); // the failed call's session is free again
    narrow[0]!.finish();
    narrow[1]!.finish();
    await Promise.all([second, third]);
    expect(wide.started).toEqual([]);
    expect(load.peak).toBe(2);
  });

  it('works without a wide session and refuses an empty pool', async () => {
    const load = { now: 0, peak: 0 };
    const only = fakeSession(5, 1, load);
    const scheduler = createSessionScheduler({ narrow: [only.predictor] });
    const result = scheduler.predictor(call(1), 1, 1, 1);
    await tick();
    only.finish();
    expect(Array.from(await result)).toEqual([6]);
    expect(() => createSessionScheduler({ narrow: [] })).toThrow(/at least one session/);
  });
});
