/**
 * Where a model's card is found on disk: `models/<name>.json` beside `models/<name>.onnx`, or the
 * copy inside the ONNX metadata. Both are read through core/model-card.ts, so every part (server,
 * predict, evaluate, export-package, web demo build) checks a card the same way; each caller
 * decides which copy it prefers and what a missing card means.
 */
import { readFile } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';
import { EmsegError } from '../core/errors.ts';
import { modelCardFromMetadata, parseModelCardJson, type ModelCard } from '../core/model-card.ts';
import { decodeOnnxModel, onnxMetadata } from '../core/onnx-model.ts';

/** models/<name>.onnx -> models/<name><suffix> (e.g. '.json', '.train-config.json'). */
export function siblingPath(onnxPath: string, suffix: string): string {
  return join(dirname(onnxPath), `${basename(onnxPath, extname(onnxPath))}${suffix}`);
}

/** The card file beside an ONNX file: models/<name>.onnx -> models/<name>.json. */
export function cardPathFor(onnxPath: string): string {
  return siblingPath(onnxPath, '.json');
}

/** Reads and checks a card file; undefined when it does not exist, E_MODEL when it is not a valid card. */
export async function readModelCardFile(path: string): Promise<ModelCard | undefined> {
  let json: string;
  try {
    json = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new EmsegError('E_MODEL', `${path}: cannot read the model card (${(error as Error).message})`, { cause: error });
  }
  return parseModelCardJson(json, path);
}

/** The card inside ONNX bytes' metadata, checked; undefined when absent; E_MODEL when the bytes are not ONNX. */
export function modelCardInOnnx(bytes: Uint8Array, what: string): ModelCard | undefined {
  return modelCardFromMetadata(onnxMetadata(decodeOnnxModel(bytes, what)), what);
}
