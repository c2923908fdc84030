/**
 * The graph builder and the layout helpers: unique names, initializers as little-endian raw
 * data, renaming the output, pruning, the weight transposition, and reading signature and
 * metadata back from the encoded bytes.
 */
import { describe, expect, it } from 'vitest';
import onnxProto from 'onnx-proto';
import { GraphBuilder, attr, encodeOnnxModel, readOnnxMetadata, readOnnxSignature } from '../convert/onnx-graph.ts';
import { nchwAxis, transposeArray, type LayerToConvert } from '../convert/layer-converter.ts';

const layer = (name = 'l'): LayerToConvert => ({
  className: 'Test',
  name,
  config: {},
  weights: new Map(),
  inputs: [],
  inputShapes: [],
  outputShapes: [],
});

describe('GraphBuilder', () => {
  it('hands out unique tensor and node names', () => {
    const graph = new GraphBuilder();
    const x = graph.addInput('x', ['N', 1, 'H', 'W']);
    const a = graph.add('Relu', [x], 'act');
    const b = graph.add('Relu', [a], 'act');
    const c = graph.add('Relu', [b], 'bad name!');
    expect([a, b, c]).toEqual(['act', 'act_1', 'bad_name_']);
    expect(new Set(graph.nodes.map((node) => node.name)).size).toBe(3);
    expect(() => graph.addInput('x', [1])).toThrow(/already used/);
  });

  it('renames the last tensor to the output name, prunes dead nodes, encodes initializers exactly', () => {
    const graph = new GraphBuilder();
    const x = graph.addInput('image', ['N', 1, 'H', 'W']);
    const w = graph.addFloatInitializer('w', [1, 1, 1, 1], [2.5]);
    const pads = graph.addInt64Initializer('pads', [2], [1, -9007199254740991]);
    const dead = graph.add('Sigmoid', [x], 'dead');
    const y = graph.add('Conv', [x, w], 'conv', { kernel_shape: attr.ints([1, 1]) });
    graph.setShape(y, ['N', 1, null, null]);
    graph.setShape(dead, ['N', 1, null, null]);
    graph.renameTensor(y, 'probability');
    graph.addOutput('probability', ['N', 1, 'H', 'W']);
    graph.pruneUnused();
    expect(graph.nodes.map((node) => node.opType)).toEqual(['Conv']);
    expect(graph.initializers.map((init) => init.name)).toEqual(['w']);
    expect(pads).toBe('pads');
    expect(graph.valueInfos.size).toBe(0);

    const bytes = encodeOnnxModel(graph, { graphName: 'g', metadata: { 'emseg.model_card': '{"a":1}' } });
    const model = onnxProto.onnx.ModelProto.decode(bytes);
    const raw = model.graph!.initializer![0]!.rawData!;
    expect(new DataView(raw.buffer, raw.byteOffset, raw.byteLength).getFloat32(0, true)).toBe(2.5);
    expect(readOnnxMetadata(bytes)).toEqual({ 'emseg.model_card': '{"a":1}' });
    expect(readOnnxSignature(bytes)).toEqual({
      inputs: [{ name: 'image', shape: ['N', 1, 'H', 'W'] }],
      outputs: [{ name: 'probability', shape: ['N', 1, 'H', 'W'] }],
      opset: 17,
      irVersion: 8,
    });
  });

  it('adds an Identity when the output is the graph input itself', () => {
    const graph = new GraphBuilder();
    const x = graph.addInput('image', ['N', 1, 'H', 'W']);
    graph.renameTensor(x, 'probability');
    expect(graph.nodes).toEqual([expect.objectContaining({ opType: 'Identity', inputs: ['image'], outputs: ['probability'] })]);
  });
});

describe('layout helpers', () => {
  it('transposes like numpy.transpose', () => {
    // shape [2, 3]: [[0, 1, 2], [3, 4, 5]] -> [[0, 3], [1, 4], [2, 5]]
    expect(transposeArray(Float32Array.from([0, 1, 2, 3, 4, 5]), [2, 3], [1, 0])).toEqual({ data: Float32Array.from([0, 3, 1, 4, 2, 5]), shape: [3, 2] });
    // A Conv2D kernel [kh, kw, in, out] -> [out, in, kh, kw]: element (y, x, i, o) lands at (o, i, y, x).
    const shape = [2, 3, 4, 5];
    const data = Float32Array.from({ length: 120 }, (_, index) => index);
    const moved = transposeArray(data, shape, [3, 2, 0, 1]);
    const [y, x, i, o] = [1, 2, 3, 4];
    expect(moved.shape).toEqual([5, 4, 2, 3]);
    expect(moved.data[((o * 4 + i) * 2 + y) * 3 + x]).toBe(((y * 3 + x) * 4 + i) * 5 + o);
  });

  it('maps channels-last axes to NCHW', () => {
    expect([-1, 3, 1, 2, 0].map((axis) => nchwAxis(layer(), axis))).toEqual([1, 1, 2, 3, 0]);
    expect(() => nchwAxis(layer('x'), 5)).toThrow(/x \(Test\): axis 5/);
  });
});
