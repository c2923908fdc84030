/**
 * An existing ONNX file back into a GraphBuilder (convert/onnx-graph.ts), so that passes over a
 * finished model (convert/quantize/) edit the same representation the exporter builds and write
 * it with the same encoder. Reads what the exporter writes: float32 and int64 initializers,
 * int/ints/float/floats/string attributes, tensor inputs and outputs with fixed or symbolic
 * dimensions; anything else is one E_MODEL line naming it.
 */
import onnxProto from 'onnx-proto';
import { EmsegError } from '../core/errors.ts';
import { decodeOnnxModel, onnxMetadata } from '../core/onnx-model.ts';
import { GraphBuilder, type AttributeValue, type Dim, type GraphInitializer } from './onnx-graph.ts';

const { onnx } = onnxProto;

export interface ImportedGraph {
  graph: GraphBuilder;
  graphName: string;
  docString: string;
  /** metadata_props as key -> value (the model card under emseg.model_card). */
  metadata: Record<string, string>;
  irVersion: number;
  /** Version of the default ("" / ai.onnx) opset. */
  opset: number;
  /** Domains of every opset the file imports, e.g. [''] or ['', 'com.microsoft']. */
  domains: string[];
}

const asNumber = (value: unknown): number => Number(String(value));

function littleEndianView(raw: Uint8Array, elementSize: number): ArrayBuffer {
  const copy = new Uint8Array(raw); // a copy: protobufjs may hand out a Node Buffer view into a shared pool
  const littleEndianHost = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
  if (!littleEndianHost) for (let offset = 0; offset < copy.length; offset += elementSize) copy.subarray(offset, offset + elementSize).reverse();
  return copy.buffer;
}

function readInitializer(tensor: onnxProto.onnx.ITensorProto, what: string): GraphInitializer {
  const name = tensor.name ?? '';
  const dims = (tensor.dims ?? []).map(asNumber);
  const count = dims.reduce((a, b) => a * b, 1);
  const raw = tensor.rawData && tensor.rawData.length > 0 ? tensor.rawData : undefined;
  const T = onnx.TensorProto.DataType;
  if (tensor.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL) {
    throw new EmsegError('E_MODEL', `${what}: initializer ${name} is stored outside the file (external data is not read)`);
  }
  if (tensor.dataType === T.FLOAT) {
    return sized({ name, dims, data: raw ? new Float32Array(littleEndianView(raw, 4)) : Float32Array.from(tensor.floatData ?? []) }, count, what);
  }
  if (tensor.dataType === T.INT64) {
    const data = raw ? new BigInt64Array(littleEndianView(raw, 8)) : BigInt64Array.from((tensor.int64Data ?? []).map((v) => BigInt(String(v))));
    return sized({ name, dims, data }, count, what);
  }
  throw new EmsegError('E_MODEL', `${what}: initializer ${name} has element type ${T[tensor.dataType ?? 0] ?? tensor.dataType} (only float32 and int64 are read)`);
}

function sized(init: GraphInitializer, count: number, what: string): GraphInitializer {
  if (init.data.length !== count) {
    throw new EmsegError('E_MODEL', `${what}: initializer ${init.name} has ${init.data.length} values for dims [${init.dims.join(', ')}]`);
  }
  return init;
}

function readAttribute(attribute: onnxProto.onnx.IAttributeProto, where: string): AttributeValue {
  const A = onnx.AttributeProto.AttributeType;
  switch (attribute.type) {
    case A.INT:
      return { kind: 'int', value: asNumber(attribute.i) };
    case A.INTS:
      return { kind: 'ints', value: (attribute.ints ?? []).map(asNumber) };
    case A.FLOAT:
      return { kind: 'float', value: attribute.f ?? 0 };
    case A.FLOATS:
      return { kind: 'floats', value: [...(attribute.floats ?? [])] };
    case A.STRING:
      return { kind: 'string', value: new TextDecoder().decode(attribute.s ?? new Uint8Array()) };
    default:
      throw new EmsegError('E_MODEL', `${where}: attribute ${attribute.name} of type ${A[attribute.type ?? 0] ?? attribute.type} is not read`);
  }
}

function readShape(info: onnxProto.onnx.IValueInfoProto): Dim[] {
  return (info.type?.tensorType?.shape?.dim ?? []).map((dim) => {
    const which = (dim as onnxProto.onnx.TensorShapeProto.Dimension).value;
    if (which === 'dimParam') return dim.dimParam ?? null;
    if (which === 'dimValue') return asNumber(dim.dimValue);
    return null;
  });
}

/** Decodes ONNX bytes into a GraphBuilder with every name kept; `what` names the file in errors. */
export function importOnnxGraph(bytes: Uint8Array, what: string): ImportedGraph {
  const model = decodeOnnxModel(bytes, what);
  const source = model.graph!;
  const graph = new GraphBuilder();
  const initializerNames = new Set<string>();
  for (const tensor of source.initializer ?? []) {
    const init = readInitializer(tensor, what);
    graph.adoptInitializer(init);
    initializerNames.add(init.name);
  }
  for (const info of source.input ?? []) {
    if (!initializerNames.has(info.name ?? '')) graph.addInput(info.name ?? '', readShape(info));
  }
  for (const node of source.node ?? []) {
    if (node.domain) throw new EmsegError('E_MODEL', `${what}: node ${node.name} is a ${node.domain} operator (only standard ONNX operators are read)`);
    const where = `${what}: node ${node.name} (${node.opType})`;
    const attributes = Object.fromEntries((node.attribute ?? []).map((attribute) => [attribute.name ?? '', readAttribute(attribute, where)]));
    graph.adoptNode({ opType: node.opType ?? '', name: node.name ?? '', inputs: [...(node.input ?? [])], outputs: [...(node.output ?? [])], attributes });
  }
  for (const info of source.output ?? []) graph.addOutput(info.name ?? '', readShape(info));
  for (const info of source.valueInfo ?? []) {
    if (info.type?.tensorType?.elemType === onnx.TensorProto.DataType.FLOAT) graph.setShape(info.name ?? '', readShape(info));
  }
  const defaultOpset = model.opsetImport.find((entry) => !entry.domain);
  return {
    graph,
    graphName: source.name ?? 'graph',
    docString: model.docString ?? '',
    metadata: onnxMetadata(model),
    irVersion: asNumber(model.irVersion),
    opset: asNumber(defaultOpset?.version ?? 0),
    domains: model.opsetImport.map((entry) => entry.domain ?? ''),
  };
}
