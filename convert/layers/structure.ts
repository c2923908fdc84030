/**
 * Layers that shape the graph rather than compute: InputLayer (the contract's NCHW graph input)
 * and the training-only layers (Dropout and its kin), which become nothing at inference.
 */
import { nchwShape, singleInput, unsupported, type LayerConverter } from '../layer-converter.ts';
import type { Dim } from '../onnx-graph.ts';

/** Name the graph input takes; set by the exporter (the contract's `image`). */
export const INPUT_NAME_KEY = '__onnxInputName';

export const convertInputLayer: LayerConverter = (layer, graph) => {
  const shape = layer.outputShapes[0] ?? [];
  if (shape.length !== 4) unsupported(layer, `only rank-4 (image) inputs [batch, height, width, channels] are supported, found rank ${shape.length}`);
  const channels = shape[3];
  if (channels === null || channels === undefined) unsupported(layer, 'the channel dimension of the input must be fixed');
  const name = String(layer.config[INPUT_NAME_KEY] ?? layer.name);
  const dims: Dim[] = nchwShape(shape).map((dim, axis) => dim ?? (['N', null, 'H', 'W'][axis] as Dim));
  return [graph.addInput(name, dims)];
};

/** Dropout, SpatialDropout2D, GaussianNoise, ...: identity at inference, so no node at all. */
export const convertPassThrough: LayerConverter = (layer) => [singleInput(layer)];
