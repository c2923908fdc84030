/**
 * `emseg convert` as a function: tfjs Layers model folder -> models/<name>.onnx + models/<name>.json.
 * The card takes the evaluation figures (`metricsPath`) and the cell parameters (`cellsPath`) when given.
 *
 *   load (tfjs, backend chosen by the caller) -> ONNX graph -> parity check (tfjs vs
 *   onnxruntime-node on a real ISBI slice and random inputs of two sizes; E_MODEL above the
 *   tolerance) -> model card with the parity figure in the ONNX metadata -> both files written
 *   atomically, the card JSON with the sha256 of the ONNX file; the training run's config.json
 *   and train.log.jsonl copied beside them as <name>.train-config.json / <name>.train.log.jsonl.
 */
import { readFileSync } from 'node:fs';
import { basename, extname, join, dirname } from 'node:path';
import type * as tfType from '@tensorflow/tfjs';
import { CONTRACT_PREPROCESSING, INPUT_NAME, MODEL_CARD_METADATA_KEY, OUTPUT_NAME, sizeMultipleFor, type ModelCard } from '../core/contract.ts';
import { EmsegError } from '../core/errors.ts';
import { writeFileAtomic } from '../node/atomic-write.ts';
import { refuseExistingOutputs, type PlannedOutput } from '../node/existing-outputs.ts';
import { cardPathFor, siblingPath } from '../node/model-card-file.ts';
import { sha256Hex } from '../node/sha256.ts';
import { buildModelCard, modelCardMetadata } from './model-card.ts';
import { encodeOnnxModel, type GraphBuilder } from './onnx-graph.ts';
import {
  PARITY_TOLERANCE,
  assertParity,
  compareModels,
  createCpuSession,
  maxAbsDifference,
  randomInput,
  runOnnx,
  type ParityInput,
  type ParityReport,
} from './parity.ts';
import { buildOnnxGraph } from './tfjs-to-onnx.ts';
import { loadTfjsModelDir, modelJsonPath } from './tfjs-model-dir.ts';
import { cardServing } from './card-threshold.ts';
import { findTrainingConfig, findTrainingLog, readCellsSection, readMetricsInfo, readTrainingInfo } from './training-info.ts';

export interface ConvertOptions {
  /** tfjs with its backend already chosen (the CLI picks one; tests use 'cpu'). */
  tf: typeof tfType;
  /** Folder with model.json and weight files (or the model.json itself). */
  modelDir: string;
  /** Output ONNX path, e.g. models/isbi2012-unet.onnx; the card goes beside it as .json. */
  output: string;
  /** Model name in the card. Default: the output file name without .onnx. */
  name?: string;
  /** Mask threshold for the card. Default: chosen by the evaluation of `metricsPath`, else by the training run's validation, else the contract's 0.5 (convert/card-threshold.ts). */
  threshold?: number;
  /** Whether servers, predict and the web demo use 8-fold test-time augmentation by default. Default: not set (off). */
  tta?: boolean;
  /** `emseg evaluate` JSON whose figures go into the card. Default: none. */
  metricsPath?: string;
  /** JSON with the card's `cells` section (`npm run bench:seeds` writes one). Default: none (the built-in defaults apply). */
  cellsPath?: string;
  /** The training run's config.json. Default: found next to the model folder, if any. */
  trainingConfigPath?: string;
  /** Real-data parity inputs (e.g. the normalized ISBI slice 0, see isbi-slice.ts). Default: none. */
  realInputs?: ParityInput[];
  /**
   * Random parity input sizes [height, width] (rounded up to the model's size multiple).
   * Default [[64, 64], [96, 160]] with batch 2 and 1.
   */
  randomSizes?: [number, number][];
  /** Largest allowed absolute difference tfjs vs onnxruntime. Default 1e-4. */
  tolerance?: number;
  /** The command line, recorded in the card. */
  command?: string;
  /** Name of the tfjs backend used as the parity oracle, recorded in the card. Default tf.getBackend(). */
  backendName?: string;
  /** Model version for the card. Default '0.1.0'. */
  version?: string;
  description?: string;
  /** Progress lines. Default: silent. */
  log?: (line: string) => void;
  /** Replace outputs that exist (the ONNX file, its card, the copies of the run's config and log); otherwise E_OUTPUT_EXISTS before anything is loaded. Default false. */
  force?: boolean;
}

export interface ConvertResult {
  onnxPath: string;
  cardPath: string;
  card: ModelCard;
  sha256: string;
  parity: ParityReport;
  bytes: Uint8Array;
}

export { cardPathFor, siblingPath, sha256Hex };

const roundUp = (value: number, multiple: number) => Math.ceil(value / multiple) * multiple;

/**
 * The contract's shape of the model (CONVENTIONS.md): one grey channel in, one probability
 * channel out at the input's size, sigmoid as the last op. Anything else would make the card lie.
 */
function assertContract(model: tfType.LayersModel, graph: GraphBuilder, where: string): void {
  const problems: string[] = [];
  const inputShape = model.inputs[0]!.shape;
  const outputShape = model.outputs[0]!.shape;
  if (inputShape[3] !== 1) problems.push(`input has ${inputShape[3]} channels (expected 1)`);
  if (outputShape[3] !== 1) problems.push(`output has ${outputShape[3]} channels (expected 1)`);
  const output = graph.outputs[0];
  const keepsHeight = output?.shape[2] === 'H' || output?.shape[2] === inputShape[1];
  const keepsWidth = output?.shape[3] === 'W' || output?.shape[3] === inputShape[2];
  if (!keepsHeight || !keepsWidth) {
    problems.push('output size differs from the input size');
  }
  const last = graph.nodes.find((node) => node.outputs.includes(OUTPUT_NAME));
  if (last?.opType !== 'Sigmoid') problems.push(`last op is ${last?.opType ?? 'none'} (expected Sigmoid: the output is a probability)`);
  if (problems.length > 0) {
    throw new EmsegError('E_MODEL', `${where}: the model does not follow the emseg model contract: ${problems.join('; ')}`);
  }
}

export async function convertModel(options: ConvertOptions): Promise<ConvertResult> {
  const { tf, output } = options;
  const log = options.log ?? (() => undefined);
  if (extname(output).toLowerCase() !== '.onnx') {
    throw new EmsegError('E_BAD_ARGUMENT', `-o/--output ${output}: expected a path ending in .onnx`);
  }
  const name = options.name ?? basename(output, extname(output));
  const cardPath = cardPathFor(output);
  const jsonPath = modelJsonPath(options.modelDir);
  const trainingConfig = options.trainingConfigPath ?? findTrainingConfig(options.modelDir);
  const trainingLog = trainingConfig ? findTrainingLog(trainingConfig) : undefined;
  const planned: PlannedOutput[] = [
    { path: output, flag: '-o' },
    { path: cardPath, flag: '-o (its card)' },
    ...(trainingConfig ? [{ path: siblingPath(output, '.train-config.json'), flag: "-o (the run's config, copied)" }] : []),
    ...(trainingLog ? [{ path: siblingPath(output, '.train.log.jsonl'), flag: "-o (the run's log, copied)" }] : []),
  ];
  await refuseExistingOutputs(planned, options.force === true);

  log(`loading ${jsonPath}`);
  const model = await loadTfjsModelDir(tf, options.modelDir);
  try {
    const trainingRead = trainingConfig ? readTrainingInfo(trainingConfig) : undefined;
    const metrics = options.metricsPath ? readMetricsInfo(options.metricsPath) : undefined;
    const serving = cardServing({ ...(options.threshold !== undefined ? { threshold: options.threshold } : {}), ...(options.tta !== undefined ? { tta: options.tta } : {}), ...(metrics ? { metrics } : {}), ...(trainingRead ? { training: trainingRead } : {}) });
    log(`threshold ${serving.threshold}${serving.tta !== undefined && options.tta === undefined ? `, ${serving.tta ? 'TTA' : 'plain'} served` : ''}: ${serving.source}`);
    const training = trainingRead && serving.trainingReason ? { ...trainingRead, thresholdChoice: serving.trainingReason } : trainingRead;
    const trainingPixelSize = trainingRead?.['trainingPixelSize'];
    const cells = options.cellsPath ? readCellsSection(options.cellsPath) : undefined;
    const graph = buildOnnxGraph(model);
    assertContract(model, graph, jsonPath);
    log(`ONNX graph: ${graph.nodes.length} nodes, ${graph.initializers.length} initializers`);

    const cardBase = {
      name,
      ...(options.version !== undefined ? { version: options.version } : {}),
      ...(options.description !== undefined ? { description: options.description } : {}),
      threshold: serving.threshold,
      ...(options.tta !== undefined ? { tta: options.tta } : serving.tta !== undefined ? { tta: serving.tta } : {}),
      ...(training ? { training } : {}),
      ...(typeof trainingPixelSize === 'number' ? { trainingPixelSize } : {}),
      ...(metrics ? { metrics } : {}),
      ...(cells ? { cells } : {}),
    };
    const draftCard = buildModelCard(model, cardBase);

    // Parity on the graph as it will be written (the metadata does not change the computation).
    const multiple = sizeMultipleFor(draftCard.architecture.depth);
    const channels = (model.inputs[0]?.shape[3] as number | null) ?? 1;
    const randomSizes = options.randomSizes ?? [
      [64, 64],
      [96, 160],
    ];
    const inputs: ParityInput[] = [
      ...(options.realInputs ?? []),
      ...randomSizes.map(([h, w], index): ParityInput => {
        const height = roundUp(h, multiple);
        const width = roundUp(w, multiple);
        const batch = index === 0 ? 2 : 1;
        return randomInput(`random ${batch}x${height}x${width}`, [batch, channels, height, width], 1 + index);
      }),
    ];
    const docString = `emseg ${name}: U-Net, input ${INPUT_NAME} float32 [N,1,H,W] (H, W multiples of ${multiple}), output ${OUTPUT_NAME} float32 [N,1,H,W]; ${CONTRACT_PREPROCESSING}. Model card in metadata_props ${MODEL_CARD_METADATA_KEY}.`;
    const draftBytes = encodeOnnxModel(graph, { graphName: name, docString, metadata: modelCardMetadata(draftCard) });
    const session = await createCpuSession(draftBytes);
    let parity: ParityReport;
    let draftOutput: Float32Array;
    const probe = inputs[inputs.length - 1]!;
    try {
      log(`parity check on ${inputs.map((input) => input.label).join(', ')}`);
      parity = await compareModels(tf, model, session, inputs);
      draftOutput = (await runOnnx(session, probe)).data;
    } finally {
      await session.release();
    }
    for (const result of parity.results) log(`  ${result.label}: max |tfjs - onnxruntime| = ${result.maxAbsDiff.toExponential(2)}`);
    const backend = options.backendName ?? tf.getBackend();
    try {
      assertParity(parity, options.tolerance ?? PARITY_TOLERANCE);
    } catch (error) {
      const hint = backend === 'cpu' ? '' : `; the tfjs oracle ran on the ${backend} backend, --backend cpu uses tfjs' reference kernels`;
      throw new EmsegError('E_MODEL', `${jsonPath}: ${(error as Error).message}${hint}; nothing written`, { cause: error });
    }

    const card = buildModelCard(model, {
      ...cardBase,
      conversion: {
        ...(options.command !== undefined ? { command: options.command } : {}),
        parityMaxAbsDiff: parity.maxAbsDiff,
        paritySizes: parity.results.map((result) => `${result.label}: ${result.maxAbsDiff.toExponential(2)} (tfjs ${backend} vs onnxruntime-node cpu)`),
      },
    });
    const bytes = encodeOnnxModel(graph, { graphName: name, docString, metadata: modelCardMetadata(card) });
    // The final bytes differ from the checked ones only in the metadata: they must compute the same.
    const finalSession = await createCpuSession(bytes);
    try {
      const finalOutput = (await runOnnx(finalSession, probe)).data;
      if (maxAbsDifference(finalOutput, draftOutput) !== 0) throw new EmsegError('E_MODEL', `${output}: the final ONNX bytes compute differently from the checked draft`);
    } finally {
      await finalSession.release();
    }
    const sha256 = sha256Hex(bytes);
    const inputsToProtect = [jsonPath, ...(options.metricsPath ? [options.metricsPath] : []), ...(options.cellsPath ? [options.cellsPath] : []), ...(trainingConfig ? [trainingConfig] : [])];
    await writeFileAtomic(output, bytes, { inputs: inputsToProtect });
    const cardWithHash: ModelCard = { ...card, sha256 };
    await writeFileAtomic(cardPath, `${JSON.stringify(cardWithHash, null, 2)}\n`, { inputs: inputsToProtect });
    log(`wrote ${output} (${bytes.byteLength} bytes, sha256 ${sha256}) and ${cardPath}`);
    // The run's config and log travel with the model (emseg evaluate finds them as <name>.train-*).
    if (trainingConfig) {
      const copies: [string, string][] = [[trainingConfig, siblingPath(output, '.train-config.json')]];
      if (trainingLog) copies.push([trainingLog, siblingPath(output, '.train.log.jsonl')]);
      for (const [from, to] of copies) {
        await writeFileAtomic(to, readFileSync(from), { inputs: inputsToProtect });
        log(`copied ${from} to ${to}`);
      }
    }
    return { onnxPath: output, cardPath, card: cardWithHash, sha256, parity, bytes };
  } finally {
    model.dispose();
  }
}
