/**
 * The graph side of int8 quantization in QDQ form, on a GraphBuilder read from an exported file:
 *
 * 1. `foldBatchNorms`: Conv -> BatchNormalization becomes one Conv (weights and bias rescaled), so
 *    that the normalization is inside the int8 convolution instead of a float op after it.
 * 2. `planQuantization`: which Convs run in int8 (all but the ones named float; the caller adds the
 *    head) and which activation tensors get a QuantizeLinear -> DequantizeLinear pair: the input
 *    of every int8 Conv, its output (after its ReLU when a ReLU is the only consumer, so that
 *    onnxruntime drops the ReLU into the quantization, zero point = the type's minimum), and the
 *    output of a MaxPool whose input is quantized (same scale and zero point as its input, so that
 *    onnxruntime runs the pooling on the 8-bit values).
 * 3. `applyQuantization`: writes the pairs (every consumer of a tensor then reads its dequantized
 *    copy), and per int8 Conv the int8 weights (per channel, symmetric) and the int32 bias, each
 *    behind a DequantizeLinear with axis 0. onnxruntime's CPU provider fuses
 *    DQ -> Conv -> (ReLU) -> Q into QLinearConv (int8 kernels with AVX-512 VNNI where the CPU has
 *    them). The first Conv, the head and the Sigmoid stay float: the output is float32 as the contract says.
 *
 * Before planning, `upsamplingAsDepthToSpace` turns the U-Net's ConvTranspose (kernel = stride)
 * into a 1x1 Conv + DepthToSpace, which onnxruntime runs in int8 (it has no int8 ConvTranspose).
 */
import { EmsegError } from '../../core/errors.ts';
import { attr, type GraphBuilder, type GraphInitializer, type GraphNode } from '../onnx-graph.ts';
import {
  activationQuantization,
  quantizeBias,
  quantizeWeightsPerChannel,
  type ActivationQuantization,
  type ActivationType,
} from './quantize-math.ts';

export interface QuantizationPlan {
  /** Conv node names computed in int8. */
  int8Convs: string[];
  /** Conv node names kept in float. */
  floatConvs: string[];
  /** Activation tensor -> the tensor whose observed range gives its scale (itself, or a MaxPool's input). */
  tensors: Map<string, string>;
}

export interface TensorRange {
  min: number;
  max: number;
}

function initializerMap(graph: GraphBuilder): Map<string, GraphInitializer> {
  return new Map(graph.initializers.map((init) => [init.name, init]));
}

function consumersOf(graph: GraphBuilder, tensor: string): GraphNode[] {
  return graph.nodes.filter((node) => node.inputs.includes(tensor));
}

function floatInitializer(inits: Map<string, GraphInitializer>, name: string | undefined, where: string): GraphInitializer & { data: Float32Array } {
  const init = name ? inits.get(name) : undefined;
  if (!init || !(init.data instanceof Float32Array)) throw new EmsegError('E_MODEL', `${where}: expected a float32 initializer, found ${name ? `tensor ${name}` : 'nothing'}`);
  return init as GraphInitializer & { data: Float32Array };
}

const isGraphOutput = (graph: GraphBuilder, tensor: string) => graph.outputs.some((output) => output.name === tensor);

/** Folds every BatchNormalization that is the only consumer of a Conv's output into that Conv; returns how many. */
export function foldBatchNorms(graph: GraphBuilder): number {
  const inits = initializerMap(graph);
  let folded = 0;
  for (const conv of graph.nodes.filter((node) => node.opType === 'Conv')) {
    const output = conv.outputs[0]!;
    const users = consumersOf(graph, output);
    const norm = users[0];
    if (users.length !== 1 || norm?.opType !== 'BatchNormalization' || isGraphOutput(graph, output)) continue;
    const where = `BatchNormalization ${norm.name}`;
    const [gamma, beta, mean, variance] = norm.inputs.slice(1, 5).map((name) => floatInitializer(inits, name, where).data);
    const epsilon = norm.attributes.epsilon?.kind === 'float' ? norm.attributes.epsilon.value : 1e-5;
    const weight = floatInitializer(inits, conv.inputs[1], `Conv ${conv.name}`);
    const channels = weight.dims[0]!;
    const perChannel = weight.data.length / channels;
    const bias = conv.inputs[2] ? floatInitializer(inits, conv.inputs[2], `Conv ${conv.name}`).data : new Float32Array(channels);
    const newWeight = new Float32Array(weight.data.length);
    const newBias = new Float32Array(channels);
    for (let c = 0; c < channels; c++) {
      const factor = gamma![c]! / Math.sqrt(variance![c]! + epsilon);
      for (let i = c * perChannel; i < (c + 1) * perChannel; i++) newWeight[i] = weight.data[i]! * factor;
      newBias[c] = (bias[c]! - mean![c]!) * factor + beta![c]!;
    }
    conv.inputs[1] = graph.addFloatInitializer(`${conv.name}_folded_kernel`, weight.dims, newWeight);
    conv.inputs[2] = graph.addFloatInitializer(`${conv.name}_folded_bias`, [channels], newBias);
    conv.outputs[0] = norm.outputs[0]!;
    graph.nodes.splice(graph.nodes.indexOf(norm), 1);
    graph.valueInfos.delete(output);
    folded++;
  }
  graph.pruneUnused();
  return folded;
}

export interface PlanOptions {
  /** Conv / ConvTranspose node names kept in float (each must exist). */
  floatConvs: readonly string[];
  /** Whether ConvTranspose (the up-sampling) runs in int8 too, so the Concat after it sees 8-bit inputs only. Default true. */
  convTranspose?: boolean;
}

/** Weight axis of the output channels: Conv weights are [out, in, kh, kw], ConvTranspose [in, out, kh, kw]. */
export const outputChannelAxis = (node: GraphNode): number => (node.opType === 'ConvTranspose' ? 1 : 0);

/**
 * Rewrites every ConvTranspose whose kernel equals its stride (k x k, stride k, no padding,
 * dilation 1, group 1: the U-Net's up-sampling) as a 1x1 Conv to k*k*out channels followed by
 * DepthToSpace (blocksize k, DCR): the same sums in float, since such a ConvTranspose writes each
 * output pixel from exactly one input pixel (out[co, y*k+i, x*k+j] = sum_ci in[ci, y, x] *
 * W[ci, co, i, j] + b[co]). onnxruntime has int8 kernels for both, none for ConvTranspose.
 * Returns how many were rewritten.
 */
export function upsamplingAsDepthToSpace(graph: GraphBuilder): number {
  const inits = initializerMap(graph);
  let rewritten = 0;
  const ints = (node: GraphNode, name: string) => (node.attributes[name]?.kind === 'ints' ? (node.attributes[name].value as number[]) : undefined);
  for (const node of [...graph.nodes]) {
    if (node.opType !== 'ConvTranspose') continue;
    const weight = inits.get(node.inputs[1] ?? '');
    if (!weight || !(weight.data instanceof Float32Array) || weight.dims.length !== 4) continue;
    const [cin, cout, kh, kw] = weight.dims as [number, number, number, number];
    const strides = ints(node, 'strides') ?? [1, 1];
    const plain = (name: string, value: number) => (ints(node, name) ?? []).every((v) => v === value);
    const group = node.attributes.group?.kind === 'int' ? node.attributes.group.value : 1;
    if (kh !== kw || strides[0] !== kh || strides[1] !== kw || kh < 2 || group !== 1) continue;
    if (!plain('pads', 0) || !plain('dilations', 1) || !plain('output_padding', 0) || node.attributes.output_shape || node.attributes.auto_pad) continue;
    const k = kh;
    const channels = k * k * cout;
    const kernel = new Float32Array(channels * cin);
    for (let ci = 0; ci < cin; ci++)
      for (let co = 0; co < cout; co++)
        for (let i = 0; i < k; i++)
          for (let j = 0; j < k; j++) kernel[((i * k + j) * cout + co) * cin + ci] = weight.data[((ci * cout + co) * k + i) * k + j]!;
    const bias = node.inputs[2] ? inits.get(node.inputs[2]) : undefined;
    const biasValues = new Float32Array(channels);
    if (bias && bias.data instanceof Float32Array) for (let c = 0; c < channels; c++) biasValues[c] = bias.data[c % cout]!;
    const convInputs = [
      node.inputs[0]!,
      graph.addFloatInitializer(`${node.name}_as_conv_kernel`, [channels, cin, 1, 1], kernel),
      graph.addFloatInitializer(`${node.name}_as_conv_bias`, [channels], biasValues),
    ];
    const start = graph.nodes.length;
    const convOut = graph.add('Conv', convInputs, `${node.name}_as_conv`, {
      kernel_shape: attr.ints([1, 1]),
      strides: attr.ints([1, 1]),
      pads: attr.ints([0, 0, 0, 0]),
    });
    const spread = graph.nodes.splice(start, graph.nodes.length - start);
    const output = node.outputs[0]!;
    const reorder: GraphNode = { opType: 'DepthToSpace', name: `${node.name}_depth_to_space`, inputs: [convOut], outputs: [output], attributes: { blocksize: attr.int(k), mode: attr.string('DCR') } };
    graph.nodes.splice(graph.nodes.indexOf(node), 1, ...spread, reorder);
    rewritten++;
  }
  graph.pruneUnused();
  return rewritten;
}

/** Which convolutions and tensors to quantize. */
export function planQuantization(graph: GraphBuilder, options: PlanOptions): QuantizationPlan {
  const { floatConvs } = options;
  const kinds = options.convTranspose === false ? ['Conv'] : ['Conv', 'ConvTranspose'];
  const convs = graph.nodes.filter((node) => kinds.includes(node.opType));
  const unknown = floatConvs.filter((name) => !convs.some((conv) => conv.name === name));
  if (unknown.length > 0) {
    throw new EmsegError('E_BAD_ARGUMENT', `--float-convs: no convolution named ${unknown.join(', ')} (the model's: ${convs.map((conv) => conv.name).join(', ')})`);
  }
  const int8 = convs.filter((conv) => !floatConvs.includes(conv.name));
  if (int8.length === 0) throw new EmsegError('E_BAD_ARGUMENT', '--float-convs: every convolution would stay float; nothing to quantize');
  const inits = initializerMap(graph);
  const tensors = new Map<string, string>();
  for (const conv of int8) {
    const weight = floatInitializer(inits, conv.inputs[1], `${conv.opType} ${conv.name}`);
    if (weight.dims.length !== 4) throw new EmsegError('E_MODEL', `${conv.opType} ${conv.name}: weights of rank ${weight.dims.length} (expected 4)`);
    tensors.set(conv.inputs[0]!, conv.inputs[0]!);
    const output = conv.outputs[0]!;
    const users = consumersOf(graph, output);
    const relu = users.length === 1 && users[0]!.opType === 'Relu' && !isGraphOutput(graph, output) ? users[0]! : undefined;
    const quantized = relu ? relu.outputs[0]! : output;
    tensors.set(quantized, quantized);
  }
  for (const node of graph.nodes) {
    // Ops that only move or pick values keep their input's scale, so onnxruntime runs them on 8-bit values.
    const source = node.opType === 'MaxPool' || node.opType === 'DepthToSpace' ? tensors.get(node.inputs[0]!) : undefined;
    if (source !== undefined) tensors.set(node.outputs[0]!, source);
  }
  for (const output of graph.outputs) tensors.delete(output.name);
  return { int8Convs: int8.map((conv) => conv.name), floatConvs: [...floatConvs], tensors };
}

/** Tensors whose ranges calibration must observe (each distinct range source once). */
export function calibrationTensors(plan: QuantizationPlan): string[] {
  return [...new Set(plan.tensors.values())];
}

function addQuantization(graph: GraphBuilder, hint: string, q: ActivationQuantization): { scale: string; zeroPoint: string } {
  const scale = graph.addFloatInitializer(`${hint}_scale`, [], [q.scale]);
  const zeroPoint = graph.addTypedInitializer(
    `${hint}_zero_point`,
    [],
    q.type === 'uint8' ? Uint8Array.of(q.zeroPoint) : Int8Array.of(q.zeroPoint),
  );
  return { scale, zeroPoint };
}

/**
 * Rewrites the graph as the plan says, with activation scales from `ranges` (observed by
 * calibration). Returns each quantized tensor's scale and zero point (for the card and tests).
 */
export function applyQuantization(
  graph: GraphBuilder,
  plan: QuantizationPlan,
  ranges: ReadonlyMap<string, TensorRange>,
  type: ActivationType,
): Map<string, ActivationQuantization> {
  const params = new Map<string, ActivationQuantization>();
  for (const [tensor, source] of plan.tensors) {
    const range = ranges.get(source);
    if (!range) throw new Error(`no calibration range for tensor ${source}`);
    params.set(tensor, activationQuantization(range.min, range.max, type));
  }
  const inits = initializerMap(graph);
  const original = [...graph.nodes];
  graph.nodes.length = 0;
  const before = new Map<GraphNode, GraphNode[]>();
  const after = new Map<GraphNode | 'start', GraphNode[]>();
  const take = (from: number) => graph.nodes.splice(from, graph.nodes.length - from);

  // Activation pairs: after the producer (graph inputs: at the start); consumers read the copy.
  const dequantized = new Map<string, string>();
  for (const [tensor, q] of params) {
    const producer = original.find((node) => node.outputs.includes(tensor));
    const start = graph.nodes.length;
    const { scale, zeroPoint } = addQuantization(graph, tensor, q);
    const [quantizedName] = graph.addNode('QuantizeLinear', [tensor, scale, zeroPoint], { name: `${tensor}_quantize` });
    const [copy] = graph.addNode('DequantizeLinear', [quantizedName!, scale, zeroPoint], { name: `${tensor}_dequantize` });
    dequantized.set(tensor, copy!);
    const key = producer ?? 'start';
    after.set(key, [...(after.get(key) ?? []), ...take(start)]);
  }
  for (const node of original) node.inputs = node.inputs.map((name) => dequantized.get(name) ?? name);

  // int8 Convs: weights and bias behind DequantizeLinear (axis 0), just before the Conv.
  for (const conv of original.filter((node) => plan.int8Convs.includes(node.name))) {
    const inputTensor = [...dequantized].find(([, copy]) => copy === conv.inputs[0])?.[0];
    const inputQ = inputTensor !== undefined ? params.get(inputTensor) : undefined;
    if (!inputQ) throw new Error(`${conv.opType} ${conv.name}: its input is not quantized`);
    const weight = floatInitializer(inits, conv.inputs[1], `${conv.opType} ${conv.name}`);
    const axis = outputChannelAxis(conv);
    const channels = weight.dims[axis]!;
    const { values, scales } = quantizeWeightsPerChannel(weight.data, weight.dims, axis);
    const start = graph.nodes.length;
    const weightInputs = [
      graph.addTypedInitializer(`${conv.name}_kernel_int8`, weight.dims, values),
      graph.addFloatInitializer(`${conv.name}_kernel_scale`, [channels], scales),
      graph.addTypedInitializer(`${conv.name}_kernel_zero_point`, [channels], new Int8Array(channels)),
    ];
    conv.inputs[1] = graph.add('DequantizeLinear', weightInputs, `${conv.name}_kernel_dequantize`, { axis: attr.int(axis) });
    if (conv.inputs[2]) {
      const bias = quantizeBias(floatInitializer(inits, conv.inputs[2], `${conv.opType} ${conv.name}`).data, inputQ.scale, scales);
      const biasInputs = [
        graph.addTypedInitializer(`${conv.name}_bias_int32`, [channels], bias.values),
        graph.addFloatInitializer(`${conv.name}_bias_scale`, [channels], bias.scales),
        graph.addTypedInitializer(`${conv.name}_bias_zero_point`, [channels], new Int32Array(channels)),
      ];
      conv.inputs[2] = graph.add('DequantizeLinear', biasInputs, `${conv.name}_bias_dequantize`, { axis: attr.int(0) });
    }
    before.set(conv, take(start));
  }

  graph.nodes.push(...(after.get('start') ?? []));
  for (const node of original) graph.nodes.push(...(before.get(node) ?? []), node, ...(after.get(node) ?? []));
  graph.pruneUnused();
  return params;
}

/**
 * What still computes in float after applyQuantization, for the card: every node (Q/DQ aside)
 * that is neither an int8 convolution nor a QDQ group (all its tensor inputs dequantized, each
 * output only quantized), nor a ReLU that only feeds a QuantizeLinear (which absorbs it). Conv
 * and ConvTranspose are named; other ops are listed by type.
 */
export function floatOperations(graph: GraphBuilder, plan: QuantizationPlan): string[] {
  const producer = new Map(graph.nodes.flatMap((node) => node.outputs.map((output): [string, GraphNode] => [output, node])));
  const onlyQuantized = (tensor: string) => {
    const users = consumersOf(graph, tensor);
    return users.length > 0 && users.every((user) => user.opType === 'QuantizeLinear') && !isGraphOutput(graph, tensor);
  };
  const found: string[] = [];
  for (const node of graph.nodes) {
    if (node.opType === 'QuantizeLinear' || node.opType === 'DequantizeLinear' || plan.int8Convs.includes(node.name)) continue;
    const tensorInputs = node.inputs.filter((input) => producer.has(input) || graph.inputs.some((value) => value.name === input));
    const qdqGroup = tensorInputs.every((input) => producer.get(input)?.opType === 'DequantizeLinear') && node.outputs.every(onlyQuantized);
    const absorbedRelu = node.opType === 'Relu' && node.outputs.every(onlyQuantized);
    if (qdqGroup || absorbedRelu) continue;
    const label = node.opType === 'Conv' || node.opType === 'ConvTranspose' ? `${node.opType} ${node.name}` : node.opType;
    if (!found.includes(label)) found.push(label);
  }
  return found;
}
