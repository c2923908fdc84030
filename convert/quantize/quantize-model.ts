/**
 * `emseg quantize` as a function: a float emseg U-Net (models/<name>.onnx, as `emseg convert`
 * writes it) -> its int8 variant (QDQ) with its own card, both written atomically.
 *
 *   read + check the contract -> fold batch norms -> up-sampling ConvTranspose as 1x1 Conv +
 *   DepthToSpace -> plan (every convolution int8 but the first, the head and the ones named
 *   float) -> calibrate activation ranges on training slices (the rewritten float graph in
 *   onnxruntime-node) -> QuantizeLinear/DequantizeLinear pairs, int8 per-channel weights, int32
 *   bias -> load the result in onnxruntime-node and compare it with the float model on the first
 *   calibration slice -> card (parent's card, `quantization` added, metrics dropped: they were
 *   measured on the parent) -> files.
 *
 * The file keeps the contract: IR 8, opset 17, input `image` float32 [N,1,H,W], output
 * `probability` float32 [N,1,H,W], so every consumer runs it unchanged.
 */
import { readFile } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import * as ort from 'onnxruntime-node';
import {
  INPUT_NAME,
  MODEL_CARD_METADATA_KEY,
  ONNX_IR_VERSION,
  ONNX_OPSET,
  OUTPUT_NAME,
  sizeMultipleFor,
  type ModelCard,
} from '../../core/contract.ts';
import { EmsegError } from '../../core/errors.ts';
import { formatSliceList } from '../../core/slice-list.ts';
import { modelCardMetadata, parseModelCard } from '../../core/model-card.ts';
import { writeFileAtomic } from '../../node/atomic-write.ts';
import { refuseExistingOutputs } from '../../node/existing-outputs.ts';
import { cardPathFor, findModelCard } from '../../node/model-card-file.ts';
import { inferenceCores } from '../../node/inference-cores.ts';
import { sha256Hex } from '../../node/sha256.ts';
import { encodeOnnxModel } from '../onnx-graph.ts';
import { importOnnxGraph, type ImportedGraph } from '../onnx-graph-import.ts';
import { calibrateRanges, modelInput, type SliceSource } from './calibrate.ts';
import { applyQuantization, calibrationTensors, floatOperations, foldBatchNorms, planQuantization, upsamplingAsDepthToSpace } from './qdq-graph.ts';
import type { ActivationType } from './quantize-math.ts';

export interface QuantizeOptions {
  /** The float ONNX file (an emseg U-Net with its card: in the metadata, else <name>.json beside it). */
  model: string;
  /** Output ONNX path, e.g. models/isbi2012-unet.int8.onnx; the card goes beside it as .json. */
  output: string;
  /** Where the calibration slices come from. */
  source: SliceSource;
  /** Calibration slices (training slices only). Default: the card's training split, else DEFAULT_CALIBRATION_SLICES. */
  slices?: readonly number[];
  /** Activation type. Default 'uint8' (onnxruntime's fastest x86 path: uint8 activations x int8 weights). */
  activations?: ActivationType;
  /** Conv / ConvTranspose node names kept float besides the first (on the image) and the head (before the sigmoid), which always are. Default none. */
  floatConvs?: readonly string[];
  /** Whether ConvTranspose with kernel = stride becomes a 1x1 Conv + DepthToSpace (int8 in onnxruntime). Default true. */
  depthToSpace?: boolean;
  /** Whether ConvTranspose gets QDQ too (then every Concat input is 8-bit and onnxruntime fuses QLinearConcat; measured faster). Default true. */
  convTranspose?: boolean;
  /** Model name in the card. Default: the output file name without .onnx. */
  name?: string;
  /** The command line, recorded in the card. */
  command?: string;
  log?: (line: string) => void;
  /** Replace the output and its card when they exist; otherwise E_OUTPUT_EXISTS before any work. Default false. */
  force?: boolean;
}

/** Calibration slices when neither the caller nor the model card names the training slices (the default model's split since issue 15). */
export const DEFAULT_CALIBRATION_SLICES: readonly number[] = Array.from({ length: 23 }, (_, index) => index);

export interface QuantizeResult {
  onnxPath: string;
  cardPath: string;
  card: ModelCard;
  sha256: string;
  bytes: Uint8Array;
}

/**
 * One E_MODEL line naming everything in which the file is not a float emseg U-Net of the contract.
 * Its card comes from the one reader, node/model-card-file.ts findModelCard (the metadata's, else
 * the JSON beside the file; checked against the schema).
 */
function checkContract(imported: ImportedGraph, bytes: Uint8Array, what: string): { card: ModelCard; head: string } {
  const { graph } = imported;
  const problems: string[] = [];
  const input = graph.inputs.find((value) => value.name === INPUT_NAME);
  if (graph.inputs.length !== 1 || !input) problems.push(`inputs ${graph.inputs.map((value) => value.name).join(', ') || 'none'} (expected one, ${INPUT_NAME})`);
  else if (input.shape.length !== 4 || input.shape[1] !== 1) problems.push(`input ${INPUT_NAME} of shape [${input.shape.join(', ')}] (expected [N, 1, H, W])`);
  if (graph.outputs.length !== 1 || graph.outputs[0]!.name !== OUTPUT_NAME) {
    problems.push(`outputs ${graph.outputs.map((value) => value.name).join(', ') || 'none'} (expected one, ${OUTPUT_NAME})`);
  }
  const last = graph.nodes.find((node) => node.outputs.includes(OUTPUT_NAME));
  if (last?.opType !== 'Sigmoid') problems.push(`${OUTPUT_NAME} comes from ${last?.opType ?? 'no node'} (expected Sigmoid)`);
  const head = last ? graph.nodes.find((node) => node.outputs.includes(last.inputs[0] ?? '')) : undefined;
  if (head && head.opType !== 'Conv') problems.push(`the sigmoid's input comes from ${head.opType} (expected Conv)`);
  if (graph.nodes.some((node) => node.opType === 'QuantizeLinear' || node.opType === 'DequantizeLinear')) problems.push('it is quantized already');
  if (imported.irVersion !== ONNX_IR_VERSION || imported.opset !== ONNX_OPSET) {
    problems.push(`IR ${imported.irVersion} / opset ${imported.opset} (expected IR ${ONNX_IR_VERSION} / opset ${ONNX_OPSET})`);
  }
  let card: ModelCard | undefined;
  try {
    card = findModelCard(what, bytes)?.card;
  } catch (error) {
    problems.push((error as Error).message);
  }
  if (!card && problems.length === 0) problems.push(`no model card (no ${MODEL_CARD_METADATA_KEY} metadata, no ${cardPathFor(what)})`);
  if (problems.length > 0 || !card || !head) {
    throw new EmsegError('E_MODEL', `${what}: not a float emseg U-Net of the model contract: ${problems.join('; ')}`);
  }
  return { card, head: head.name };
}

async function compareWithParent(parent: Uint8Array, child: Uint8Array, input: ort.Tensor, threshold: number, what: string) {
  const run = async (bytes: Uint8Array, label: string) => {
    let session: ort.InferenceSession;
    try {
      session = await ort.InferenceSession.create(bytes, { executionProviders: ['cpu'], graphOptimizationLevel: 'all', intraOpNumThreads: inferenceCores() });
    } catch (error) {
      throw new EmsegError('E_MODEL', `${label}: onnxruntime cannot load it (${(error as Error).message.split('\n')[0]})`, { cause: error });
    }
    try {
      const output = (await session.run({ [INPUT_NAME]: input }))[OUTPUT_NAME];
      if (!output || output.type !== 'float32' || output.dims.join('x') !== input.dims.join('x')) {
        throw new EmsegError('E_MODEL', `${label}: ${OUTPUT_NAME} is ${output ? `${output.type} [${output.dims.join(', ')}]` : 'missing'} (expected float32 [${input.dims.join(', ')}])`);
      }
      return output.data as Float32Array;
    } finally {
      await session.release();
    }
  };
  const expected = await run(parent, what);
  const actual = await run(child, `the int8 model of ${what}`);
  let max = 0;
  let sum = 0;
  let agree = 0;
  for (let i = 0; i < expected.length; i++) {
    const diff = Math.abs(expected[i]! - actual[i]!);
    max = Math.max(max, diff);
    sum += diff;
    if (expected[i]! >= threshold === actual[i]! >= threshold) agree++;
  }
  return { maxAbsDiff: max, meanAbsDiff: sum / expected.length, maskAgreement: agree / expected.length };
}

export async function quantizeModel(options: QuantizeOptions): Promise<QuantizeResult> {
  const log = options.log ?? (() => undefined);
  const { output, model: what } = options;
  if (extname(output).toLowerCase() !== '.onnx') throw new EmsegError('E_BAD_ARGUMENT', `-o/--output ${output}: expected a path ending in .onnx`);
  await refuseExistingOutputs([{ path: output, flag: '-o' }, { path: cardPathFor(output), flag: '-o (its card)' }], options.force === true);
  let parentBytes: Uint8Array;
  try {
    parentBytes = new Uint8Array(await readFile(what));
  } catch (error) {
    throw new EmsegError('E_NOT_FOUND', `${what}: cannot read the model (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`, { cause: error });
  }
  const imported = importOnnxGraph(parentBytes, what);
  const { card: parentCard, head } = checkContract(imported, parentBytes, what);
  const trainSlices = parentCard.training?.split.train ?? [];
  const slices = options.slices ?? (trainSlices.length > 0 ? trainSlices : DEFAULT_CALIBRATION_SLICES);
  const validation = parentCard.training?.split.validation ?? [];
  const leaking = slices.filter((index) => validation.includes(index));
  if (leaking.length > 0) {
    throw new EmsegError('E_BAD_ARGUMENT', `--calibration-slices: ${leaking.join(', ')} are validation slices of ${parentCard.name} (calibrate on its training slices only)`);
  }
  const activations = options.activations ?? 'uint8';
  const { graph } = imported;
  const folded = foldBatchNorms(graph);
  const upsampling = options.depthToSpace === false ? 0 : upsamplingAsDepthToSpace(graph);
  // The Conv on the image stays float: one input channel gives int8 kernels nothing to gain (it was
  // slower in int8 here) and quantizing the image itself cost V_rand; the head feeds the float sigmoid.
  const first = graph.nodes.filter((node) => node.opType === 'Conv' && node.inputs[0] === INPUT_NAME).map((node) => node.name);
  const plan = planQuantization(graph, { floatConvs: [...new Set([...first, head, ...(options.floatConvs ?? [])])], convTranspose: options.convTranspose ?? true });
  log(`${what}: ${plan.int8Convs.length} convolutions to int8 (${plan.floatConvs.join(', ')} float)${folded > 0 ? `, ${folded} batch norms folded` : ''}${upsampling > 0 ? `, ${upsampling} ConvTranspose as Conv + DepthToSpace` : ''}`);

  const sizeMultiple = sizeMultipleFor(parentCard.architecture.depth);
  log(`calibrating ${plan.tensors.size} activations on ${options.source.label} slices ${formatSliceList(slices)}`);
  // Calibrated on the float graph as rewritten (folded, up-sampling as DepthToSpace): its tensors are the ones quantized.
  const floatBytes = encodeOnnxModel(graph, { graphName: imported.graphName, docString: imported.docString });
  const ranges = await calibrateRanges({ bytes: floatBytes, what, tensors: calibrationTensors(plan), source: options.source, slices, sizeMultiple, log });
  applyQuantization(graph, plan, ranges, activations);

  const name = options.name ?? basename(output, extname(output));
  const { metrics: _parentMetrics, conversion: _parentConversion, sha256: _parentHash, ...inherited } = parentCard;
  const quantization: NonNullable<ModelCard['quantization']> = {
    method:
      'static post-training quantization by emseg quantize, QDQ format (QuantizeLinear/DequantizeLinear); onnxruntime CPU fuses the groups into QLinearConv, QLinearConcat and 8-bit MaxPool / DepthToSpace, and runs a ConvTranspose (none by default: rewritten as 1x1 Conv + DepthToSpace) in float between its DequantizeLinear and QuantizeLinear',
    weights: 'int8, per output channel, symmetric (zero point 0, -127..127)',
    activations: `${activations}, per tensor, asymmetric, range containing 0`,
    calibration: { data: options.source.label, slices: [...slices], statistic: 'min and max over all calibration slices' },
    int8Convs: plan.int8Convs,
    floatOps: floatOperations(graph, plan),
    parent: { name: parentCard.name, sha256: sha256Hex(parentBytes) },
    ...(options.command !== undefined ? { command: options.command } : {}),
  };
  const draft = encodeOnnxModel(graph, { graphName: name, docString: `${imported.docString} int8 (QDQ) variant of ${parentCard.name}.`.trim() });
  const probeSlice = slices[0]!;
  const comparison = await compareWithParent(parentBytes, draft, modelInput(await options.source.read(probeSlice), sizeMultiple), parentCard.threshold, what);
  log(`int8 vs float on slice ${probeSlice}: max |diff| ${comparison.maxAbsDiff.toExponential(2)}, mean ${comparison.meanAbsDiff.toExponential(2)}, mask agreement ${(comparison.maskAgreement * 100).toFixed(3)}%`);
  const card = parseModelCard(
    {
      ...inherited,
      name,
      description: `int8 variant of ${parentCard.name} for CPU serving (emseg quantize).`,
      quantization: { ...quantization, comparedWithParent: { slice: probeSlice, ...comparison } },
    },
    `model card of ${name}`,
  );
  const bytes = encodeOnnxModel(graph, { graphName: name, docString: `${imported.docString} int8 (QDQ) variant of ${parentCard.name}.`.trim(), metadata: modelCardMetadata(card) });
  const sha256 = sha256Hex(bytes);
  const cardPath = cardPathFor(output);
  await writeFileAtomic(output, bytes, { inputs: [what] });
  await writeFileAtomic(cardPath, `${JSON.stringify({ ...card, sha256 }, null, 2)}\n`, { inputs: [what, cardPathFor(what)] });
  log(`wrote ${output} (${bytes.byteLength} bytes, sha256 ${sha256}) and ${cardPath}`);
  return { onnxPath: output, cardPath, card: { ...card, sha256 }, sha256, bytes };
}
