/**
 * Calibration: the ranges of activation tensors observed while the float model runs on real
 * slices. The tensors are made extra graph outputs of a copy of the float graph, which
 * onnxruntime-node (CPU) runs on each calibration slice, normalized and mirror-padded as the
 * contract says. The statistic is the plain minimum and maximum over all slices: the network's
 * activations are ReLU outputs whose largest values mark strong membrane / interior responses,
 * so clipping them (a percentile) would saturate exactly the confident pixels; with 256 levels
 * over [0, max] the step is still below 1% of the range. Only the slices asked for are read.
 */
import * as ort from 'onnxruntime-node';
import { INPUT_NAME } from '../../core/contract.ts';
import { EmsegError } from '../../core/errors.ts';
import type { GreyImage } from '../../core/image.ts';
import { normalizedImage } from '../../core/normalize.ts';
import { padToMultiple } from '../../core/padding.ts';
import { readImageFile } from '../../node/image-files.ts';
import { inferenceCores } from '../../node/inference-cores.ts';
import { encodeOnnxModel } from '../onnx-graph.ts';
import { importOnnxGraph } from '../onnx-graph-import.ts';
import type { TensorRange } from './qdq-graph.ts';

/** Where calibration slices come from (a stack file; tests pass their own and count the reads). */
export interface SliceSource {
  /** Names the data in the card and in errors, e.g. data/isbi2012/train-volume.tif. */
  label: string;
  pageCount: number;
  read(index: number): Promise<GreyImage>;
}

/** A TIFF stack (or a single image as page 0) as a SliceSource; the file is decoded once. */
export async function stackSliceSource(path: string): Promise<SliceSource> {
  const stack = await readImageFile(path);
  return {
    label: path,
    pageCount: stack.pages.length,
    read: async (index) => {
      const page = stack.pages[index];
      if (!page) throw new EmsegError('E_BAD_ARGUMENT', `--calibration-slices: ${path} has no slice ${index}`);
      return page;
    },
  };
}

/** The slice as the model sees it: normalized over the whole slice, mirror-padded to the size multiple, NCHW. */
export function modelInput(image: GreyImage, sizeMultiple: number): ort.Tensor {
  const { padded } = padToMultiple(normalizedImage(image), sizeMultiple);
  return new ort.Tensor('float32', padded.data, [1, 1, padded.height, padded.width]);
}

/** The float model with `tensors` as extra outputs (rank-4 float, as every activation of an emseg U-Net). */
export function exposeTensors(bytes: Uint8Array, tensors: readonly string[], what: string): Uint8Array {
  const { graph, graphName, docString } = importOnnxGraph(bytes, what);
  for (const tensor of tensors) {
    if (graph.outputs.some((output) => output.name === tensor)) continue;
    graph.valueInfos.delete(tensor);
    graph.addOutput(tensor, [null, null, null, null]);
  }
  return encodeOnnxModel(graph, { graphName, docString });
}

function updateRange(range: TensorRange, data: Float32Array): void {
  let { min, max } = range;
  for (let i = 0; i < data.length; i++) {
    const value = data[i]!;
    if (value < min) min = value;
    if (value > max) max = value;
  }
  range.min = min;
  range.max = max;
}

export interface CalibrationOptions {
  /** The float model as written by `emseg convert`. */
  bytes: Uint8Array;
  /** Names the model in errors. */
  what: string;
  tensors: readonly string[];
  source: SliceSource;
  slices: readonly number[];
  sizeMultiple: number;
  log?: (line: string) => void;
}

/** Min and max of every tensor over the calibration slices. */
export async function calibrateRanges(options: CalibrationOptions): Promise<Map<string, TensorRange>> {
  const { source, slices } = options;
  if (slices.length === 0) throw new EmsegError('E_BAD_ARGUMENT', '--calibration-slices: no slices given');
  const outside = slices.filter((index) => !Number.isInteger(index) || index < 0 || index >= source.pageCount);
  if (outside.length > 0) {
    throw new EmsegError('E_BAD_ARGUMENT', `--calibration-slices: slice ${outside[0]} is out of range, ${source.label} has slices 0-${source.pageCount - 1}`);
  }
  const ranges = new Map(options.tensors.map((tensor): [string, TensorRange] => [tensor, { min: Number.POSITIVE_INFINITY, max: Number.NEGATIVE_INFINITY }]));
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(exposeTensors(options.bytes, options.tensors, options.what), { executionProviders: ['cpu'], graphOptimizationLevel: 'all', intraOpNumThreads: inferenceCores() });
  } catch (error) {
    throw new EmsegError('E_MODEL', `${options.what}: onnxruntime cannot load the calibration graph (${(error as Error).message.split('\n')[0]})`, { cause: error });
  }
  try {
    for (const index of slices) {
      const input = modelInput(await source.read(index), options.sizeMultiple);
      const results = await session.run({ [INPUT_NAME]: input }, [...options.tensors]);
      for (const [tensor, range] of ranges) {
        const value = results[tensor];
        if (!value) throw new Error(`calibration: the session returned no ${tensor}`);
        updateRange(range, value.data as Float32Array);
        value.dispose();
      }
      options.log?.(`  calibration slice ${index}`);
    }
  } finally {
    await session.release();
  }
  return ranges;
}
