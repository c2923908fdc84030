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
import { WASM, type TensorInfo, type Tf } from './wasm-kernel-tools.ts';

function share(backend: BackendWasm, x: TensorInfo): TensorInfo {
  backend.incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
}

function replace(tf: Tf, kernelName: string, shares: (x: TensorInfo, attrs: Record<string, unknown>) => boolean): void {
  const original = tf.getKernel(kernelName, WASM);
  if (original === undefined) throw new Error(`the wasm backend has no ${kernelName} kernel`);
  const marker = original as unknown as { emsegFallback?: (args: unknown) => TensorInfo };
  const fallback = marker.emsegFallback ?? (original.kernelFunc as unknown as (args: unknown) => TensorInfo);
  tf.unregisterKernel(kernelName, WASM);
  tf.registerKernel({
    kernelName,
    backendName: WASM,
    kernelFunc: (args: { inputs: unknown; backend: unknown; attrs?: unknown }) => {
      const { x } = args.inputs as { x: TensorInfo };
      return shares(x, (args.attrs ?? {}) as Record<string, unknown>) ? share(args.backend as BackendWasm, x) : fallback(args);
    },
    emsegFallback: fallback,
  } as never);
}

export function registerSharedIdentity(tf: Tf): void {
  replace(tf, 'Identity', (x) => x.dtype !== 'string');
  replace(tf, 'Cast', (x, attrs) => x.dtype !== 'string' && attrs['dtype'] === x.dtype);
}
