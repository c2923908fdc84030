/**
 * A small ONNX graph builder: unique tensor and node names, initializers, graph inputs/outputs
 * and value infos, then one `encodeOnnxModel` that turns it into ModelProto bytes with
 * `onnx-proto` (protobufjs generated from ONNX's own onnx.proto). Layer converters only talk to
 * this builder; nothing else in convert/ touches protobuf.
 */
import onnxProto from 'onnx-proto';
import { ONNX_IR_VERSION, ONNX_OPSET } from '../core/contract.ts';
import { decodeOnnxModel, onnxMetadata } from '../core/onnx-model.ts';

const { onnx } = onnxProto;
type IAttributeProto = onnxProto.onnx.IAttributeProto;
type INodeProto = onnxProto.onnx.INodeProto;
type ITensorProto = onnxProto.onnx.ITensorProto;
type IValueInfoProto = onnxProto.onnx.IValueInfoProto;

/** A dimension: a fixed size, a symbolic name (e.g. 'N'), or null for unknown. */
export type Dim = number | string | null;

/** An attribute value with its ONNX type made explicit (a JS number is ambiguous). */
export type AttributeValue =
  | { kind: 'int'; value: number }
  | { kind: 'ints'; value: number[] }
  | { kind: 'float'; value: number }
  | { kind: 'floats'; value: number[] }
  | { kind: 'string'; value: string };

export const attr = {
  int: (value: number): AttributeValue => ({ kind: 'int', value }),
  ints: (value: number[]): AttributeValue => ({ kind: 'ints', value }),
  float: (value: number): AttributeValue => ({ kind: 'float', value }),
  floats: (value: number[]): AttributeValue => ({ kind: 'floats', value }),
  string: (value: string): AttributeValue => ({ kind: 'string', value }),
};

export interface GraphNode {
  opType: string;
  name: string;
  inputs: string[];
  outputs: string[];
  attributes: Record<string, AttributeValue>;
}

export interface GraphValue {
  name: string;
  shape: Dim[];
}

/** Initializer element types the builder writes (float weights, int64 shapes, quantized weights and zero points). */
export type InitializerData = Float32Array | BigInt64Array | Int32Array | Int8Array | Uint8Array;

export interface GraphInitializer {
  name: string;
  dims: number[];
  data: InitializerData;
}

function sanitize(hint: string): string {
  const cleaned = hint.replace(/[^A-Za-z0-9_./:-]+/g, '_');
  return cleaned.length > 0 ? cleaned : 't';
}

export class GraphBuilder {
  readonly nodes: GraphNode[] = [];
  readonly initializers: GraphInitializer[] = [];
  readonly inputs: GraphValue[] = [];
  readonly outputs: GraphValue[] = [];
  readonly valueInfos = new Map<string, Dim[]>();
  private readonly usedTensorNames = new Set<string>();
  private readonly usedNodeNames = new Set<string>();

  /** A tensor name not used yet, derived from `hint` (`conv1`, `conv1_1`, ...). */
  uniqueName(hint: string): string {
    return GraphBuilder.claim(this.usedTensorNames, sanitize(hint));
  }

  private static claim(used: Set<string>, base: string): string {
    let name = base;
    for (let index = 1; used.has(name); index++) name = `${base}_${index}`;
    used.add(name);
    return name;
  }

  /**
   * Takes over a node read from an existing file (convert/onnx-graph-import.ts) with its names as
   * they are; E_MODEL-free: a duplicate node or output name is a programming error here.
   */
  adoptNode(node: GraphNode): void {
    if (this.usedNodeNames.has(node.name)) throw new Error(`node name ${node.name} is already used`);
    this.usedNodeNames.add(node.name);
    for (const output of node.outputs) this.usedTensorNames.add(output);
    this.nodes.push({ ...node, inputs: [...node.inputs], outputs: [...node.outputs] });
  }

  /** Takes over an initializer read from an existing file, with its name as it is. */
  adoptInitializer(init: GraphInitializer): void {
    if (this.usedTensorNames.has(init.name)) throw new Error(`initializer name ${init.name} is already used`);
    checkSize(init.name, init.dims, init.data.length);
    this.usedTensorNames.add(init.name);
    this.initializers.push({ ...init, dims: [...init.dims] });
  }

  addInput(name: string, shape: Dim[]): string {
    if (this.usedTensorNames.has(name)) throw new Error(`graph input name ${name} is already used`);
    this.usedTensorNames.add(name);
    this.inputs.push({ name, shape });
    return name;
  }

  addOutput(name: string, shape: Dim[]): void {
    this.outputs.push({ name, shape });
  }

  /** A float32 constant, e.g. a weight; returns its (unique) name. */
  addFloatInitializer(hint: string, dims: number[], data: Float32Array | number[]): string {
    const values = data instanceof Float32Array ? data : Float32Array.from(data);
    checkSize(hint, dims, values.length);
    const name = this.uniqueName(hint);
    this.initializers.push({ name, dims: [...dims], data: values });
    return name;
  }

  /** An int64 constant (shapes, pads, axes); returns its (unique) name. */
  addInt64Initializer(hint: string, dims: number[], data: Array<number | bigint>): string {
    checkSize(hint, dims, data.length);
    const name = this.uniqueName(hint);
    this.initializers.push({ name, dims: [...dims], data: BigInt64Array.from(data.map((v) => BigInt(v))) });
    return name;
  }

  /** A constant of any supported element type (e.g. int8 weights, a uint8 zero point); returns its (unique) name. */
  addTypedInitializer(hint: string, dims: number[], data: InitializerData): string {
    checkSize(hint, dims, data.length);
    const name = this.uniqueName(hint);
    this.initializers.push({ name, dims: [...dims], data });
    return name;
  }

  /**
   * Adds a node and returns its output names (unique names derived from `nameHint`, one per
   * `outputCount`). Input name '' marks an omitted optional input, as ONNX specifies.
   */
  addNode(
    opType: string,
    inputs: string[],
    options: { name: string; attributes?: Record<string, AttributeValue>; outputCount?: number },
  ): string[] {
    const count = options.outputCount ?? 1;
    const outputs = Array.from({ length: count }, (_, index) => this.uniqueName(count === 1 ? options.name : `${options.name}_${index}`));
    const name = GraphBuilder.claim(this.usedNodeNames, sanitize(options.name));
    this.nodes.push({ opType, name, inputs: [...inputs], outputs, attributes: options.attributes ?? {} });
    return outputs;
  }

  /** Same as addNode for the common single-output case. */
  add(opType: string, inputs: string[], name: string, attributes?: Record<string, AttributeValue>): string {
    return this.addNode(opType, inputs, attributes ? { name, attributes } : { name })[0]!;
  }

  /** Records the shape of an intermediate tensor (exported as value_info). */
  setShape(tensor: string, shape: Dim[]): void {
    this.valueInfos.set(tensor, shape);
  }

  /**
   * Gives tensor `from` the name `to` (e.g. the contract's output name). When `from` is produced
   * by a node, the node's output is renamed; otherwise (a graph input or initializer passed
   * straight through) an Identity node is added.
   */
  renameTensor(from: string, to: string): string {
    if (from === to) return to;
    if (this.usedTensorNames.has(to)) throw new Error(`tensor name ${to} is already used`);
    const producer = this.nodes.find((node) => node.outputs.includes(from));
    if (!producer) {
      this.usedTensorNames.add(to);
      this.nodes.push({ opType: 'Identity', name: GraphBuilder.claim(this.usedNodeNames, `${to}_identity`), inputs: [from], outputs: [to], attributes: {} });
      return to;
    }
    this.usedTensorNames.add(to);
    for (const node of this.nodes) {
      node.inputs = node.inputs.map((name) => (name === from ? to : name));
      node.outputs = node.outputs.map((name) => (name === from ? to : name));
    }
    const shape = this.valueInfos.get(from);
    this.valueInfos.delete(from);
    if (shape) this.valueInfos.set(to, shape);
    return to;
  }

  /** Drops nodes and initializers that no graph output depends on (e.g. after pass-throughs). */
  pruneUnused(): void {
    const needed = new Set(this.outputs.map((output) => output.name));
    const kept: GraphNode[] = [];
    for (const node of [...this.nodes].reverse()) {
      if (node.outputs.some((name) => needed.has(name))) {
        kept.push(node);
        for (const input of node.inputs) needed.add(input);
      }
    }
    this.nodes.splice(0, this.nodes.length, ...kept.reverse());
    const keptInitializers = this.initializers.filter((init) => needed.has(init.name));
    this.initializers.splice(0, this.initializers.length, ...keptInitializers);
    for (const name of [...this.valueInfos.keys()]) {
      if (!needed.has(name) || this.outputs.some((output) => output.name === name)) this.valueInfos.delete(name);
    }
  }
}

function checkSize(name: string, dims: number[], length: number): void {
  const expected = dims.reduce((a, b) => a * b, 1);
  if (expected !== length) throw new Error(`initializer ${name}: dims [${dims.join(', ')}] need ${expected} values, found ${length}`);
}

const FLOAT = 1; // onnx.TensorProto.DataType.FLOAT

/** onnx.TensorProto.DataType of an initializer's typed array. */
function tensorDataType(data: InitializerData): number {
  if (data instanceof Float32Array) return FLOAT;
  if (data instanceof Uint8Array) return 2; // UINT8
  if (data instanceof Int8Array) return 3; // INT8
  if (data instanceof Int32Array) return 6; // INT32
  return 7; // INT64
}

function encodeTensor(init: GraphInitializer): ITensorProto {
  const bytes = new Uint8Array(init.data.buffer, init.data.byteOffset, init.data.byteLength);
  return {
    name: init.name,
    dims: init.dims,
    dataType: tensorDataType(init.data),
    // raw_data is little-endian by the ONNX spec; copy so the proto owns its bytes.
    rawData: littleEndianCopy(bytes, init.data.BYTES_PER_ELEMENT),
  };
}

const HOST_IS_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function littleEndianCopy(bytes: Uint8Array, elementSize: number): Uint8Array {
  const copy = bytes.slice();
  if (!HOST_IS_LITTLE_ENDIAN) {
    for (let offset = 0; offset < copy.length; offset += elementSize) copy.subarray(offset, offset + elementSize).reverse();
  }
  return copy;
}

function encodeAttribute(name: string, value: AttributeValue): IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  switch (value.kind) {
    case 'int':
      return { name, type: T.INT, i: value.value };
    case 'ints':
      return { name, type: T.INTS, ints: value.value };
    case 'float':
      return { name, type: T.FLOAT, f: value.value };
    case 'floats':
      return { name, type: T.FLOATS, floats: value.value };
    case 'string':
      return { name, type: T.STRING, s: new TextEncoder().encode(value.value) };
  }
}

function encodeValueInfo(name: string, shape: Dim[]): IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType: FLOAT,
        shape: { dim: shape.map((dim) => (typeof dim === 'number' ? { dimValue: dim } : typeof dim === 'string' ? { dimParam: dim } : {})) },
      },
    },
  };
}

export interface EncodeOptions {
  graphName: string;
  docString?: string;
  producerVersion?: string;
  /** Written into ModelProto.metadata_props (e.g. the model card). */
  metadata?: Record<string, string>;
}

/** Serializes the graph as an ONNX ModelProto (IR version and opset from the contract). */
export function encodeOnnxModel(graph: GraphBuilder, options: EncodeOptions): Uint8Array {
  const nodes: INodeProto[] = graph.nodes.map((node) => ({
    opType: node.opType,
    name: node.name,
    input: node.inputs,
    output: node.outputs,
    attribute: Object.entries(node.attributes).map(([name, value]) => encodeAttribute(name, value)),
  }));
  const model = onnx.ModelProto.create({
    irVersion: ONNX_IR_VERSION,
    opsetImport: [{ domain: '', version: ONNX_OPSET }],
    producerName: 'emseg',
    producerVersion: options.producerVersion ?? '0.1.0',
    docString: options.docString ?? '',
    graph: {
      name: options.graphName,
      node: nodes,
      initializer: graph.initializers.map(encodeTensor),
      input: graph.inputs.map((value) => encodeValueInfo(value.name, value.shape)),
      output: graph.outputs.map((value) => encodeValueInfo(value.name, value.shape)),
      valueInfo: [...graph.valueInfos].map(([name, shape]) => encodeValueInfo(name, shape)),
    },
    metadataProps: Object.entries(options.metadata ?? {}).map(([key, value]) => ({ key, value })),
  });
  return onnx.ModelProto.encode(model).finish();
}

/** Reads the metadata_props of ONNX bytes (used to read the model card back). */
export function readOnnxMetadata(bytes: Uint8Array): Record<string, string> {
  return onnxMetadata(decodeOnnxModel(bytes, 'ONNX bytes'));
}

/** Names and shapes of the graph inputs and outputs (initializers excluded), read from ONNX bytes. */
export function readOnnxSignature(bytes: Uint8Array): { inputs: GraphValue[]; outputs: GraphValue[]; opset: number; irVersion: number } {
  const model = decodeOnnxModel(bytes, 'ONNX bytes');
  const graph = model.graph!;
  const initializerNames = new Set((graph.initializer ?? []).map((init) => init.name));
  const toValue = (info: onnxProto.onnx.IValueInfoProto): GraphValue => ({
    name: info.name ?? '',
    shape: (info.type?.tensorType?.shape?.dim ?? []).map((dim) => {
      const which = (dim as onnxProto.onnx.TensorShapeProto.Dimension).value;
      if (which === 'dimParam') return dim.dimParam ?? null;
      if (which === 'dimValue') return Number(String(dim.dimValue));
      return null;
    }),
  });
  const defaultOpset = model.opsetImport.find((entry) => !entry.domain);
  return {
    inputs: (graph.input ?? []).filter((info) => !initializerNames.has(info.name ?? '')).map(toValue),
    outputs: (graph.output ?? []).map(toValue),
    opset: Number(String(defaultOpset?.version ?? 0)),
    irVersion: Number(String(model.irVersion)),
  };
}
