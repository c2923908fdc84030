/**
 * An ONNX model file loaded into onnxruntime-node, as a core TilePredictor.
 *
 *   const model = await loadOnnxModel('models/isbi2012-unet.onnx', { providers: 'auto', log: console.warn });
 *   const { mask } = await segmentImage(slice, model.predictor, { threshold: model.card.threshold });
 *   await model.close();
 *
 * - The execution provider comes from node/onnx-providers.ts (tried in order, every failure logged
 *   and kept in `failures`).
 * - The model is checked against the contract (core/contract.ts): one float32 input `image` and
 *   one float32 output `probability`, both of rank 4 with one channel. Anything else is an
 *   E_MODEL naming the file and what was found.
 * - The model card comes from the ONNX metadata (`emseg.model_card`), else from the JSON beside
 *   the file (`<name>.json`), else a default card (contract defaults: threshold 0.5, tile 512,
 *   halo 32, size multiple 16) with a warning; `cardSource` says which.
 */
import { readFile } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import * as ort from 'onnxruntime-node';
import { DEFAULT_HALO, DEFAULT_THRESHOLD, DEFAULT_TILE, INPUT_NAME, MODEL_CARD_METADATA_KEY, OUTPUT_NAME } from '../core/contract.ts';
import { defaultModelCard, type ModelCard } from '../core/model-card.ts';
import { EmsegError } from '../core/errors.ts';
import type { TilePredictor } from '../core/tiling.ts';
import { cardPathFor, findModelCard } from './model-card-file.ts';
import { createSessionWithFallback, isAutoProviders, parseProviders, type ProviderFailure } from './onnx-providers.ts';

export interface LoadModelOptions {
  /** Execution providers in order of preference, `"cuda,cpu"`, `"auto"` or an array. Default EMSEG_EP, else `auto` (cuda, else cpu, without a warning about cuda). */
  providers?: string | readonly string[];
  /** Warnings (a provider that failed, a missing model card). Default: nothing. */
  log?: (message: string) => void;
  /** Details (the full error of a provider that failed). Default: stderr when EMSEG_DEBUG is set, else nothing. */
  debug?: (message: string) => void;
  /** Extra onnxruntime session options (e.g. intraOpNumThreads). */
  sessionOptions?: Omit<ort.InferenceSession.SessionOptions, 'executionProviders'>;
}

export type CardSource = 'metadata' | 'file' | 'default';

export interface LoadedModel {
  /** The session as a tile predictor: NCHW float32 tiles in, probabilities out. */
  predictor: TilePredictor;
  /** Execution provider in use, e.g. 'cuda' or 'cpu'. */
  provider: string;
  /** Providers that were tried first and failed, with why. */
  failures: ProviderFailure[];
  card: ModelCard;
  cardSource: CardSource;
  inputName: string;
  outputName: string;
  /** The file loaded. */
  path: string;
  session: ort.InferenceSession;
  /** Releases the session. */
  close: () => Promise<void>;
}

function describeValue(meta: ort.InferenceSession.ValueMetadata | undefined): string {
  if (!meta) return 'nothing';
  if (!meta.isTensor) return `${meta.name} (not a tensor)`;
  return `${meta.name} ${meta.type} [${meta.shape.map((d) => String(d)).join(', ')}]`;
}

/** Checks one side of the signature against the contract; returns a problem or undefined. */
function checkValue(
  kind: 'input' | 'output',
  expected: string,
  values: readonly ort.InferenceSession.ValueMetadata[],
): string | undefined {
  const found = values.map(describeValue).join(', ') || 'none';
  if (values.length !== 1) return `expected one ${kind} '${expected}' float32 [N, 1, H, W], found ${values.length}: ${found}`;
  const meta = values[0]!;
  if (meta.name !== expected) return `expected ${kind} '${expected}', found ${found}`;
  if (!meta.isTensor || meta.type !== 'float32') return `expected ${kind} '${expected}' of type float32, found ${found}`;
  if (meta.shape.length !== 4) return `expected ${kind} '${expected}' of rank 4 [N, 1, H, W], found ${found}`;
  const channels = meta.shape[1];
  if (typeof channels === 'number' && channels !== 1) return `expected ${kind} '${expected}' with 1 channel [N, 1, H, W], found ${found}`;
  return undefined;
}

function findCard(path: string, bytes: Uint8Array, log?: (message: string) => void): { card: ModelCard; source: CardSource } {
  const found = findModelCard(path, bytes); // the metadata's, else the JSON beside the file; checked
  if (found) return found;
  log?.(`${path}: no model card (no ${MODEL_CARD_METADATA_KEY} metadata, no ${cardPathFor(path)}); using the contract defaults (threshold ${DEFAULT_THRESHOLD}, tile ${DEFAULT_TILE}, halo ${DEFAULT_HALO})`);
  return { card: defaultModelCard(basename(path, extname(path))), source: 'default' };
}

/** Loads an ONNX model file on the first execution provider that works and checks it against the contract. */
export async function loadOnnxModel(path: string, options: LoadModelOptions = {}): Promise<LoadedModel> {
  // An empty EMSEG_EP counts as unset (docker-compose and systemd often pass empty variables).
  const asked = options.providers ?? (process.env['EMSEG_EP'] || undefined);
  const providers = parseProviders(asked, options.providers === undefined ? 'EMSEG_EP' : 'providers');
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(path));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new EmsegError('E_NOT_FOUND', `${path}: no such model file`);
    if (code === 'EISDIR') throw new EmsegError('E_MODEL', `${path}: is a folder, expected an .onnx file`);
    throw new EmsegError('E_MODEL', `${path}: cannot read the model (${(error as Error).message})`, { cause: error });
  }
  const { card, source } = findCard(path, bytes, options.log);
  const chosen = await createSessionWithFallback(bytes, providers, {
    what: path,
    quiet: isAutoProviders(asked),
    ...(options.log ? { log: options.log } : {}),
    debug: options.debug ?? (process.env['EMSEG_DEBUG'] ? (message: string) => process.stderr.write(`emseg: debug: ${message}\n`) : () => {}),
    ...(options.sessionOptions ? { sessionOptions: options.sessionOptions } : {}),
  });
  const { session } = chosen;
  const problem =
    checkValue('input', INPUT_NAME, session.inputMetadata) ?? checkValue('output', OUTPUT_NAME, session.outputMetadata);
  if (problem) {
    await session.release();
    throw new EmsegError('E_MODEL', `${path}: does not follow the model contract: ${problem}`);
  }

  const predictor: TilePredictor = async (tiles, n, height, width) => {
    if (tiles.length !== n * height * width) {
      throw new RangeError(`tiles: expected ${n}x1x${height}x${width} = ${n * height * width} values, found ${tiles.length}`);
    }
    const input = new ort.Tensor('float32', tiles, [n, 1, height, width]);
    let result: ort.InferenceSession.ReturnType;
    try {
      result = await session.run({ [INPUT_NAME]: input });
    } catch (error) {
      throw new EmsegError('E_MODEL', `${path}: inference failed on ${n} tile(s) of ${width}x${height}: ${(error as Error).message.split('\n')[0]}`, { cause: error });
    }
    const output = result[OUTPUT_NAME];
    const data = output?.data;
    if (!(data instanceof Float32Array) || data.length !== n * height * width) {
      throw new EmsegError('E_MODEL', `${path}: output '${OUTPUT_NAME}' has ${output ? `shape [${output.dims.join(', ')}]` : 'no value'}, expected [${n}, 1, ${height}, ${width}]`);
    }
    return data;
  };

  return {
    predictor,
    provider: chosen.provider,
    failures: chosen.failures,
    card,
    cardSource: source,
    inputName: INPUT_NAME,
    outputName: OUTPUT_NAME,
    path,
    session,
    close: async () => {
      await session.release();
    },
  };
}
