// train/backend.ts: 'auto' reports every backend it skipped and why; an explicit backend that
// cannot be had is an E_BACKEND naming it.
import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../train/backend.ts';
import { EmsegError } from '../core/errors.ts';

const nativeInstalled = async (name: string) => import(/* @vite-ignore */ name).then(() => true, () => false);

describe('selectBackend', () => {
  it("'auto' falls through the native packages that are absent and reports each one", async () => {
    const lines: string[] = [];
    const selected = await selectBackend(tf, 'auto', (line) => lines.push(line));
    if (!(await nativeInstalled('@tensorflow/tfjs-node-gpu')) && !(await nativeInstalled('@tensorflow/tfjs-node'))) {
      expect(selected.name).toBe('wasm');
      expect(tf.getBackend()).toBe('wasm');
      expect(selected.report[0]).toMatch(/^gpu: skipped, @tensorflow\/tfjs-node-gpu is not installed/);
      expect(selected.report[1]).toMatch(/^native: skipped, @tensorflow\/tfjs-node is not installed/);
      expect(selected.report[2]).toMatch(/^wasm: using it/);
      expect(tf.getKernel('Conv2DBackpropFilter', 'wasm')).toBeDefined();
    }
    expect(lines).toEqual(selected.report.map((line) => `backend ${line}`));
  });

  it('selects cpu when asked', async () => {
    const selected = await selectBackend(tf, 'cpu');
    expect(selected.name).toBe('cpu');
    expect(tf.getBackend()).toBe('cpu');
  });

  it('fails with E_BACKEND naming an unavailable explicit choice, and E_BAD_ARGUMENT for an unknown one', async () => {
    if (!(await nativeInstalled('@tensorflow/tfjs-node-gpu'))) {
      const error = await selectBackend(tf, 'gpu').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(EmsegError);
      expect((error as EmsegError).code).toBe('E_BACKEND');
      expect((error as EmsegError).message).toMatch(/backend 'gpu' is not available: @tensorflow\/tfjs-node-gpu is not installed/);
    }
    const bad = await selectBackend(tf, 'cuda' as never).catch((e: unknown) => e);
    expect((bad as EmsegError).code).toBe('E_BAD_ARGUMENT');
    expect((bad as EmsegError).message).toMatch(/--backend: expected one of auto, gpu, native, wasm, cpu, found 'cuda'/);
  });
});
