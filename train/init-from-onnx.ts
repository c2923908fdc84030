/**
 * `emseg train --init <model.onnx>`: start training from the weights of an emseg ONNX model (the
 * shipped one or any fine-tuned descendant) instead of random ones.
 *
 * The exporter (convert/layers/conv.ts, normalization.ts) writes every tfjs weight
 * `<layer>/<kind>` as the initializer `<layer>_<kind>` (moving_mean -> `_mean`, moving_variance ->
 * `_variance`), kernels moved from tfjs' [kh, kw, in, out] (Conv2D) or [kh, kw, out, in]
 * (Conv2DTranspose) to ONNX's OIHW or IOHW by the permutation [3, 2, 0, 1]; this module applies
 * the inverse permutation [2, 3, 1, 0]. The architecture is read from the initializers (depth =
 * number of `enc<l>_conv1_kernel`, base filters = output channels of `enc1_conv1_kernel`, batch
 * norm = `enc1_bn1_gamma` present) and must equal the one asked for; anything else (not ONNX,
 * not the contract's input/output names, a missing or misshapen weight) is one EmsegError line,
 * raised before the training loop writes anything. The parent's card is read and checked as every
 * part reads a card (node/model-card-file.ts): a bad one is refused, naming the file and the field.
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import onnxProto from 'onnx-proto';
import { trainingPixelSizeOf } from '../core/card-options.ts';
import { INPUT_NAME, OUTPUT_NAME, type ModelCard } from '../core/contract.ts';
import { EmsegError } from '../core/errors.ts';
import { decodeOnnxModel } from '../core/onnx-model.ts';
import { transposeArray } from '../core/transpose.ts';
import { findModelCard } from '../node/model-card-file.ts';
import { sha256Hex } from '../node/sha256.ts';
import type { EngineState } from './engine.ts';
import type { ResolvedUNetOptions } from './unet.ts';

const FLOAT = 1;

/** The parent model as the child's card names it. */
export interface ParentModelInfo {
  /** Name from the parent's card (or the file stem when it has none). */
  name: string;
  /** sha256 of the ONNX file. */
  sha256: string;
  /** The path given to --init. */
  path: string;
  /** The parent card's training data, when it says. */
  data?: string;
  /** The parent card's training pixel size in nm, when it says. */
  trainingPixelSize?: number;
}

export interface ParentModel {
  info: ParentModelInfo;
  card?: ModelCard;
  architecture: { depth: number; baseFilters: number; batchNorm: boolean };
  /** Initializers by name, in ONNX layout. */
  initializers: Map<string, { dims: number[]; data: Float32Array }>;
}

const describe = (a: { depth: number; baseFilters: number; batchNorm: boolean }) =>
  `depth ${a.depth}, ${a.baseFilters} base filters, ${a.batchNorm ? 'batch norm' : 'no batch norm'}`;

function floatData(tensor: onnxProto.onnx.ITensorProto, what: string): Float32Array {
  if (tensor.rawData && tensor.rawData.length > 0) {
    const raw = tensor.rawData;
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    const out = new Float32Array(raw.byteLength / 4);
    for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(i * 4, true);
    return out;
  }
  if (tensor.floatData && tensor.floatData.length > 0) return Float32Array.from(tensor.floatData);
  throw new EmsegError('E_MODEL', `${what}: initializer ${tensor.name} has no float data`);
}

/** Reads and checks an ONNX file against the contract and the architecture asked for. */
export function readParentModel(path: string, asked: ResolvedUNetOptions): ParentModel {
  const what = `--init ${path}`;
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(readFileSync(path));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new EmsegError('E_NOT_FOUND', `${what}: no such file`);
    if (code === 'EISDIR') throw new EmsegError('E_BAD_ARGUMENT', `${what}: is a folder, expected an .onnx file`);
    throw error;
  }
  const model = decodeOnnxModel(bytes, what);
  const graph = model.graph;
  const tensors = graph?.initializer ?? [];
  if (!graph || tensors.length === 0) throw new EmsegError('E_MODEL', `${what}: not an ONNX model with weights (no graph initializers)`);
  const initializerNames = new Set(tensors.map((t) => t.name));
  const inputs = (graph.input ?? []).filter((i) => !initializerNames.has(i.name)).map((i) => i.name);
  const outputs = (graph.output ?? []).map((o) => o.name);
  if (inputs.length !== 1 || inputs[0] !== INPUT_NAME || outputs.length !== 1 || outputs[0] !== OUTPUT_NAME) {
    throw new EmsegError(
      'E_MODEL',
      `${what}: does not follow the emseg model contract (expected input '${INPUT_NAME}' and output '${OUTPUT_NAME}', found inputs [${inputs.join(', ')}] and outputs [${outputs.join(', ')}])`,
    );
  }
  const initializers = new Map<string, { dims: number[]; data: Float32Array }>();
  for (const tensor of tensors) {
    if (tensor.dataType !== FLOAT || !tensor.name) continue;
    initializers.set(tensor.name, { dims: (tensor.dims ?? []).map((d) => Number(String(d))), data: floatData(tensor, what) });
  }
  let depth = 0;
  while (initializers.has(`enc${depth + 1}_conv1_kernel`)) depth++;
  const first = initializers.get('enc1_conv1_kernel');
  if (depth === 0 || !first || first.dims.length !== 4) {
    throw new EmsegError('E_MODEL', `${what}: does not follow the emseg U-Net contract (no initializer enc1_conv1_kernel of rank 4; was it exported by emseg convert?)`);
  }
  const architecture = { depth, baseFilters: first.dims[0]!, batchNorm: initializers.has('enc1_bn1_gamma') };
  const wanted = { depth: asked.depth, baseFilters: asked.baseFilters, batchNorm: asked.batchNorm };
  if (architecture.depth !== wanted.depth || architecture.baseFilters !== wanted.baseFilters || architecture.batchNorm !== wanted.batchNorm) {
    throw new EmsegError(
      'E_MODEL',
      `${what}: the model has ${describe(architecture)}, but ${describe(wanted)} was asked; pass --depth ${architecture.depth} --filters ${architecture.baseFilters}${architecture.batchNorm ? ' --batch-norm' : ''}`,
    );
  }
  // The parent's card as every part reads it (node/model-card-file.ts): the metadata's, else the JSON beside; checked.
  const card = findModelCard(path, bytes)?.card;
  const info: ParentModelInfo = {
    name: card?.name ?? basename(path).replace(/\.onnx$/i, ''),
    sha256: sha256Hex(bytes),
    path,
  };
  if (card?.training?.data !== undefined) info.data = card.training.data;
  // core's one reader of the field: top level, else under training (where the shipped card has it).
  const pixelSize = card ? trainingPixelSizeOf(card) : undefined;
  if (pixelSize !== undefined) info.trainingPixelSize = pixelSize;
  return { info, ...(card ? { card } : {}), architecture, initializers };
}

const ONNX_SUFFIX: Record<string, string> = { moving_mean: 'mean', moving_variance: 'variance' };

/** The initializer name of a tfjs weight `<layer>/<kind>`. */
export function onnxNameOf(weightName: string): string {
  const slash = weightName.lastIndexOf('/');
  const layer = weightName.slice(0, slash);
  const kind = weightName.slice(slash + 1);
  return `${layer}_${ONNX_SUFFIX[kind] ?? kind}`;
}

/**
 * The parent's weights in the engine's order and tfjs layout, for the weights the engine has
 * (`specs`: names `<layer>/<kind>` and shapes).
 */
export function parentWeightsFor(parent: ParentModel, specs: readonly { name: string; shape: number[] }[]): Float32Array[] {
  const what = `--init ${parent.info.path}`;
  return specs.map(({ name, shape }) => {
    const onnxName = onnxNameOf(name);
    const tensor = parent.initializers.get(onnxName);
    if (!tensor) throw new EmsegError('E_MODEL', `${what}: does not follow the emseg U-Net contract (no initializer ${onnxName} for weight ${name})`);
    const moved = tensor.dims.length === 4 ? transposeArray(tensor.data, tensor.dims, [2, 3, 1, 0]) : { data: tensor.data, shape: tensor.dims };
    if (moved.shape.join('x') !== shape.join('x')) {
      throw new EmsegError('E_MODEL', `${what}: initializer ${onnxName} has shape ${tensor.dims.join('x')}, which does not give ${name}'s ${shape.join('x')}`);
    }
    return moved.data;
  });
}

/** The subset of the training engine this module needs. */
interface StatefulEngine {
  saveState(): Promise<EngineState> | EngineState;
  loadState(state: EngineState): Promise<void> | unknown;
}

/** Puts the parent's weights into a fresh engine (optimizer moments stay zero, step 0). */
export async function loadParentWeights(engine: StatefulEngine, parent: ParentModel): Promise<void> {
  const state = await engine.saveState();
  const weightEntries = state.meta.buffers.filter((b) => b.name.startsWith('weight:'));
  const values = parentWeightsFor(parent, weightEntries.map((b) => ({ name: b.name.slice('weight:'.length), shape: b.shape })));
  // The parent's weights, zero Adam moments; no saved weight average, so the engine starts its
  // average (if it keeps one) from the parent's weights.
  const { ema: _average, ...meta } = state.meta;
  const kept = state.meta.buffers.flatMap((entry, i) => (entry.name.startsWith('ema:') ? [] : [{ entry, buffer: state.buffers[i]! }]));
  const buffers = kept.map(({ buffer }, i) => (i < values.length ? values[i]! : new Float32Array(buffer.length)));
  await engine.loadState({ meta: { ...meta, step: 0, buffers: kept.map(({ entry }) => entry) }, buffers });
}
