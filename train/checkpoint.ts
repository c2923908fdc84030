/**
 * Training checkpoints: `<outDir>/checkpoints/latest` and `<outDir>/checkpoints/best`.
 *
 * A checkpoint is a folder with `checkpoint.json` (step, crops seen, the batch sampler's random
 * state, the log position, timing, best score, and the engine state with its typed arrays
 * replaced by references) and `tensors.bin` (those typed arrays, 8-byte aligned). It replaces
 * the previous one with node/atomic-dir.ts, so a crash at any moment leaves one complete
 * checkpoint that `loadCheckpoint` finds (the previous copy, when the crash came between two
 * renames), and the next run's `recoverInterruptedWrites` tidies up.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EmsegError } from '../core/errors.ts';
import { completeDir, replaceDirAtomic } from '../node/atomic-dir.ts';
import { concatBytes } from '../core/bytes.ts';

export const CHECKPOINT_FORMAT = 'emseg-checkpoint';
export const CHECKPOINT_VERSION = 1;

export type CheckpointName = 'latest' | 'best';

/** Everything of the loop that a resumed run needs, besides the engine state. */
export interface LoopState {
  /** Steps done. */
  step: number;
  cropsSeen: number;
  /** JSON-able state of the batch sampler's PRNG after `step` steps. */
  rngState: unknown;
  /** Byte length of the JSONL log at this step. */
  logPosition: number;
  /** Training wall time summed over all invocations, seconds. */
  elapsedSeconds: number;
  /** Best validation V_rand so far and its step (-1 and 0 before the first validation). */
  bestVRand: number;
  bestStep: number;
  /** The partial log window: sum of losses and their count since the last train log line. */
  windowLossSum: number;
  windowSteps: number;
  /** `reproducibilityKey(config)`: a resume with other data/schedule/model options is refused. */
  configKey: string;
  /** Backend and worker count that computed the steps so far (a resume elsewhere is warned about). */
  engineSetup?: { backend: string; workers?: number };
}

export interface Checkpoint {
  loop: LoopState;
  engineState: unknown;
}

type TypedArray = Float32Array | Float64Array | Int32Array | Uint32Array | Int16Array | Uint16Array | Int8Array | Uint8Array;
const TYPED: Record<string, new (buffer: ArrayBuffer, offset: number, length: number) => TypedArray> = {
  Float32Array,
  Float64Array,
  Int32Array,
  Uint32Array,
  Int16Array,
  Uint16Array,
  Int8Array,
  Uint8Array,
};

interface TypedRef {
  $typed: string;
  offset: number;
  length: number;
}

/** Splits a value into JSON (typed arrays replaced by references) and one binary blob. */
export function packState(value: unknown): { json: unknown; blob: Uint8Array } {
  const chunks: Uint8Array[] = [];
  let size = 0;
  const walk = (v: unknown): unknown => {
    if (ArrayBuffer.isView(v) && !(v instanceof DataView)) {
      const name = v.constructor.name;
      if (!(name in TYPED)) throw new TypeError(`checkpoint state: unsupported typed array ${name}`);
      const pad = (8 - (size % 8)) % 8;
      if (pad) chunks.push(new Uint8Array(pad));
      size += pad;
      const bytes = new Uint8Array(v.buffer, v.byteOffset, v.byteLength).slice();
      const ref: TypedRef = { $typed: name, offset: size, length: (v as TypedArray).length };
      chunks.push(bytes);
      size += bytes.byteLength;
      return ref;
    }
    if (Array.isArray(v)) return v.map(walk);
    if (v !== null && typeof v === 'object') {
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
    }
    if (typeof v === 'number' && !Number.isFinite(v)) return { $number: String(v) };
    return v;
  };
  const json = walk(value);
  return { json, blob: concatBytes(chunks) };
}

/** Inverse of packState. */
export function unpackState(json: unknown, blob: Uint8Array): unknown {
  const buffer = blob.buffer.slice(blob.byteOffset, blob.byteOffset + blob.byteLength) as ArrayBuffer;
  const walk = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(walk);
    if (v !== null && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      if (typeof o.$typed === 'string') {
        const Ctor = TYPED[o.$typed];
        const ref = o as unknown as TypedRef;
        if (!Ctor) throw new EmsegError('E_CORRUPT', `checkpoint: unknown typed array ${o.$typed}`);
        const bytesPer = (Ctor as unknown as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT;
        if (ref.offset + ref.length * bytesPer > buffer.byteLength) throw new EmsegError('E_CORRUPT', 'checkpoint: tensors.bin is truncated');
        return new Ctor(buffer, ref.offset, ref.length);
      }
      if (typeof o.$number === 'string' && Object.keys(o).length === 1) return Number(o.$number);
      return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, walk(x)]));
    }
    return v;
  };
  return walk(json);
}

export function checkpointDir(outDir: string, name: CheckpointName): string {
  return join(outDir, 'checkpoints', name);
}

export async function saveCheckpoint(outDir: string, name: CheckpointName, checkpoint: Checkpoint): Promise<string> {
  const dir = checkpointDir(outDir, name);
  const { json, blob } = packState(checkpoint.engineState);
  await replaceDirAtomic(dir, (temp) => {
    writeFileSync(join(temp, 'tensors.bin'), blob);
    const document = {
      format: CHECKPOINT_FORMAT,
      version: CHECKPOINT_VERSION,
      savedAt: new Date().toISOString(),
      tensorsBytes: blob.byteLength,
      loop: checkpoint.loop,
      engineState: json,
    };
    // checkpoint.json last: a folder with it is complete.
    writeFileSync(join(temp, 'checkpoint.json'), `${JSON.stringify(document)}\n`);
  });
  return dir;
}

/** Loads `<outDir>/checkpoints/<name>` (or its previous copy if a crash hit between two renames). */
export function loadCheckpoint(outDir: string, name: CheckpointName): Checkpoint {
  const primary = checkpointDir(outDir, name);
  const dir = completeDir(primary) ?? primary;
  const jsonPath = join(dir, 'checkpoint.json');
  if (!existsSync(jsonPath)) {
    throw new EmsegError('E_NOT_FOUND', `${primary}: no checkpoint to resume from (train without --resume first)`);
  }
  let document: { format?: string; version?: number; tensorsBytes?: number; loop?: LoopState; engineState?: unknown };
  try {
    document = JSON.parse(readFileSync(jsonPath, 'utf8'));
  } catch (error) {
    throw new EmsegError('E_CORRUPT', `${jsonPath}: not valid JSON`, { cause: error });
  }
  if (document.format !== CHECKPOINT_FORMAT || document.version !== CHECKPOINT_VERSION || !document.loop) {
    throw new EmsegError('E_CORRUPT', `${jsonPath}: expected an ${CHECKPOINT_FORMAT} version ${CHECKPOINT_VERSION}, found ${document.format} ${document.version}`);
  }
  const blob = readFileSync(join(dir, 'tensors.bin'));
  if (blob.byteLength !== document.tensorsBytes) {
    throw new EmsegError('E_CORRUPT', `${join(dir, 'tensors.bin')}: expected ${document.tensorsBytes} bytes, found ${blob.byteLength}`);
  }
  return { loop: document.loop, engineState: unpackState(document.engineState, new Uint8Array(blob)) };
}

export function hasCheckpoint(outDir: string, name: CheckpointName): boolean {
  const dir = completeDir(checkpointDir(outDir, name));
  return dir !== undefined && existsSync(join(dir, 'checkpoint.json'));
}
