/**
 * Registers the project's wasm kernels (call once per process or worker, after the wasm backend
 * is set; calling it again is harmless). See train/README.md, "Compute engine".
 */
import { registerConcatSplit } from './concat-split.ts';
import { registerConv2dBackpropFilter } from './conv2d-backprop-filter.ts';
import { registerConv2dBackpropInput } from './conv2d-backprop-input.ts';
import { registerSharedIdentity } from './identity-shared.ts';
import { registerMaxPoolGrad } from './max-pool-grad.ts';
import { registerSumLeadingAxes } from './sum-leading-axes.ts';
import type { Tf } from './wasm-kernel-tools.ts';

/** The wasm kernels the project registers: one missing in tfjs 4.22, the others faster. */
export const PROJECT_WASM_KERNELS = ['Conv2DBackpropFilter', 'Conv2DBackpropInput', 'MaxPoolGrad', 'Sum', 'Identity', 'Cast', 'Concat', 'SplitV'] as const;

export function registerProjectWasmKernels(tf: Tf): void {
  registerConv2dBackpropFilter(tf);
  registerConv2dBackpropInput(tf);
  registerMaxPoolGrad(tf);
  registerSumLeadingAxes(tf);
  registerSharedIdentity(tf);
  registerConcatSplit(tf);
}
