/**
 * tfjs Layers model -> ONNX graph (NCHW), layer by layer through the converter registry.
 *
 * The walk follows the model's inbound nodes in dependency order, so functional models with
 * skip connections (the U-Net) and Sequential models both work. Every unsupported layer or
 * option is collected and reported at once in one EmsegError (E_MODEL) with the supported list.
 */
import type * as tfType from '@tensorflow/tfjs';
import { INPUT_NAME, OUTPUT_NAME } from '../core/contract.ts';
import { EmsegError } from '../core/errors.ts';
import { UnsupportedLayerError, nchwShape, type LayerToConvert, type LayerWeight } from './layer-converter.ts';
import { INPUT_NAME_KEY } from './layers/structure.ts';
import { GraphBuilder, encodeOnnxModel, type Dim } from './onnx-graph.ts';
import { LAYER_CONVERTERS, SUPPORTED_LAYERS } from './registry.ts';

export interface ExportOptions {
  /** Name of the graph input. Default: the contract's `image`. */
  inputName?: string;
  /** Name of the graph output. Default: the contract's `probability`. */
  outputName?: string;
  /** Graph name. Default: the tfjs model's name. */
  graphName?: string;
  /** Free text stored as the model's doc_string. Default: none. */
  docString?: string;
  /** Entries for ModelProto.metadata_props (e.g. the model card). Default: none. */
  metadata?: Record<string, string>;
}

interface SymbolicLike {
  id: number;
  shape: (number | null)[];
}

interface NodeLike {
  inputTensors: SymbolicLike[];
  outputTensors: SymbolicLike[];
}

function layerWeights(layer: tfType.layers.Layer): Map<string, LayerWeight> {
  const weights = new Map<string, LayerWeight>();
  for (const variable of layer.weights) {
    const shortName = variable.originalName.split('/').pop() ?? variable.originalName;
    const tensor = variable.read();
    weights.set(shortName, { shape: [...tensor.shape], data: Float32Array.from(tensor.dataSync() as Float32Array) });
  }
  return weights;
}

interface WalkState {
  graph: GraphBuilder;
  /** tfjs symbolic tensor id -> ONNX tensor name. */
  onnxNames: Map<number, string>;
  problems: string[];
}

const isNestedModel = (layer: tfType.layers.Layer): layer is tfType.LayersModel =>
  Array.isArray((layer as Partial<tfType.LayersModel>).layers) && Array.isArray((layer as Partial<tfType.LayersModel>).inputs);

const unsupportedOutputs = (layer: tfType.layers.Layer, node: NodeLike) => node.outputTensors.map((_, index) => `${layer.name}:unsupported:${index}`);

/** Converts one layer call (a node) and records the ONNX names of its outputs. */
function convertNode(state: WalkState, layer: tfType.layers.Layer, node: NodeLike, graphInputName?: string): void {
  const { graph, onnxNames, problems } = state;
  const className = layer.getClassName();
  const inputs = node.inputTensors.map((tensor) => onnxNames.get(tensor.id)!);
  let outputs: string[];
  if (isNestedModel(layer)) {
    // A model used as a layer: its own graph, fed with this call's inputs.
    layer.inputs.forEach((tensor, index) => onnxNames.set((tensor as unknown as SymbolicLike).id, inputs[index]!));
    walkModel(state, layer);
    outputs = layer.outputs.map((tensor) => onnxNames.get((tensor as unknown as SymbolicLike).id) ?? `${layer.name}:unreached`);
  } else {
    const config = { ...(layer.getConfig() as Record<string, unknown>) };
    if (graphInputName !== undefined) config[INPUT_NAME_KEY] = graphInputName;
    const toConvert: LayerToConvert = {
      className,
      name: layer.name,
      config,
      weights: layerWeights(layer),
      inputs,
      inputShapes: node.inputTensors.map((tensor) => tensor.shape),
      outputShapes: node.outputTensors.map((tensor) => tensor.shape),
    };
    const converter = LAYER_CONVERTERS[className];
    if (!converter) {
      problems.push(`${layer.name} (${className})`);
      outputs = unsupportedOutputs(layer, node);
    } else {
      try {
        outputs = converter(toConvert, graph);
      } catch (error) {
        if (!(error instanceof UnsupportedLayerError)) throw error;
        problems.push(`${error.layerName} (${error.className}: ${error.reason})`);
        outputs = unsupportedOutputs(layer, node);
      }
    }
  }
  node.outputTensors.forEach((tensor, index) => {
    const name = outputs[index];
    if (name === undefined) throw new Error(`converter for ${className} returned ${outputs.length} outputs, expected ${node.outputTensors.length}`);
    onnxNames.set(tensor.id, name);
    if (graphInputName === undefined && tensor.shape.length === 4) {
      graph.setShape(name, nchwShape(tensor.shape).map((dim, axis) => dim ?? (axis === 0 ? 'N' : null)));
    }
  });
}

/**
 * Converts the layer calls of `model` in dependency order, starting from tensors whose ONNX
 * names are known (the graph input, or a nested model's inputs), until its outputs are reached.
 */
function walkModel(state: WalkState, model: tfType.LayersModel): void {
  const pending = model.layers
    .filter((layer) => layer.getClassName() !== 'InputLayer')
    .flatMap((layer) => (layer.inboundNodes as unknown as NodeLike[]).map((node) => ({ layer, node })));
  const done = new Set<NodeLike>();
  // A nested model called more than once: forget the names of its previous call's tensors.
  for (const { node } of pending) for (const tensor of node.outputTensors) state.onnxNames.delete(tensor.id);
  const outputIds = model.outputs.map((tensor) => (tensor as unknown as SymbolicLike).id);
  let progress = true;
  while (progress && !outputIds.every((id) => state.onnxNames.has(id))) {
    progress = false;
    for (const { layer, node } of pending) {
      if (done.has(node) || !node.inputTensors.every((tensor) => state.onnxNames.has(tensor.id))) continue;
      done.add(node);
      progress = true;
      convertNode(state, layer, node);
    }
  }
}

/** The NCHW ONNX graph of a tfjs Layers model with one rank-4 input and one rank-4 output. */
export function buildOnnxGraph(model: tfType.LayersModel, options: ExportOptions = {}): GraphBuilder {
  const outputName = options.outputName ?? OUTPUT_NAME;
  if (model.inputs.length !== 1 || model.outputs.length !== 1) {
    throw new EmsegError('E_MODEL', `model ${model.name}: expected one input and one output, found ${model.inputs.length} inputs and ${model.outputs.length} outputs`);
  }
  const state: WalkState = { graph: new GraphBuilder(), onnxNames: new Map(), problems: [] };
  // The graph input comes from the model's InputLayer (Sequential models do not list it in
  // model.layers, so it is taken from the input tensor's source layer).
  const modelInput = model.inputs[0] as unknown as SymbolicLike & { sourceLayer: tfType.layers.Layer };
  convertNode(state, modelInput.sourceLayer, { inputTensors: [], outputTensors: [modelInput] }, options.inputName ?? INPUT_NAME);
  walkModel(state, model);

  const { graph, problems } = state;
  if (problems.length > 0) {
    throw new EmsegError(
      'E_MODEL',
      `model ${model.name} cannot be exported to ONNX; unsupported: ${problems.join('; ')}. Supported layers: ${SUPPORTED_LAYERS.join(', ')}`,
    );
  }
  const finalName = state.onnxNames.get((model.outputs[0] as unknown as SymbolicLike).id);
  if (finalName === undefined) throw new EmsegError('E_MODEL', `model ${model.name}: the output could not be reached from the input`);
  graph.renameTensor(finalName, outputName);
  graph.addOutput(outputName, outputDims(model));
  graph.pruneUnused();
  return graph;
}

/**
 * NCHW output dims: batch 'N'; height/width named 'H'/'W' when the model keeps the input size
 * (checked on two probe sizes), left unknown otherwise; fixed sizes stay numbers.
 */
function outputDims(model: tfType.LayersModel): Dim[] {
  const output = (model.outputs[0] as unknown as SymbolicLike).shape;
  const input = (model.inputs[0] as unknown as SymbolicLike).shape;
  const dims = nchwShape(output);
  let keepsSize = false;
  try {
    keepsSize = [
      [48, 80],
      [96, 64],
    ].every(([probeHeight, probeWidth]) => {
      const height = input[1] ?? probeHeight!;
      const width = input[2] ?? probeWidth!;
      const shape = model.computeOutputShape([1, height, width, input[3] ?? 1]) as number[];
      return shape[1] === height && shape[2] === width;
    });
  } catch {
    keepsSize = false;
  }
  return dims.map((dim, axis) => {
    if (dim !== null) return dim;
    if (axis === 0) return 'N';
    if (keepsSize && axis === 2) return 'H';
    if (keepsSize && axis === 3) return 'W';
    return null;
  });
}

/** Exports a tfjs Layers model as ONNX bytes (IR version and opset from the contract). */
export function exportLayersModel(model: tfType.LayersModel, options: ExportOptions = {}): Uint8Array {
  const graph = buildOnnxGraph(model, options);
  return encodeOnnxModel(graph, {
    graphName: options.graphName ?? model.name,
    ...(options.docString !== undefined ? { docString: options.docString } : {}),
    ...(options.metadata !== undefined ? { metadata: options.metadata } : {}),
  });
}
