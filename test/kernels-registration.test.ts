// Every project wasm kernel (a ProjectKernelConfig exported by a train/kernels module) is in the
// registration table and is the kernel tfjs runs after selectBackend('wasm'); registering again
// keeps tfjs's own kernel as the fallback. tfjs's kernels give the same numbers, so only this
// test notices a kernel that was left out or overwritten.
import { readdirSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../train/backend.ts';
import { PROJECT_WASM_KERNEL_CONFIGS, PROJECT_WASM_KERNELS, projectKernelsNotRegistered, registerProjectWasmKernels } from '../train/kernels/register.ts';
import type { ProjectKernelConfig } from '../train/kernels/wasm-kernel-tools.ts';

const isConfig = (value: unknown): value is ProjectKernelConfig =>
  typeof value === 'object' && value !== null && typeof (value as ProjectKernelConfig).kernelName === 'string' && typeof (value as ProjectKernelConfig).setup === 'function';

describe('project wasm kernel registration', () => {
  beforeAll(async () => {
    await selectBackend(tf, 'wasm');
  });

  it('lists every kernel config the kernel modules export, once', async () => {
    const exported: ProjectKernelConfig[] = [];
    for (const file of readdirSync('train/kernels').filter((name) => name.endsWith('.ts'))) {
      const module = (await import(`../train/kernels/${file}`)) as Record<string, unknown>;
      exported.push(...Object.values(module).filter(isConfig));
    }
    expect(new Set(exported)).toEqual(new Set(PROJECT_WASM_KERNEL_CONFIGS));
    expect(new Set(PROJECT_WASM_KERNELS).size).toBe(PROJECT_WASM_KERNELS.length);
    expect([...PROJECT_WASM_KERNELS].sort()).toEqual(['Cast', 'Concat', 'Conv2DBackpropFilter', 'Conv2DBackpropInput', 'Identity', 'MaxPoolGrad', 'SplitV', 'Sum']);
  });

  it('makes each one the kernel registered for wasm', () => {
    expect(projectKernelsNotRegistered(tf)).toEqual([]);
    // Put tfjs's Sum back in place of the project's: the check sees it.
    const ours = tf.getKernel('Sum', 'wasm')!;
    const original = (ours as unknown as { emsegFallback: tf.KernelFunc }).emsegFallback;
    tf.unregisterKernel('Sum', 'wasm');
    tf.registerKernel({ kernelName: 'Sum', backendName: 'wasm', kernelFunc: original });
    expect(projectKernelsNotRegistered(tf)).toEqual(['Sum']);
    registerProjectWasmKernels(tf);
    expect(projectKernelsNotRegistered(tf)).toEqual([]);
  });

  it("keeps tfjs's own kernel as the fallback when registering again", () => {
    const fallbackOf = (name: string) => (tf.getKernel(name, 'wasm') as unknown as { emsegFallback?: unknown }).emsegFallback;
    const before = PROJECT_WASM_KERNELS.map(fallbackOf);
    registerProjectWasmKernels(tf);
    registerProjectWasmKernels(tf);
    expect(PROJECT_WASM_KERNELS.map(fallbackOf)).toEqual(before);
    for (const name of PROJECT_WASM_KERNELS) {
      const fallback = fallbackOf(name);
      if (fallback !== undefined) expect(PROJECT_WASM_KERNELS.map((n) => tf.getKernel(n, 'wasm')!.kernelFunc)).not.toContain(fallback);
    }
    // The kernels still compute: Sum over the leading axes (the project's path) against plain arithmetic.
    const sum = tf.tidy(() => tf.sum(tf.tensor4d([1, 2, 3, 4, 5, 6, 7, 8], [2, 2, 1, 2]), [0, 1, 2]).arraySync());
    expect(sum).toEqual([16, 20]);
  });
});
