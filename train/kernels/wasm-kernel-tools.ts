/**
 * Small helpers shared by the project's wasm kernels: run another registered wasm kernel from
 * inside a kernel (the engine is not involved, so nothing is recorded on the gradient tape),
 * allocate outputs on the wasm heap and look at tensors as Float32Array views of that heap.
 *
 * Heap views are invalidated when the wasm memory grows, which any allocation can cause: take
 * views only after the last allocation a piece of code needs.
 */
import type * as tfType from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

export type TensorInfo = tfType.TensorInfo;
export type Tf = typeof tfType;
export type NamedAttrMap = Record<string, unknown>;

export const WASM = 'wasm';

/** What tfjs passes a kernel function. */
export interface KernelArgs {
  inputs: Record<string, TensorInfo>;
  backend: BackendWasm;
  attrs: NamedAttrMap;
}
export type KernelFunc = (args: KernelArgs) => TensorInfo | TensorInfo[];

/**
 * One project kernel, declared the way tfjs-backend-wasm declares its own (a config per kernel,
 * registered by one loop: train/kernels/register.ts). `setup` builds the kernel function;
 * `fallback` is the kernel tfjs registered under the same name, which the project's kernel calls
 * for the cases it leaves to tfjs (`requiresFallback`: there must be one).
 */
export interface ProjectKernelConfig {
  kernelName: string;
  requiresFallback: boolean;
  setup: (tf: Tf, fallback: KernelFunc | undefined) => KernelFunc;
}

/** Runs the kernel `kernelName` registered for wasm on `inputs`; the caller owns the result. */
export function runWasmKernel(
  tf: Tf,
  backend: BackendWasm,
  kernelName: string,
  inputs: Record<string, TensorInfo>,
  attrs: NamedAttrMap = {},
): TensorInfo {
  const kernel = tf.getKernel(kernelName, WASM);
  if (kernel === undefined) throw new Error(`kernel ${kernelName} is not registered for wasm`);
  const result = kernel.kernelFunc({ inputs, backend, attrs } as never);
  if (Array.isArray(result)) {
    if (result.length !== 1) throw new Error(`kernel ${kernelName}: expected one output, found ${result.length}`);
    return result[0]!;
  }
  return result as TensorInfo;
}

/** Reshape without copying (wasm's Reshape shares the buffer and counts a reference). */
export function reshapeInfo(tf: Tf, backend: BackendWasm, x: TensorInfo, shape: number[]): TensorInfo {
  return runWasmKernel(tf, backend, 'Reshape', { x }, { shape });
}

export function disposeInfo(backend: BackendWasm, ...infos: TensorInfo[]): void {
  for (const info of infos) backend.disposeData(info.dataId);
}

export function heapView(backend: BackendWasm, info: TensorInfo): Float32Array {
  if (info.dtype !== 'float32') throw new Error(`expected a float32 tensor, found ${info.dtype}`);
  return backend.typedArrayFromHeap(info) as Float32Array;
}

export function sizeOf(shape: readonly number[]): number {
  let size = 1;
  for (const d of shape) size *= d;
  return size;
}

/** The conv geometry tfjs itself computes for these attributes (NHWC only). */
export function convInfoFor(
  tf: Tf,
  inShape: [number, number, number, number],
  filterShape: [number, number, number, number],
  attrs: NamedAttrMap,
  kernelName: string,
): tfType.backend_util.Conv2DInfo {
  const dataFormat = (attrs['dataFormat'] as string | undefined) ?? 'NHWC';
  if (dataFormat !== 'NHWC') throw new Error(`${kernelName}: only NHWC is supported on wasm, found ${dataFormat}`);
  const dilations = (attrs['dilations'] as number | [number, number] | undefined) ?? 1;
  return tf.backend_util.computeConv2DInfo(
    inShape,
    filterShape,
    attrs['strides'] as number | [number, number],
    dilations,
    attrs['pad'] as 'same' | 'valid' | number,
    attrs['dimRoundingMode'] as 'floor' | 'round' | 'ceil' | undefined,
    false,
    'channelsLast',
  );
}
