/**
 * Activations: the `Activation` layer, the fused `activation` option of Conv2D and friends, and
 * the advanced-activation layers ReLU, LeakyReLU, ELU, Softmax, ThresholdedReLU.
 */
import { attr, type GraphBuilder } from '../onnx-graph.ts';
import {
  configValue,
  nchwAxis,
  singleInput,
  transposeArray,
  unsupported,
  type LayerConverter,
  type LayerToConvert,
} from '../layer-converter.ts';

type ActivationBuilder = (graph: GraphBuilder, input: string, name: string) => string;

function clip(graph: GraphBuilder, input: string, name: string, min: number, max: number | null): string {
  const minName = graph.addFloatInitializer(`${name}_min`, [], [min]);
  const inputs = [input, minName];
  if (max !== null) inputs.push(graph.addFloatInitializer(`${name}_max`, [], [max]));
  return graph.add('Clip', inputs, name);
}

/** tfjs activation identifiers (as serialized in getConfig) -> ONNX ops. */
const ACTIVATIONS: Record<string, ActivationBuilder> = {
  linear: (_graph, input) => input,
  relu: (graph, input, name) => graph.add('Relu', [input], name),
  relu6: (graph, input, name) => clip(graph, input, name, 0, 6),
  sigmoid: (graph, input, name) => graph.add('Sigmoid', [input], name),
  tanh: (graph, input, name) => graph.add('Tanh', [input], name),
  elu: (graph, input, name) => graph.add('Elu', [input], name, { alpha: attr.float(1) }),
  selu: (graph, input, name) => graph.add('Selu', [input], name),
  softplus: (graph, input, name) => graph.add('Softplus', [input], name),
  softsign: (graph, input, name) => graph.add('Softsign', [input], name),
  hardSigmoid: (graph, input, name) => graph.add('HardSigmoid', [input], name, { alpha: attr.float(0.2), beta: attr.float(0.5) }),
  softmax: (graph, input, name) => graph.add('Softmax', [input], name, { axis: attr.int(1) }),
  logSoftmax: (graph, input, name) => graph.add('LogSoftmax', [input], name, { axis: attr.int(1) }),
  swish: (graph, input, name) => graph.add('Mul', [input, graph.add('Sigmoid', [input], `${name}_sigmoid`)], name),
  // 0.5 x (1 + erf(x / sqrt 2)) with Erf (ONNX's Gelu op needs opset 20).
  gelu: (graph, input, name) => {
    const scaled = graph.add('Mul', [input, graph.addFloatInitializer(`${name}_rsqrt2`, [], [Math.SQRT1_2])], `${name}_scaled`);
    const onePlusErf = graph.add('Add', [graph.add('Erf', [scaled], `${name}_erf`), graph.addFloatInitializer(`${name}_one`, [], [1])], `${name}_1perf`);
    const half = graph.add('Mul', [input, graph.addFloatInitializer(`${name}_half`, [], [0.5])], `${name}_half_x`);
    return graph.add('Mul', [half, onePlusErf], name);
  },
  // 0.5 x (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3))).
  gelu_new: (graph, input, name) => {
    const cube = graph.add('Mul', [graph.add('Mul', [input, input], `${name}_sq`), input], `${name}_cube`);
    const inner = graph.add('Add', [input, graph.add('Mul', [cube, graph.addFloatInitializer(`${name}_c`, [], [0.044715])], `${name}_ccube`)], `${name}_inner`);
    const scaled = graph.add('Mul', [inner, graph.addFloatInitializer(`${name}_k`, [], [Math.sqrt(2 / Math.PI)])], `${name}_scaled`);
    const onePlusTanh = graph.add('Add', [graph.add('Tanh', [scaled], `${name}_tanh`), graph.addFloatInitializer(`${name}_one`, [], [1])], `${name}_1ptanh`);
    const half = graph.add('Mul', [input, graph.addFloatInitializer(`${name}_half`, [], [0.5])], `${name}_half_x`);
    return graph.add('Mul', [half, onePlusTanh], name);
  },
  mish: (graph, input, name) => {
    const softplus = graph.add('Softplus', [input], `${name}_softplus`);
    return graph.add('Mul', [input, graph.add('Tanh', [softplus], `${name}_tanh`)], name);
  },
};

export const SUPPORTED_ACTIVATIONS = Object.keys(ACTIVATIONS);

/** Applies a tfjs activation by identifier; `linear` returns the input unchanged. */
export function applyActivation(layer: LayerToConvert, graph: GraphBuilder, input: string, activation: string, name: string): string {
  const builder = ACTIVATIONS[activation];
  if (!builder) unsupported(layer, `activation '${activation}' (supported: ${SUPPORTED_ACTIVATIONS.join(', ')})`);
  return builder(graph, input, name);
}

/** The activation name a layer's config holds (serialized tfjs form), 'linear' when absent. */
export function configActivation(layer: LayerToConvert): string {
  const value = configValue<unknown>(layer, 'activation', 'linear');
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object' && 'className' in value) return String((value as { className: unknown }).className);
  return unsupported(layer, `activation ${JSON.stringify(value)}`);
}

export const convertActivation: LayerConverter = (layer, graph) => {
  if (layer.inputShapes[0]?.length !== 4 && configActivation(layer).toLowerCase().includes('softmax')) {
    unsupported(layer, 'softmax on tensors other than rank 4');
  }
  return [applyActivation(layer, graph, singleInput(layer), configActivation(layer), layer.name)];
};

export const convertReLU: LayerConverter = (layer, graph) => {
  const maxValue = configValue<number | null>(layer, 'maxValue', null);
  const input = singleInput(layer);
  return [maxValue === null ? graph.add('Relu', [input], layer.name) : clip(graph, input, layer.name, 0, maxValue)];
};

export const convertLeakyReLU: LayerConverter = (layer, graph) => [
  graph.add('LeakyRelu', [singleInput(layer)], layer.name, { alpha: attr.float(configValue(layer, 'alpha', 0.3)) }),
];

export const convertELU: LayerConverter = (layer, graph) => [
  graph.add('Elu', [singleInput(layer)], layer.name, { alpha: attr.float(configValue(layer, 'alpha', 1)) }),
];

export const convertThresholdedReLU: LayerConverter = (layer, graph) => [
  graph.add('ThresholdedRelu', [singleInput(layer)], layer.name, { alpha: attr.float(configValue(layer, 'theta', 1)) }),
];

export const convertSoftmax: LayerConverter = (layer, graph) => {
  const axis = configValue<number | number[]>(layer, 'axis', -1);
  const single = Array.isArray(axis) ? (axis.length === 1 ? axis[0]! : unsupported(layer, `softmax over several axes ${JSON.stringify(axis)}`)) : axis;
  return [graph.add('Softmax', [singleInput(layer)], layer.name, { axis: attr.int(nchwAxis(layer, single, layer.inputShapes[0]?.length ?? 4)) })];
};

/** PReLU: the alpha weight [H, W, C] (1 on shared axes) moved to [C, H, W], which broadcasts over NCHW. */
export const convertPReLU: LayerConverter = (layer, graph) => {
  const alpha = layer.weights.get('alpha');
  if (!alpha) return unsupported(layer, 'missing weight alpha');
  if (alpha.shape.length !== 3) unsupported(layer, `alpha of rank ${alpha.shape.length} (expected [height, width, channels])`);
  const moved = transposeArray(alpha.data, alpha.shape, [2, 0, 1]);
  const slope = graph.addFloatInitializer(`${layer.name}_alpha`, moved.shape, moved.data);
  return [graph.add('PRelu', [singleInput(layer), slope], layer.name)];
};

/** Rescaling: x * scale + offset. */
export const convertRescaling: LayerConverter = (layer, graph) => {
  const scale = graph.addFloatInitializer(`${layer.name}_scale`, [], [configValue(layer, 'scale', 1)]);
  const offset = graph.addFloatInitializer(`${layer.name}_offset`, [], [configValue(layer, 'offset', 0)]);
  const scaled = graph.add('Mul', [singleInput(layer), scale], `${layer.name}_scaled`);
  return [graph.add('Add', [scaled, offset], layer.name)];
};
