/**
 * Which of the build's model files the page runs (pure): the float model, or its int8 variant
 * (`emseg quantize`, shipped by web-demo/build.ts when the build has one).
 *
 *   provider  ?precision   build has int8   runs    switch offered
 *   wasm      auto         yes              int8    "Use the float model"
 *   wasm      fp32         yes              float   "Use the int8 model"
 *   webgpu    auto         yes              float   none (int8 QDQ on WebGPU is not worth it)
 *   webgpu    int8         yes              int8    "Use the float model" (asked for by hand)
 *   any       any          no               float   none (`?precision=int8` gets a note)
 *
 * Why int8 on WASM: onnxruntime-web's int8 WASM kernels ran the default model 1.5x faster than
 * its float ones (web-demo/README.md, "Which model runs"). WebGPU runs the float model: a GPU
 * is fast on float and onnxruntime-web's WebGPU provider is not built around QDQ graphs.
 */
import type { ShippedModel } from '../build.ts';
import type { Precision, PrecisionRequest, ProviderName } from './page-options.ts';

export interface ModelEntry extends ShippedModel {
  int8: ShippedModel | null;
}

export interface ModelChoice {
  model: ShippedModel;
  precision: Precision;
  /** The other precision the page offers to reload with, if any. */
  alternative: Precision | undefined;
  /** Why the model asked for does not run (one line), if so. */
  note: string | undefined;
}

/** What the page shows for a precision. */
export const PRECISION_NAMES: Readonly<Record<Precision, string>> = { int8: 'int8', fp32: 'float' };

export function chooseModel(entry: ModelEntry, provider: ProviderName, request: PrecisionRequest): ModelChoice {
  const { int8, ...float } = entry;
  if (!int8) {
    const note = request === 'int8' ? '?precision=int8: this build has no int8 model; running the float model' : undefined;
    return { model: float, precision: 'fp32', alternative: undefined, note };
  }
  const precision: Precision = request === 'auto' ? (provider === 'wasm' ? 'int8' : 'fp32') : request;
  const alternative: Precision | undefined = provider === 'wasm' || precision === 'int8' ? (precision === 'int8' ? 'fp32' : 'int8') : undefined;
  return { model: precision === 'int8' ? int8 : float, precision, alternative, note: undefined };
}

/** For people: `isbi2012-unet.int8@0.4.0, int8 (model/isbi2012-unet.int8.onnx, 1.9 MiB)`. */
export function describeModel(choice: Pick<ModelChoice, 'model' | 'precision'>, size: (bytes: number) => string): string {
  const { model, precision } = choice;
  return `${model.card.name}@${model.card.version}, ${PRECISION_NAMES[precision]} (${model.file}, ${size(model.bytes)})`;
}
