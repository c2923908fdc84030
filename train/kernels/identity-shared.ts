/**
 * Identity, and Cast to the same dtype, for the wasm backend without a copy. tfjs's engine clones (runs Identity on) every
 * tensor it saves for the backward pass; wasm's Identity allocates and copies each one (about
 * 175 copies of activations per U-Net step), while the cpu backend just shares the buffer and
 * counts a reference, which is what this kernel does too (tfjs tensors are immutable, and
 * variables replace their buffer on assign instead of writing into it). tfjs's ReLU gradient
 * casts a float32 tensor to float32 (`cast(step(x), 'float32')`), another copy on wasm that
 * becomes a shared reference here; casts between dtypes still go to tfjs's kernel.
 */
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import type { KernelFunc, ProjectKernelConfig, TensorInfo } from './wasm-kernel-tools.ts';

function share(backend: BackendWasm, x: TensorInfo): TensorInfo {
  backend.incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
}

/** A kernel that shares its input's buffer when `shares` says so, else runs tfjs's own. */
function sharingConfig(kernelName: string, shares: (x: TensorInfo, attrs: Record<string, unknown>) => boolean): ProjectKernelConfig {
  return {
    kernelName,
    requiresFallback: true,
    setup: (_tf, fallback): KernelFunc => (args) => {
      const { x } = args.inputs as { x: TensorInfo };
      return shares(x, args.attrs ?? {}) ? share(args.backend, x) : fallback!(args);
    },
  };
}

export const identityConfig = sharingConfig('Identity', (x) => x.dtype !== 'string');
export const castConfig = sharingConfig('Cast', (x, attrs) => x.dtype !== 'string' && attrs['dtype'] === x.dtype);
