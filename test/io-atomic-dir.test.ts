/**
 * node/atomic-dir.ts under crashes: the replacement is stopped after each of its steps (a promise
 * that never settles, as a kill would leave it), then a reader must still find a complete folder,
 * and `recoverInterruptedWrites` must leave exactly the complete output and no leftovers, while
 * never touching a completed output, another name, or the leftovers of a process still running.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { completeDir, recoverInterruptedWrites, replaceDirAtomic, type ReplaceStep } from '../node/atomic-dir.ts';
import { hasCheckpoint, loadCheckpoint, saveCheckpoint, type LoopState } from '../train/checkpoint.ts';
import { tempDir } from './helpers/temp-dir.ts';

const fresh = () => tempDir('emseg-atomic-dir-');
const version = (dir: string) => readFileSync(join(dir, 'version.txt'), 'utf8');
const writeVersion = (v: string) => (dir: string) => writeFileSync(join(dir, 'version.txt'), v);
const dead = { isRunning: () => false };

/** Starts a replacement of `target` by version `v` and resolves when it has stopped for good after `step`. */
async function crashAfter(target: string, v: string, step: ReplaceStep): Promise<void> {
  await new Promise<void>((stopped) => {
    void replaceDirAtomic(target, writeVersion(v), {
      afterStep: (reached) => {
        if (reached !== step) return undefined;
        stopped();
        return new Promise(() => {}); // the process "dies" here: nothing after this step runs
      },
    });
  });
}

describe('replaceDirAtomic and recoverInterruptedWrites', () => {
  it('replaces a folder and leaves nothing beside it', async () => {
    const parent = fresh();
    const target = join(parent, 'model');
    await replaceDirAtomic(target, writeVersion('v1'));
    await replaceDirAtomic(target, writeVersion('v2'));
    expect(version(target)).toBe('v2');
    expect(readdirSync(parent)).toEqual(['model']);
  });

  it.each([
    ['filled', 'v1'],
    ['moved-aside', 'v1'],
    ['renamed', 'v2'],
  ] as const)('after a crash once %s: a complete folder is readable and the next run restores it and cleans up', async (step, expected) => {
    const parent = fresh();
    const target = join(parent, 'model');
    await replaceDirAtomic(target, writeVersion('v1'));
    await crashAfter(target, 'v2', step);
    expect(readdirSync(parent).length).toBeGreaterThan(1); // something was left behind
    expect(version(completeDir(target)!)).toBe(expected);

    const report = await recoverInterruptedWrites(parent, { names: ['model'], ...dead });
    expect(readdirSync(parent)).toEqual(['model']);
    expect(version(target)).toBe(expected);
    expect(report.restored).toEqual(step === 'moved-aside' ? [target] : []);
    await replaceDirAtomic(target, writeVersion('v3')); // and the folder works as before
    expect(version(target)).toBe('v3');
  });

  it('after a crash while writing the first copy: nothing readable, and the temp folder goes', async () => {
    const parent = fresh();
    const target = join(parent, 'latest');
    await crashAfter(target, 'v1', 'filled');
    expect(completeDir(target)).toBeUndefined();
    await recoverInterruptedWrites(parent, { names: ['latest'], ...dead });
    expect(readdirSync(parent)).toEqual([]);
  });

  it('never touches a completed output, another name, or the leftovers of a running process', async () => {
    const parent = fresh();
    await replaceDirAtomic(join(parent, 'model'), writeVersion('v1'));
    await crashAfter(join(parent, 'model'), 'v2', 'filled');
    mkdirSync(join(parent, '.notes.tmp-1-2'));
    mkdirSync(join(parent, 'model.backup'));
    const running = await recoverInterruptedWrites(parent, { names: ['model'], isRunning: () => true });
    expect(running).toEqual({ restored: [], removed: [] });
    await recoverInterruptedWrites(parent, { names: ['model'], ...dead });
    expect(readdirSync(parent).sort()).toEqual(['.notes.tmp-1-2', 'model', 'model.backup']);
    expect(version(join(parent, 'model'))).toBe('v1');
  });

  it('also tidies the leftovers of the older writers (checkpoint, engine-save, web demo, atomic-write)', async () => {
    const parent = fresh();
    for (const name of ['latest.tmp-4242-1700000000000', '.last-model.tmp-4242-1700000000000', '.model.tmp-4242-1700000000000.old', 'dist.building-4242', 'dist.old-4242', 'best.previous']) {
      mkdirSync(join(parent, name));
    }
    writeFileSync(join(parent, '.config.json.4242.a1b2c3d4.tmp'), '{');
    mkdirSync(join(parent, 'latest.previous'));
    writeFileSync(join(parent, 'latest.previous', 'checkpoint.json'), '{}');
    mkdirSync(join(parent, 'best'));
    const report = await recoverInterruptedWrites(parent, { names: ['latest', 'best', 'last-model', 'model', 'dist', 'config.json'], ...dead });
    expect(readdirSync(parent).sort()).toEqual(['best', 'latest']);
    expect(existsSync(join(parent, 'latest', 'checkpoint.json'))).toBe(true);
    expect(report.restored).toEqual([join(parent, 'latest')]);
  });
});

describe('checkpoints written through it', () => {
  const loop = (step: number): LoopState => ({ step, cropsSeen: step * 4, rngState: [1, 2], logPosition: 0, elapsedSeconds: step, bestVRand: -1, bestStep: 0, windowLossSum: 0, windowSteps: 0, configKey: 'k' });

  it('load the previous checkpoint after a crash between the two renames', async () => {
    const out = fresh();
    await saveCheckpoint(out, 'latest', { loop: loop(5), engineState: { w: new Float32Array([1, 2]) } });
    const target = join(out, 'checkpoints', 'latest');
    // The same rename steps saveCheckpoint takes, stopped after moving the old one aside.
    await crashAfter(target, 'unused', 'moved-aside');
    expect(existsSync(target)).toBe(false);
    expect(hasCheckpoint(out, 'latest')).toBe(true);
    expect(loadCheckpoint(out, 'latest').loop.step).toBe(5);
  });
});
