/**
 * Every layer converter: a minimal tfjs model around the layer, random weights (biases and
 * batch-norm statistics included), exported to ONNX and run in onnxruntime-node; the output must
 * equal tfjs (the oracle) within 1e-5 on inputs of odd and even sizes. All exported files then
 * go through Python onnx's checker (full_check=True) in one process.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { exportLayersModel } from '../convert/tfjs-to-onnx.ts';
import { compareModels, createCpuSession, randomInput } from '../convert/parity.ts';
import { checkOnnxFiles } from '../convert/onnx-checker.ts';
import { randomizeWeights } from './helpers/tiny-unet-onnx.ts';
import { expectCheckerPasses } from './helpers/onnx-checker-expect.ts';
import onnxProto from 'onnx-proto';
import { GraphBuilder } from '../convert/onnx-graph.ts';
import type { LayerToConvert } from '../convert/layer-converter.ts';
import { LAYER_CONVERTERS } from '../convert/registry.ts';
import { tempDir } from './helpers/temp-dir.ts';

type Sym = tf.SymbolicTensor;

interface LayerCase {
  name: string;
  /** Builds the graph from the input; default input shape [null, null, 3]. */
  build: (input: Sym) => Sym;
  channels?: number;
  /** Input sizes [h, w] to compare on. Default [[9, 10], [16, 12]]. */
  sizes?: [number, number][];
  /** ONNX op types that must (not) appear. */
  expectOps?: string[];
  forbidOps?: string[];
}

const conv = (config: Partial<Parameters<typeof tf.layers.conv2d>[0]> = {}) =>
  tf.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', ...config });
const apply = (layer: tf.layers.Layer, input: Sym | Sym[]) => layer.apply(input) as Sym;
const branches = (input: Sym, count: number) => Array.from({ length: count }, (_, index) => apply(conv({ filters: 3, kernelSize: index + 1 }), input));

const CASES: LayerCase[] = [
  // Conv2D
  { name: 'Conv2D 3x3 same relu', build: (x) => apply(conv({ activation: 'relu' }), x), expectOps: ['Conv', 'Relu'] },
  { name: 'Conv2D 3x3 valid linear', build: (x) => apply(conv({ padding: 'valid' }), x) },
  { name: 'Conv2D 3x3 same stride 2', build: (x) => apply(conv({ strides: 2 }), x), sizes: [[9, 10], [16, 13]] },
  { name: 'Conv2D 4x4 same stride 2', build: (x) => apply(conv({ kernelSize: 4, strides: 2 }), x), sizes: [[9, 10], [16, 13]] },
  { name: 'Conv2D 3x3 valid stride 2', build: (x) => apply(conv({ strides: 2, padding: 'valid' }), x), sizes: [[9, 10], [16, 13]] },
  { name: 'Conv2D 2x2 same (even kernel)', build: (x) => apply(conv({ kernelSize: 2 }), x) },
  { name: 'Conv2D 1x5 same', build: (x) => apply(conv({ kernelSize: [1, 5] }), x) },
  { name: 'Conv2D dilation 2 same', build: (x) => apply(conv({ dilationRate: 2 }), x), sizes: [[11, 12]] },
  { name: 'Conv2D no bias sigmoid', build: (x) => apply(conv({ useBias: false, activation: 'sigmoid' }), x), expectOps: ['Sigmoid'] },
  { name: 'Conv2D fused tanh', build: (x) => apply(conv({ activation: 'tanh' }), x), expectOps: ['Tanh'] },
  // Conv2DTranspose
  ...(
    [
      [2, 2, 'same'],
      [3, 2, 'same'],
      [4, 2, 'same'],
      [3, 1, 'same'],
      [1, 2, 'same'],
      [3, 2, 'valid'],
      [1, 2, 'valid'],
      [2, 3, 'same'],
    ] as const
  ).map(
    ([kernelSize, strides, padding]): LayerCase => ({
      name: `Conv2DTranspose k${kernelSize} s${strides} ${padding}`,
      build: (x) => apply(tf.layers.conv2dTranspose({ filters: 2, kernelSize, strides, padding }), x),
      sizes: [[5, 6], [8, 7]],
      expectOps: ['ConvTranspose'],
    }),
  ),
  { name: 'Conv2DTranspose relu no bias', build: (x) => apply(tf.layers.conv2dTranspose({ filters: 2, kernelSize: 3, strides: 2, padding: 'same', useBias: false, activation: 'relu' }), x) },
  // Depthwise and separable convolutions
  { name: 'DepthwiseConv2D 3x3 same', build: (x) => apply(tf.layers.depthwiseConv2d({ kernelSize: 3, padding: 'same' }), x), expectOps: ['Conv'] },
  { name: 'DepthwiseConv2D multiplier 2 stride 2 relu', build: (x) => apply(tf.layers.depthwiseConv2d({ kernelSize: 3, depthMultiplier: 2, strides: 2, padding: 'same', activation: 'relu' }), x), sizes: [[9, 10], [16, 13]] },
  { name: 'DepthwiseConv2D valid no bias', build: (x) => apply(tf.layers.depthwiseConv2d({ kernelSize: [2, 3], useBias: false }), x) },
  { name: 'SeparableConv2D 3x3 same', build: (x) => apply(tf.layers.separableConv2d({ filters: 5, kernelSize: 3, padding: 'same' }), x) },
  { name: 'SeparableConv2D multiplier 2 dilation 2 sigmoid', build: (x) => apply(tf.layers.separableConv2d({ filters: 4, kernelSize: 3, depthMultiplier: 2, dilationRate: 2, padding: 'same', activation: 'sigmoid' }), x), sizes: [[11, 12]] },
  // Dense on an image acts on channels
  { name: 'Dense on channels', build: (x) => apply(tf.layers.dense({ units: 5, activation: 'relu' }), x) },
  // BatchNormalization
  { name: 'BatchNormalization default epsilon', build: (x) => apply(tf.layers.batchNormalization({}), x), expectOps: ['BatchNormalization'] },
  { name: 'BatchNormalization epsilon 0.1', build: (x) => apply(tf.layers.batchNormalization({ epsilon: 0.1 }), x) },
  { name: 'BatchNormalization without center and scale', build: (x) => apply(tf.layers.batchNormalization({ center: false, scale: false }), x) },
  // Activations
  ...['relu', 'relu6', 'sigmoid', 'tanh', 'softmax', 'elu', 'selu', 'softplus', 'softsign', 'hardSigmoid', 'linear', 'swish', 'mish', 'logSoftmax', 'gelu', 'gelu_new'].map(
    (activation): LayerCase => ({
      name: `Activation ${activation}`,
      build: (x) => apply(tf.layers.activation({ activation: activation as 'relu' }), apply(conv({ filters: 3 }), x)),
    }),
  ),
  { name: 'ReLU', build: (x) => apply(tf.layers.reLU({}), x), expectOps: ['Relu'] },
  { name: 'ReLU maxValue 0.7', build: (x) => apply(tf.layers.reLU({ maxValue: 0.7 }), x), expectOps: ['Clip'] },
  { name: 'LeakyReLU default alpha', build: (x) => apply(tf.layers.leakyReLU({}), x), expectOps: ['LeakyRelu'] },
  { name: 'LeakyReLU alpha 0.05', build: (x) => apply(tf.layers.leakyReLU({ alpha: 0.05 }), x) },
  // tfjs 4.22's ELU layer only accepts the default alpha 1.
  { name: 'ELU', build: (x) => apply(tf.layers.elu({}), x), expectOps: ['Elu'] },
  { name: 'ThresholdedReLU theta 0.3', build: (x) => apply(tf.layers.thresholdedReLU({ theta: 0.3 }), x) },
  { name: 'PReLU shared over height and width', build: (x) => apply(tf.layers.prelu({ sharedAxes: [1, 2] }), x), expectOps: ['PRelu'] },
  { name: 'Rescaling 1/255 offset -0.5', build: (x) => apply(tf.layers.rescaling({ scale: 1 / 255, offset: -0.5 }), x) },
  { name: 'Softmax layer', build: (x) => apply(tf.layers.softmax({ axis: -1 }), x), expectOps: ['Softmax'] },
  // Pooling
  { name: 'MaxPooling2D 2 valid', build: (x) => apply(tf.layers.maxPooling2d({ poolSize: 2 }), x), sizes: [[8, 10], [9, 11]] },
  { name: 'MaxPooling2D 3 stride 2 same', build: (x) => apply(tf.layers.maxPooling2d({ poolSize: 3, strides: 2, padding: 'same' }), x), sizes: [[8, 10], [9, 11]] },
  { name: 'MaxPooling2D 3 stride 1 same', build: (x) => apply(tf.layers.maxPooling2d({ poolSize: 3, strides: 1, padding: 'same' }), x) },
  { name: 'AveragePooling2D 2 valid', build: (x) => apply(tf.layers.averagePooling2d({ poolSize: 2 }), x), sizes: [[8, 10], [9, 11]] },
  { name: 'AveragePooling2D 3 stride 2 same', build: (x) => apply(tf.layers.averagePooling2d({ poolSize: 3, strides: 2, padding: 'same' }), x), sizes: [[8, 10], [9, 11]] },
  { name: 'AveragePooling2D 3 stride 1 same', build: (x) => apply(tf.layers.averagePooling2d({ poolSize: 3, strides: 1, padding: 'same' }), x) },
  // UpSampling2D
  { name: 'UpSampling2D nearest 2', build: (x) => apply(tf.layers.upSampling2d({ size: [2, 2] }), x), expectOps: ['Resize'] },
  { name: 'UpSampling2D nearest 2x3', build: (x) => apply(tf.layers.upSampling2d({ size: [2, 3] }), x) },
  { name: 'UpSampling2D bilinear 2', build: (x) => apply(tf.layers.upSampling2d({ size: [2, 2], interpolation: 'bilinear' }), x) },
  { name: 'UpSampling2D bilinear 3x2', build: (x) => apply(tf.layers.upSampling2d({ size: [3, 2], interpolation: 'bilinear' }), x) },
  // Borders
  { name: 'ZeroPadding2D 1', build: (x) => apply(tf.layers.zeroPadding2d({ padding: 1 }), x), expectOps: ['Pad'] },
  { name: 'ZeroPadding2D [[1,2],[3,0]]', build: (x) => apply(tf.layers.zeroPadding2d({ padding: [[1, 2], [3, 0]] }), x) },
  { name: 'Cropping2D [[1,2],[0,3]]', build: (x) => apply(tf.layers.cropping2D({ cropping: [[1, 2], [0, 3]] }), x), expectOps: ['Slice'] },
  { name: 'Cropping2D 1', build: (x) => apply(tf.layers.cropping2D({ cropping: 1 }), x) },
  // Merge
  { name: 'Concatenate channels', build: (x) => apply(tf.layers.concatenate({ axis: -1 }), branches(x, 2)), expectOps: ['Concat'] },
  { name: 'Concatenate axis 2 (width)', build: (x) => apply(tf.layers.concatenate({ axis: 2 }), branches(x, 2)) },
  { name: 'Add three inputs', build: (x) => apply(tf.layers.add({}), branches(x, 3)), expectOps: ['Add'] },
  { name: 'Multiply two inputs', build: (x) => apply(tf.layers.multiply({}), branches(x, 2)), expectOps: ['Mul'] },
  { name: 'Average', build: (x) => apply(tf.layers.average({}), branches(x, 3)), expectOps: ['Mean'] },
  { name: 'Maximum', build: (x) => apply(tf.layers.maximum({}), branches(x, 2)), expectOps: ['Max'] },
  { name: 'Minimum', build: (x) => apply(tf.layers.minimum({}), branches(x, 2)), expectOps: ['Min'] },
  // Training-only layers vanish
  { name: 'Dropout', build: (x) => apply(conv(), apply(tf.layers.dropout({ rate: 0.5 }), apply(conv(), x))), forbidOps: ['Dropout', 'Identity'] },
  { name: 'Dropout as last layer', build: (x) => apply(tf.layers.dropout({ rate: 0.3 }), apply(conv(), x)), forbidOps: ['Dropout'] },
  { name: 'Dropout right after the input', build: (x) => apply(tf.layers.dropout({ rate: 0.3 }), x), expectOps: ['Identity'] },
];

function opTypes(bytes: Uint8Array): string[] {
  return (onnxProto.onnx.ModelProto.decode(bytes).graph?.node ?? []).map((node) => node.opType ?? '');
}

describe('layer converters match tfjs within 1e-5', () => {
  const folder = tempDir('emseg-convert-layers-');
  const written: string[] = [];

  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  for (const [index, layerCase] of CASES.entries()) {
    it(layerCase.name, async () => {
      const channels = layerCase.channels ?? 3;
      const input = tf.input({ shape: [null, null, channels], name: 'x' });
      const model = tf.model({ inputs: input, outputs: layerCase.build(input) });
      randomizeWeights(model, 1000 + index);
      const bytes = exportLayersModel(model);
      const path = join(folder, `case-${index}.onnx`);
      writeFileSync(path, bytes);
      written.push(path);
      const ops = opTypes(bytes);
      for (const op of layerCase.expectOps ?? []) expect(ops).toContain(op);
      for (const op of layerCase.forbidOps ?? []) expect(ops).not.toContain(op);
      const session = await createCpuSession(bytes);
      const sizes = layerCase.sizes ?? [
        [9, 10],
        [16, 12],
      ];
      const report = await compareModels(
        tf,
        model,
        session,
        sizes.map(([h, w], sizeIndex) => randomInput(`${h}x${w}`, [2, channels, h, w], index * 10 + sizeIndex + 1)),
      );
      await session.release();
      for (const result of report.results) expect(result.maxAbsDiff, `${layerCase.name} on ${result.label}`).toBeLessThan(1e-5);
    });
  }

  // Runs after the cases above (tests in a file run in order): one Python process for all files.
  it('every exported file passes onnx.checker.check_model(full_check=True)', () => {
    expect(written).toHaveLength(CASES.length);
    for (const result of checkOnnxFiles(written)) expectCheckerPasses(result);
  });
});

describe('SpatialDropout2D', () => {
  // tfjs 4.22 has no SpatialDropout2D class (Keras models with it do not load in tfjs); the
  // converter still maps the class to nothing, like Dropout.
  it('passes its input through without a node', () => {
    const graph = new GraphBuilder();
    const input = graph.addInput('x', ['N', 3, 'H', 'W']);
    const layer: LayerToConvert = {
      className: 'SpatialDropout2D',
      name: 'sd',
      config: { rate: 0.5 },
      weights: new Map(),
      inputs: [input],
      inputShapes: [[null, null, null, 3]],
      outputShapes: [[null, null, null, 3]],
    };
    expect(LAYER_CONVERTERS['SpatialDropout2D']!(layer, graph)).toEqual([input]);
    expect(graph.nodes).toHaveLength(0);
  });
});

describe('unsupported options', () => {
  it('are reported with layer, class and reason, all at once', () => {
    const input = tf.input({ shape: [8, 8, 2] });
    const a = tf.layers.conv2d({ name: 'cf', filters: 2, kernelSize: 3, padding: 'same', dataFormat: 'channelsFirst' }).apply(input) as Sym;
    const b = tf.layers.batchNormalization({ name: 'rows', axis: 1 }).apply(a) as Sym;
    const model = tf.model({ inputs: input, outputs: b });
    let message = '';
    try {
      exportLayersModel(model);
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain('cf (Conv2D: dataFormat channelsFirst (only channelsLast))');
    expect(message).toContain('rows (BatchNormalization: normalization over axis 1 (only the channel axis, -1))');
    expect(message).toContain('Supported layers: InputLayer');
  });
});

describe('nested models', () => {
  it('export a model used as a layer (a Sequential block inside a functional model)', async () => {
    await tf.setBackend('cpu');
    const block = tf.sequential({
      name: 'block',
      layers: [
        tf.layers.conv2d({ inputShape: [null, null, 4], filters: 4, kernelSize: 3, padding: 'same', activation: 'relu' }),
        tf.layers.batchNormalization({}),
      ],
    });
    const input = tf.input({ shape: [null, null, 1] });
    const stem = tf.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same' }).apply(input) as Sym;
    const twice = block.apply(block.apply(stem)) as Sym; // the same block called twice (shared weights)
    const head = tf.layers.conv2d({ filters: 1, kernelSize: 1, activation: 'sigmoid' }).apply(tf.layers.add({}).apply([stem, twice])) as Sym;
    const model = tf.model({ inputs: input, outputs: head });
    randomizeWeights(model, 17);
    randomizeWeights(block, 18);
    const session = await createCpuSession(exportLayersModel(model));
    const report = await compareModels(tf, model, session, [randomInput('10x12', [2, 1, 10, 12], 5)]);
    await session.release();
    expect(report.maxAbsDiff).toBeLessThan(1e-5);
  });
});

describe('Sequential models', () => {
  it('export like functional ones', async () => {
    await tf.setBackend('cpu');
    const model = tf.sequential({
      layers: [
        tf.layers.conv2d({ inputShape: [null, null, 1], filters: 3, kernelSize: 3, padding: 'same', activation: 'relu' }),
        tf.layers.maxPooling2d({ poolSize: 2 }),
        tf.layers.upSampling2d({ size: [2, 2] }),
        tf.layers.conv2d({ filters: 1, kernelSize: 1, activation: 'sigmoid' }),
      ],
    });
    randomizeWeights(model, 3);
    const session = await createCpuSession(exportLayersModel(model));
    const report = await compareModels(tf, model, session, [randomInput('8x12', [1, 1, 8, 12], 9)]);
    expect(report.maxAbsDiff).toBeLessThan(1e-5);
  });
});
