/** MaxPooling2D and AveragePooling2D (TF's 'same' padding; averages exclude the padding, as TF). */
import { attr } from '../onnx-graph.ts';
import { pair, requireChannelsLast, requireRank4, singleInput, type LayerConverter, type LayerToConvert } from '../layer-converter.ts';
import { windowPadding } from './conv.ts';

function poolWindow(layer: LayerToConvert): { kernel: [number, number]; strides: [number, number] } {
  requireChannelsLast(layer);
  requireRank4(layer);
  const kernel = pair(layer, 'poolSize', 2);
  const strides = pair(layer, 'strides', kernel);
  return { kernel, strides };
}

export const convertMaxPooling2D: LayerConverter = (layer, graph) => {
  const { kernel, strides } = poolWindow(layer);
  return [
    graph.add('MaxPool', [singleInput(layer)], layer.name, {
      kernel_shape: attr.ints(kernel),
      strides: attr.ints(strides),
      ...windowPadding(layer, kernel, strides),
    }),
  ];
};

export const convertAveragePooling2D: LayerConverter = (layer, graph) => {
  const { kernel, strides } = poolWindow(layer);
  return [
    graph.add('AveragePool', [singleInput(layer)], layer.name, {
      kernel_shape: attr.ints(kernel),
      strides: attr.ints(strides),
      count_include_pad: attr.int(0),
      ...windowPadding(layer, kernel, strides),
    }),
  ];
};
