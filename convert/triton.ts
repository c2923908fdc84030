/**
 * Triton Inference Server model repository for an ONNX file:
 *
 *   <dir>/<name>/config.pbtxt     platform onnxruntime_onnx, max_batch_size, dynamic_batching,
 *                                 inputs/outputs with names and dims read from the ONNX graph
 *   <dir>/<name>/1/model.onnx     the file itself (version 1)
 *
 * Dims follow Triton's rule: with max_batch_size > 0 the batch axis (the first, dynamic) is left
 * out; other dynamic axes are -1. Preprocessing (zero mean, unit variance per slice) and the size
 * rule (tiles of one fixed size, a multiple of the card's size step) stay with the client, as the
 * contract says; config.pbtxt says both in its comments, since a tile of another size fails inside
 * onnxruntime with an error about Concat. Instances run on the GPU unless asked otherwise (KIND_GPU:
 * Triton refuses to load the model without a usable GPU instead of serving on the CPU), and no
 * preferred_batch_size is set unless asked (Triton's advice for most models; not measured here).
 */
import { join } from 'node:path';
import { CONTRACT_PREPROCESSING, DEFAULT_DEPTH, DEFAULT_TILE, sizeMultipleFor } from '../core/contract.ts';
import { EmsegError } from '../core/errors.ts';
import { writeFileAtomic } from '../node/atomic-write.ts';
import { readOnnxSignature, type GraphValue } from './onnx-graph.ts';

export interface TritonOptions {
  /** Model name (folder name and `name:`); letters, digits, '.', '_' and '-'. Required. */
  name: string;
  /** Largest batch Triton forms. Default 8. */
  maxBatchSize?: number;
  /** How long Triton waits to fill a batch, microseconds. Default 2000. */
  maxQueueDelayMicroseconds?: number;
  /** Preferred batch sizes for dynamic batching, capped at maxBatchSize. Default: none (Triton forms any size). */
  preferredBatchSizes?: number[];
  /** instance_group kind. Default KIND_GPU. */
  instanceKind?: 'KIND_CPU' | 'KIND_GPU';
  /** Spatial size step of the model (card contract.input.sizeMultiple). Default 16 (contract). */
  sizeMultiple?: number;
  /** Tile side the emseg client sends (card tile). Default 512 (contract). */
  tile?: number;
  /** Instances per device. Default 1. */
  instanceCount?: number;
}

export interface TritonRepository {
  modelDir: string;
  configPath: string;
  modelPath: string;
  config: string;
}

function tensorBlock(value: GraphValue, batched: boolean, where: string): string {
  const dims = batched ? value.shape.slice(1) : value.shape;
  if (batched && typeof value.shape[0] === 'number') {
    throw new EmsegError('E_MODEL', `${where} ${value.name}: the batch axis is fixed to ${value.shape[0]}; Triton batching needs it dynamic`);
  }
  const text = dims.map((dim) => (typeof dim === 'number' ? String(dim) : '-1')).join(', ');
  return ['  {', `    name: "${value.name}"`, '    data_type: TYPE_FP32', `    dims: [ ${text} ]`, '  }'].join('\n');
}

/** The config.pbtxt text for the ONNX bytes. */
export function tritonConfig(onnxBytes: Uint8Array, options: TritonOptions): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(options.name)) {
    throw new EmsegError('E_BAD_ARGUMENT', `--name ${options.name}: a Triton model name may hold letters, digits, '.', '_' and '-' only`);
  }
  const maxBatchSize = options.maxBatchSize ?? 8;
  if (!Number.isInteger(maxBatchSize) || maxBatchSize < 1) {
    throw new EmsegError('E_BAD_ARGUMENT', `--max-batch-size: expected a positive integer, found ${maxBatchSize}`);
  }
  const preferred = (options.preferredBatchSizes ?? []).filter((size) => size <= maxBatchSize);
  const multiple = options.sizeMultiple ?? sizeMultipleFor(DEFAULT_DEPTH);
  const tile = options.tile ?? DEFAULT_TILE;
  const signature = readOnnxSignature(onnxBytes);
  const lines = [
    `# Triton model configuration written by emseg export-package.`,
    `# Input preprocessing is the client's job: ${CONTRACT_PREPROCESSING}.`,
    `# Output: probability of cell interior per pixel; mask = probability >= threshold (model card).`,
    `# Sizes: send tiles of one fixed size whose height and width are multiples of ${multiple}, e.g.`,
    `# ${tile}x${tile} (the card's tile): other sizes fail inside onnxruntime (a Concat error). Mirror-pad`,
    `# smaller images, cut larger ones into overlapping tiles and blend them; the emseg client does`,
    `# this (core/inference.ts segmentImage with a predictor that calls Triton).`,
    `name: "${options.name}"`,
    'platform: "onnxruntime_onnx"',
    `max_batch_size: ${maxBatchSize}`,
    'input [',
    signature.inputs.map((value) => tensorBlock(value, true, 'input')).join(',\n'),
    ']',
    'output [',
    signature.outputs.map((value) => tensorBlock(value, true, 'output')).join(',\n'),
    ']',
    'dynamic_batching {',
    ...(preferred.length > 0 ? [`  preferred_batch_size: [ ${preferred.join(', ')} ]`] : []),
    `  max_queue_delay_microseconds: ${options.maxQueueDelayMicroseconds ?? 2000}`,
    '}',
    'instance_group [',
    '  {',
    `    count: ${options.instanceCount ?? 1}`,
    `    kind: ${options.instanceKind ?? 'KIND_GPU'}`,
    '  }',
    ']',
  ];
  return `${lines.join('\n')}\n`;
}

/** Where a model named `name` goes in the Triton repository `dir`. */
export function tritonRepositoryPaths(dir: string, name: string): { modelDir: string; configPath: string; modelPath: string } {
  const modelDir = join(dir, name);
  return { modelDir, configPath: join(modelDir, 'config.pbtxt'), modelPath: join(modelDir, '1', 'model.onnx') };
}

/** Writes `<dir>/<name>/config.pbtxt` and `<dir>/<name>/1/model.onnx` (each atomically). */
export async function writeTritonRepository(onnxBytes: Uint8Array, dir: string, options: TritonOptions & { inputs?: string[] }): Promise<TritonRepository> {
  const config = tritonConfig(onnxBytes, options);
  const { modelDir, configPath, modelPath } = tritonRepositoryPaths(dir, options.name);
  const inputs = options.inputs ?? [];
  await writeFileAtomic(modelPath, onnxBytes, { inputs });
  await writeFileAtomic(configPath, config, { inputs });
  return { modelDir, configPath, modelPath, config };
}
