/**
 * The one signature every Keras-layer converter has (keras2onnx style): it receives the layer
 * (class, name, config, weights, the ONNX names and tfjs shapes of its inputs) and the graph
 * builder, adds nodes in NCHW layout and returns the ONNX names of the layer's outputs.
 *
 * The whole graph is NCHW: the exporter converts layouts once, at the weights and at the axis
 * arguments (`nchwAxis`), never with Transpose nodes around layers.
 */
import type { Dim, GraphBuilder } from './onnx-graph.ts';

export interface LayerWeight {
  shape: number[];
  data: Float32Array;
}

export interface LayerToConvert {
  className: string;
  name: string;
  config: Record<string, unknown>;
  /** Weights by short name: kernel, bias, gamma, beta, moving_mean, moving_variance, alpha. */
  weights: Map<string, LayerWeight>;
  /** ONNX tensor names of the inputs, in order. */
  inputs: string[];
  /** tfjs (NHWC) shapes of the inputs, null for dynamic dimensions. */
  inputShapes: (number | null)[][];
  /** tfjs (NHWC) shapes of the outputs. */
  outputShapes: (number | null)[][];
}

export type LayerConverter = (layer: LayerToConvert, graph: GraphBuilder) => string[];

/**
 * Thrown by a converter for a layer (or a layer option) it cannot express. The exporter collects
 * these for every layer and reports them all at once.
 */
export class UnsupportedLayerError extends Error {
  constructor(
    readonly layerName: string,
    readonly className: string,
    readonly reason: string,
  ) {
    super(`${layerName} (${className}): ${reason}`);
    this.name = 'UnsupportedLayerError';
  }
}

export function unsupported(layer: LayerToConvert, reason: string): never {
  throw new UnsupportedLayerError(layer.name, layer.className, reason);
}

/** Maps a Keras channels-last axis of a rank-4 tensor to the NCHW axis. */
export function nchwAxis(layer: LayerToConvert, axis: number, rank = 4): number {
  if (rank !== 4) unsupported(layer, `only rank-4 (image) tensors are supported, found rank ${rank}`);
  const positive = axis < 0 ? axis + rank : axis;
  const map = [0, 2, 3, 1];
  const mapped = map[positive];
  if (mapped === undefined) unsupported(layer, `axis ${axis} is out of range for rank ${rank}`);
  return mapped;
}

/** NHWC tfjs shape -> NCHW dims for value infos (null stays unknown). */
export function nchwShape(shape: (number | null)[]): Dim[] {
  if (shape.length !== 4) return shape;
  return [shape[0] ?? null, shape[3] ?? null, shape[1] ?? null, shape[2] ?? null];
}

export function configValue<T>(layer: LayerToConvert, key: string, fallback: T): T {
  const value = layer.config[key];
  return value === undefined || value === null ? fallback : (value as T);
}

/** A Keras pair option (kernelSize: 3 or [3, 3]) as a pair of numbers. */
export function pair(layer: LayerToConvert, key: string, fallback: number | [number, number]): [number, number] {
  const value = configValue<number | number[]>(layer, key, fallback);
  if (typeof value === 'number') return [value, value];
  if (Array.isArray(value) && value.length === 1 && typeof value[0] === 'number') return [value[0], value[0]];
  if (Array.isArray(value) && value.length === 2 && value.every((v) => typeof v === 'number')) return [value[0]!, value[1]!];
  return unsupported(layer, `${key} must be a number or a pair of numbers, found ${JSON.stringify(value)}`);
}

export function requireChannelsLast(layer: LayerToConvert): void {
  const format = configValue(layer, 'dataFormat', 'channelsLast');
  if (format !== 'channelsLast') unsupported(layer, `dataFormat ${String(format)} (only channelsLast)`);
}

export function requireRank4(layer: LayerToConvert): void {
  for (const shape of layer.inputShapes) {
    if (shape.length !== 4) unsupported(layer, `only rank-4 (image) inputs are supported, found rank ${shape.length}`);
  }
}

export function weight(layer: LayerToConvert, name: string): LayerWeight {
  const found = layer.weights.get(name);
  if (!found) unsupported(layer, `missing weight ${name}`);
  return found;
}

export function singleInput(layer: LayerToConvert): string {
  const [input] = layer.inputs;
  if (layer.inputs.length !== 1 || input === undefined) unsupported(layer, `expected one input, found ${layer.inputs.length}`);
  return input;
}

export { transposeArray } from '../core/transpose.ts';
