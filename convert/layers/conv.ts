/**
 * Convolutions: Conv2D and Conv2DTranspose (kernels moved from tfjs' channels-last layout to
 * ONNX's OIHW / IOHW), with TensorFlow's 'same' padding reproduced exactly.
 */
import { attr, type AttributeValue } from '../onnx-graph.ts';
import {
  configValue,
  pair,
  requireChannelsLast,
  requireRank4,
  singleInput,
  transposeArray,
  unsupported,
  weight,
  type LayerConverter,
  type LayerToConvert,
} from '../layer-converter.ts';
import { applyActivation, configActivation } from './activation.ts';

/**
 * Padding attributes for a convolution or pooling window, as TensorFlow computes them.
 *
 * TF 'same': output = ceil(in / stride), total padding = max((out - 1) * stride + extent - in, 0)
 * with extent = (kernel - 1) * dilation + 1, the smaller half at the start. That is exactly
 * ONNX's auto_pad SAME_UPPER. With stride 1 the total is extent - 1 whatever the input size, so
 * explicit pads are written (more portable: OpenCV DNN and TensorRT prefer them); with larger
 * strides the padding depends on the input size, so SAME_UPPER keeps the graph size-agnostic.
 */
export function windowPadding(
  layer: LayerToConvert,
  kernel: [number, number],
  strides: [number, number],
  dilations: [number, number] = [1, 1],
): Record<string, AttributeValue> {
  const padding = configValue(layer, 'padding', 'valid');
  if (padding === 'valid') return { pads: attr.ints([0, 0, 0, 0]) };
  if (padding !== 'same') unsupported(layer, `padding '${String(padding)}' (supported: same, valid)`);
  if (strides[0] === 1 && strides[1] === 1) {
    const totals = [0, 1].map((axis) => (kernel[axis]! - 1) * dilations[axis]!);
    const begins = totals.map((total) => Math.floor(total / 2));
    const ends = totals.map((total, axis) => total - begins[axis]!);
    return { pads: attr.ints([...begins, ...ends]) };
  }
  return { auto_pad: attr.string('SAME_UPPER') };
}

export const convertConv2D: LayerConverter = (layer, graph) => {
  requireChannelsLast(layer);
  requireRank4(layer);
  const kernel = weight(layer, 'kernel'); // [kh, kw, in, out]
  const [kh, kw, , filters] = kernel.shape as [number, number, number, number];
  const strides = pair(layer, 'strides', 1);
  const dilations = pair(layer, 'dilationRate', 1);
  if ((strides[0] > 1 || strides[1] > 1) && (dilations[0] > 1 || dilations[1] > 1)) {
    unsupported(layer, 'strides > 1 together with dilationRate > 1 (TensorFlow forbids it too)');
  }
  const oihw = transposeArray(kernel.data, kernel.shape, [3, 2, 0, 1]);
  const inputs = [singleInput(layer), graph.addFloatInitializer(`${layer.name}_kernel`, oihw.shape, oihw.data)];
  if (configValue(layer, 'useBias', true)) {
    const bias = weight(layer, 'bias');
    inputs.push(graph.addFloatInitializer(`${layer.name}_bias`, [filters], bias.data));
  }
  const activation = configActivation(layer);
  const output = graph.add('Conv', inputs, activation === 'linear' ? layer.name : `${layer.name}_conv`, {
    kernel_shape: attr.ints([kh, kw]),
    strides: attr.ints(strides),
    dilations: attr.ints(dilations),
    group: attr.int(1),
    ...windowPadding(layer, [kh, kw], strides, dilations),
  });
  return [applyActivation(layer, graph, output, activation, layer.name)];
};

/**
 * Conv2DTranspose. tfjs computes it as the gradient of a 'same'/'valid' Conv2D whose input is
 * in * stride (same) or in * stride + max(kernel - stride, 0) (valid) wide. In ONNX terms: the
 * full transposed output (in - 1) * stride + kernel is cropped by the forward conv's padding
 * (total max(kernel - stride, 0), smaller half first) for 'same', and extended by
 * output_padding = max(stride - kernel, 0) zeros at the end when the kernel is smaller than the
 * stride. Both are independent of the input size, so explicit pads are exact.
 */
export const convertConv2DTranspose: LayerConverter = (layer, graph) => {
  requireChannelsLast(layer);
  requireRank4(layer);
  const kernel = weight(layer, 'kernel'); // [kh, kw, out, in]
  const [kh, kw, filters] = kernel.shape as [number, number, number, number];
  const strides = pair(layer, 'strides', 1);
  const dilations = pair(layer, 'dilationRate', 1);
  if (dilations[0] !== 1 || dilations[1] !== 1) unsupported(layer, 'dilationRate other than 1 in Conv2DTranspose');
  const padding = configValue<string>(layer, 'padding', 'valid');
  if (padding !== 'same' && padding !== 'valid') unsupported(layer, `padding '${String(padding)}' (supported: same, valid)`);
  const kernelSize: [number, number] = [kh, kw];
  const totals = kernelSize.map((k, axis) => (padding === 'same' ? Math.max(k - strides[axis]!, 0) : 0));
  const begins = totals.map((total) => Math.floor(total / 2));
  const ends = totals.map((total, axis) => total - begins[axis]!);
  const outputPadding = kernelSize.map((k, axis) => Math.max(strides[axis]! - k, 0));

  const iohw = transposeArray(kernel.data, kernel.shape, [3, 2, 0, 1]);
  const inputs = [singleInput(layer), graph.addFloatInitializer(`${layer.name}_kernel`, iohw.shape, iohw.data)];
  if (configValue(layer, 'useBias', true)) {
    inputs.push(graph.addFloatInitializer(`${layer.name}_bias`, [filters], weight(layer, 'bias').data));
  }
  const activation = configActivation(layer);
  const attributes: Record<string, AttributeValue> = {
    kernel_shape: attr.ints(kernelSize),
    strides: attr.ints(strides),
    dilations: attr.ints([1, 1]),
    group: attr.int(1),
    pads: attr.ints([...begins, ...ends]),
  };
  if (outputPadding.some((value) => value > 0)) attributes['output_padding'] = attr.ints(outputPadding);
  const output = graph.add('ConvTranspose', inputs, activation === 'linear' ? layer.name : `${layer.name}_convtranspose`, attributes);
  return [applyActivation(layer, graph, output, activation, layer.name)];
};

/** Dense on a rank-4 tensor acts on the channel axis: a 1x1 convolution. */
export const convertDense: LayerConverter = (layer, graph) => {
  requireRank4(layer);
  const kernel = weight(layer, 'kernel'); // [in, out]
  const [inUnits, units] = kernel.shape as [number, number];
  const oihw = transposeArray(kernel.data, kernel.shape, [1, 0]);
  const inputs = [singleInput(layer), graph.addFloatInitializer(`${layer.name}_kernel`, [units, inUnits, 1, 1], oihw.data)];
  if (configValue(layer, 'useBias', true)) inputs.push(graph.addFloatInitializer(`${layer.name}_bias`, [units], weight(layer, 'bias').data));
  const activation = configActivation(layer);
  const output = graph.add('Conv', inputs, activation === 'linear' ? layer.name : `${layer.name}_dense`, {
    kernel_shape: attr.ints([1, 1]),
  });
  return [applyActivation(layer, graph, output, activation, layer.name)];
};

/** Depthwise kernel [kh, kw, in, multiplier] -> grouped-conv weight [in * multiplier, 1, kh, kw] (TF's channel order c * m + k). */
function depthwiseWeight(kernel: { data: Float32Array; shape: number[] }): { data: Float32Array; shape: number[] } {
  const [kh, kw, inChannels, multiplier] = kernel.shape as [number, number, number, number];
  const moved = transposeArray(kernel.data, kernel.shape, [2, 3, 0, 1]);
  return { data: moved.data, shape: [inChannels * multiplier, 1, kh, kw] };
}

function depthwiseConv(layer: LayerToConvert, graph: Parameters<LayerConverter>[1], withBias: boolean, name: string): string {
  requireChannelsLast(layer);
  requireRank4(layer);
  const kernel = weight(layer, 'depthwise_kernel');
  const [kh, kw, inChannels, multiplier] = kernel.shape as [number, number, number, number];
  const strides = pair(layer, 'strides', 1);
  const dilations = pair(layer, 'dilationRate', 1);
  const grouped = depthwiseWeight(kernel);
  const inputs = [singleInput(layer), graph.addFloatInitializer(`${layer.name}_depthwise_kernel`, grouped.shape, grouped.data)];
  if (withBias && configValue(layer, 'useBias', true)) {
    inputs.push(graph.addFloatInitializer(`${layer.name}_bias`, [inChannels * multiplier], weight(layer, 'bias').data));
  }
  return graph.add('Conv', inputs, name, {
    kernel_shape: attr.ints([kh, kw]),
    strides: attr.ints(strides),
    dilations: attr.ints(dilations),
    group: attr.int(inChannels),
    ...windowPadding(layer, [kh, kw], strides, dilations),
  });
}

export const convertDepthwiseConv2D: LayerConverter = (layer, graph) => {
  const activation = configActivation(layer);
  const output = depthwiseConv(layer, graph, true, activation === 'linear' ? layer.name : `${layer.name}_depthwise`);
  return [applyActivation(layer, graph, output, activation, layer.name)];
};

/** SeparableConv2D: the depthwise conv (strides, dilation, padding), then a 1x1 pointwise conv with the bias. */
export const convertSeparableConv2D: LayerConverter = (layer, graph) => {
  const depthwise = depthwiseConv(layer, graph, false, `${layer.name}_depthwise`);
  const pointwise = weight(layer, 'pointwise_kernel'); // [1, 1, in * multiplier, filters]
  const [, , channels, filters] = pointwise.shape as [number, number, number, number];
  const oihw = transposeArray(pointwise.data, pointwise.shape, [3, 2, 0, 1]);
  const inputs = [depthwise, graph.addFloatInitializer(`${layer.name}_pointwise_kernel`, [filters, channels, 1, 1], oihw.data)];
  if (configValue(layer, 'useBias', true)) inputs.push(graph.addFloatInitializer(`${layer.name}_bias`, [filters], weight(layer, 'bias').data));
  const activation = configActivation(layer);
  const output = graph.add('Conv', inputs, activation === 'linear' ? layer.name : `${layer.name}_pointwise`, { kernel_shape: attr.ints([1, 1]) });
  return [applyActivation(layer, graph, output, activation, layer.name)];
};
