/**
 * Registers the project's wasm kernels, as tfjs-backend-wasm registers its own: one config per
 * kernel (declared in its module) and one loop. Call once per process or worker, after the wasm
 * backend is set; calling it again is harmless (tfjs's own kernel stays the fallback). See
 * train/README.md, "Compute engine".
 */
import { concatConfig, splitVConfig } from './concat-split.ts';
import { conv2dBackpropFilterConfig } from './conv2d-backprop-filter.ts';
import { conv2dBackpropInputConfig } from './conv2d-backprop-input.ts';
import { castConfig, identityConfig } from './identity-shared.ts';
import { maxPoolGradConfig } from './max-pool-grad.ts';
import { sumLeadingAxesConfig } from './sum-leading-axes.ts';
import { WASM, type KernelFunc, type ProjectKernelConfig, type Tf } from './wasm-kernel-tools.ts';

/** The project's wasm kernels: one missing in tfjs 4.22, the others faster. */
export const PROJECT_WASM_KERNEL_CONFIGS: readonly ProjectKernelConfig[] = [
  conv2dBackpropFilterConfig,
  conv2dBackpropInputConfig,
  maxPoolGradConfig,
  sumLeadingAxesConfig,
  identityConfig,
  castConfig,
  concatConfig,
  splitVConfig,
];

export const PROJECT_WASM_KERNELS: readonly string[] = PROJECT_WASM_KERNEL_CONFIGS.map((config) => config.kernelName);

/** What the loop adds to a registered kernel config: which project kernel it is, and tfjs's kernel it falls back on. */
interface ProjectKernelMarks {
  emsegKernel?: ProjectKernelConfig;
  emsegFallback?: KernelFunc;
}

export function registerProjectWasmKernels(tf: Tf): void {
  for (const config of PROJECT_WASM_KERNEL_CONFIGS) {
    const current = tf.getKernel(config.kernelName, WASM) as (ReturnType<Tf['getKernel']> & ProjectKernelMarks) | undefined;
    // Registering again keeps tfjs's own kernel (not the project's) as the fallback.
    const fallback = current?.emsegKernel ? current.emsegFallback : (current?.kernelFunc as KernelFunc | undefined);
    if (config.requiresFallback && fallback === undefined) {
      throw new Error(`the wasm backend has no ${config.kernelName} kernel to fall back on`);
    }
    if (current !== undefined) tf.unregisterKernel(config.kernelName, WASM);
    const marks: ProjectKernelMarks = { emsegKernel: config, ...(fallback ? { emsegFallback: fallback } : {}) };
    tf.registerKernel({ kernelName: config.kernelName, backendName: WASM, kernelFunc: config.setup(tf, fallback), ...marks } as never);
  }
}

/** The project kernels that are not the kernel registered for wasm now, by name (empty after registerProjectWasmKernels). */
export function projectKernelsNotRegistered(tf: Tf): string[] {
  return PROJECT_WASM_KERNEL_CONFIGS.filter((config) => (tf.getKernel(config.kernelName, WASM) as ProjectKernelMarks | undefined)?.emsegKernel !== config).map(
    (config) => config.kernelName,
  );
}
