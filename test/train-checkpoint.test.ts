/** train/checkpoint.ts: complete, atomic checkpoints that round-trip typed arrays exactly. */
import { existsSync, mkdtempSync, readdirSync, renameSync, rmSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EmsegError } from '../core/errors.ts';
import { checkpointDir, hasCheckpoint, loadCheckpoint, packState, saveCheckpoint, unpackState, type LoopState } from '../train/checkpoint.ts';

const root = mkdtempSync(join(tmpdir(), 'emseg-ckpt-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const loop = (step: number): LoopState => ({
  step, cropsSeen: step * 4, rngState: { s: [1, 2, 3, 4] }, logPosition: 123, elapsedSeconds: 4.5,
  bestVRand: 0.7, bestStep: 10, windowLossSum: 0.25, windowSteps: 1, configKey: '{"seed":42}',
});

const engineState = () => ({
  meta: { format: 'emseg-engine-state', step: 3, buffers: [{ name: 'weight:a', shape: [2, 3] }, { name: 'adam_m:a', shape: [3] }] },
  buffers: [Float32Array.from([1.5, -2, 3e-8, Math.PI, 0, -0]), Float32Array.from([7, 8, 9])],
  other: { ints: Int32Array.from([-1, 2 ** 31 - 1]), bytes: Uint8Array.from([1, 2, 3]), inf: Number.POSITIVE_INFINITY },
});

describe('checkpoints', () => {
  it('pack/unpack round-trips nested typed arrays bit for bit, with 8-byte alignment', () => {
    const state = engineState();
    const { json, blob } = packState(state);
    expect(JSON.stringify(json)).not.toContain('1.5'); // values live in the blob, not the JSON
    const back = unpackState(JSON.parse(JSON.stringify(json)), blob) as ReturnType<typeof engineState>;
    expect(back.buffers[0]).toBeInstanceOf(Float32Array);
    expect(Object.is(back.buffers[0]![5], -0)).toBe(true);
    expect([...back.buffers[0]!]).toEqual([...state.buffers[0]!]);
    expect([...back.other.ints]).toEqual([-1, 2 ** 31 - 1]);
    expect([...back.other.bytes]).toEqual([1, 2, 3]);
    expect(back.other.inf).toBe(Number.POSITIVE_INFINITY);
    expect(back.meta).toEqual(state.meta);
  });

  it('saves a complete folder, replaces it atomically, and loads it back', async () => {
    const out = join(root, 'run');
    await saveCheckpoint(out, 'latest', { loop: loop(5), engineState: engineState() });
    await saveCheckpoint(out, 'latest', { loop: loop(10), engineState: engineState() });
    const dir = checkpointDir(out, 'latest');
    expect(readdirSync(dir).sort()).toEqual(['checkpoint.json', 'tensors.bin']);
    // no temp or previous folders left behind
    expect(readdirSync(join(out, 'checkpoints'))).toEqual(['latest']);
    const back = loadCheckpoint(out, 'latest');
    expect(back.loop).toEqual(loop(10));
    expect([...(back.engineState as ReturnType<typeof engineState>).buffers[1]!]).toEqual([7, 8, 9]);
  });

  it('falls back to the previous folder after a crash between the renames', async () => {
    const out = join(root, 'crash');
    await saveCheckpoint(out, 'best', { loop: loop(7), engineState: engineState() });
    const dir = checkpointDir(out, 'best');
    renameSync(dir, `${dir}.previous`); // the state right after moving the old one aside
    expect(hasCheckpoint(out, 'best')).toBe(true);
    expect(loadCheckpoint(out, 'best').loop.step).toBe(7);
  });

  it('reports a missing or truncated checkpoint as a clear EmsegError', async () => {
    const out = join(root, 'broken');
    expect(() => loadCheckpoint(out, 'latest')).toThrow(/no checkpoint to resume from/);
    await saveCheckpoint(out, 'latest', { loop: loop(1), engineState: engineState() });
    truncateSync(join(checkpointDir(out, 'latest'), 'tensors.bin'), 8);
    let error: unknown;
    try {
      loadCheckpoint(out, 'latest');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(EmsegError);
    expect((error as EmsegError).code).toBe('E_CORRUPT');
    expect((error as Error).message).toMatch(/tensors.bin: expected \d+ bytes, found 8/);
    expect(existsSync(join(checkpointDir(out, 'latest'), 'checkpoint.json'))).toBe(true);
  });
});
