/**
 * The one reader of a model's card on disk. A card has two copies: `models/<name>.json` beside
 * `models/<name>.onnx` (with the sha256 of the ONNX file), and the same JSON in the ONNX
 * metadata_props under `emseg.model_card`. `findModelCard` reads them for every part (server and
 * predict, export-package, the web demo build, `emseg train --init`, `emseg quantize`), and every
 * copy it returns has passed core/model-card.ts's schema: a bad card is one E_MODEL line naming the
 * file and each bad field, e.g. `m.json: bad model card: threshold: expected a number in [0, 1],
 * found 2`.
 *
 *   const found = findModelCard('models/m.onnx', bytes);                    // metadata, else m.json
 *   const found = findModelCard('models/m.onnx', bytes, { prefer: 'file' }); // m.json, else metadata
 *
 * Each caller decides only which copy it prefers and what a missing card means.
 */
import { readFileSync } from 'node:fs';
import { basename, dirname, extname, join } from 'node:path';
import { EmsegError } from '../core/errors.ts';
import { modelCardFromMetadata, parseModelCardJson, type ModelCard } from '../core/model-card.ts';
import { decodeOnnxModel, onnxMetadata } from '../core/onnx-model.ts';
import { sha256Hex } from './sha256.ts';

/** models/<name>.onnx -> models/<name><suffix> (e.g. '.json', '.train-config.json'). */
export function siblingPath(onnxPath: string, suffix: string): string {
  return join(dirname(onnxPath), `${basename(onnxPath, extname(onnxPath))}${suffix}`);
}

/** The card file beside an ONNX file: models/<name>.onnx -> models/<name>.json. */
export function cardPathFor(onnxPath: string): string {
  return siblingPath(onnxPath, '.json');
}

/** Which copy of a card: the one in the ONNX metadata, or the JSON file. */
export type ModelCardCopy = 'metadata' | 'file';

export interface FoundModelCard {
  card: ModelCard;
  source: ModelCardCopy;
  /** The file it was read from: the card file, or the ONNX file for the metadata copy. */
  path: string;
}

export interface FindModelCardOptions {
  /**
   * The copy used when both exist. Default 'metadata' (running a model: the file carries its own
   * card); 'file' for packaging (export-package, the web demo), whose card file records the sha256.
   */
  prefer?: ModelCardCopy;
  /** A card file named by the user (--card), read instead of <name>.json and before the metadata; it must exist. Default none. */
  cardPath?: string;
}

function readCardText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new EmsegError('E_MODEL', `${path}: cannot read the model card (${(error as Error).message})`, { cause: error });
  }
}

/**
 * The card of the ONNX file `onnxPath` (its bytes given), checked against the schema; undefined
 * when neither copy exists. A card file that records another file's sha256 is refused (E_MODEL).
 */
export function findModelCard(onnxPath: string, bytes: Uint8Array, options: FindModelCardOptions = {}): FoundModelCard | undefined {
  const cardPath = options.cardPath ?? cardPathFor(onnxPath);
  const fromFile = (): FoundModelCard | undefined => {
    const json = readCardText(cardPath);
    if (json === undefined) {
      if (options.cardPath !== undefined) throw new EmsegError('E_NOT_FOUND', `${cardPath}: no such model card file`);
      return undefined;
    }
    const card = parseModelCardJson(json, cardPath);
    const sha256 = card.sha256 === undefined ? undefined : sha256Hex(bytes);
    if (sha256 !== undefined && card.sha256 !== sha256) {
      throw new EmsegError(
        'E_MODEL',
        `${cardPath}: the card's sha256 ${card.sha256!.slice(0, 12)}... does not match ${onnxPath} (${sha256.slice(0, 12)}...); it is the card of another file: convert again or give the card of this file`,
      );
    }
    return { card, source: 'file', path: cardPath };
  };
  const fromMetadata = (): FoundModelCard | undefined => {
    const card = modelCardInOnnx(bytes, onnxPath);
    return card && { card, source: 'metadata', path: onnxPath };
  };
  const fileFirst = options.cardPath !== undefined || options.prefer === 'file';
  return fileFirst ? (fromFile() ?? fromMetadata()) : (fromMetadata() ?? fromFile());
}

/** Reads and checks a card file; undefined when it does not exist, E_MODEL when it is not a valid card. */
export async function readModelCardFile(path: string): Promise<ModelCard | undefined> {
  const json = readCardText(path);
  return json === undefined ? undefined : parseModelCardJson(json, path);
}

/** The card inside ONNX bytes' metadata, checked; undefined when absent; E_MODEL when the bytes are not ONNX. */
export function modelCardInOnnx(bytes: Uint8Array, what: string): ModelCard | undefined {
  return modelCardFromMetadata(onnxMetadata(decodeOnnxModel(bytes, what)), what);
}
