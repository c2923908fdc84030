/**
 * Writes a large output volume as an OME-Zarr store (Zarr v2, OME-NGFF 0.4: what napari,
 * neuroglancer, Fiji's n5-viewer and Debian's python3-zarr 2.13 read), chunk by chunk.
 *
 * Layout of `out.zarr/`:
 *   .zgroup, .zattrs         the group; .zattrs holds `emseg` (the job identity) and, once
 *                            finalize() ran, the NGFF `multiscales` metadata
 *   0/.zarray, 0/<z>/<y>/<x> level 0: shape [Z, Y, X] (or [Y, X] for a single slice), chunks of
 *                            one slice x chunkHeight x chunkWidth, zlib-compressed, "/" separated
 *   1/, 2/, ...              levels halved in x and y (not z: EM sections are thicker than a pixel)
 *
 * Cell labels (kind 'labels', uint32) are an NGFF 0.4 label image instead, on its own (no image
 * beside it): `labels/.zattrs` lists `cells`, and `labels/cells/` holds the levels 0/, 1/, ... as
 * above, its `.zattrs` the `multiscales` and `image-label` metadata (lower levels: the top-left
 * label of each 2x2 block, so every value is a cell).
 *
 * - Every chunk file is written by writeFileAtomic (node/atomic-write.ts: a temp file, then a rename), so a chunk is
 *   complete or absent; isChunkComplete() is "the chunk file exists". A killed job leaves at most
 *   some `*.tmp` files, which readers ignore.
 * - The job identity (whatever the caller passes: input, model, options) and the array layout are
 *   recorded in `.zattrs` when the store is created (an exclusive link, so several processes may
 *   open the same new store at once). Opening a store recorded for a different job, or a folder that
 *   is no emseg store, is refused; the same job resumes.
 * - Several processes may write disjoint chunks at once (shards). finalize() is run once, after all
 *   level-0 chunks exist: it builds the lower levels by reading the level above chunk by chunk (a
 *   2x2 block of chunks at most in memory) with core/downsample.ts (masks: 'majority', which keeps
 *   them 0/255; probabilities: 'mean'), then writes `multiscales`. It skips chunks of lower levels
 *   already written, so an interrupted finalize() can be run again.
 *
 * zarrita (the reader, node/ome-zarr-source.ts) writes only Zarr v3, which Debian's zarr 2.13
 * cannot read; the v2 format written here is small (two JSON files and zlib chunks).
 */
import { link, mkdir, readFile, readdir, stat, unlink, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { canonicalJson } from '../core/canonical-json.ts';
import { forEachConcurrently } from '../core/concurrently.ts';
import { EmsegError } from '../core/errors.ts';
import { halveImage, pyramidLevelCount, type DownsampleRule, type SampleImage } from '../core/downsample.ts';
import type { Box } from '../core/padding.ts';
import {
  allChunks,
  chunkBox,
  chunkGrid,
  type ChunkIndex,
  type ChunkLayout,
  type PixelSize,
  type VolumeSampleType,
  type VolumeSink,
} from '../core/volume.ts';
import { assertNotAnInput, tempPathFor, writeFileAtomic } from './atomic-write.ts';
import { deflateBytes, inflateBytes } from './zlib-bytes.ts';

/** Chunks of a lower level finalize() builds at once (libuv's thread pool has 4 threads by default). */
const LEVEL_CHUNKS_AT_ONCE = 4;

/** What the output holds: decides the downsampling rule of the lower levels (and, for labels, the layout). */
export type OutputKind = 'mask' | 'probability' | 'labels';

/** Where the levels of a labels store live, below its root. */
export const LABELS_PATH = 'labels/cells';

type SampleArray = Uint8Array | Float32Array | Uint32Array;

/** The typed array, Zarr dtype and bytes of each sample type. */
const SAMPLES = {
  uint8: { array: Uint8Array, dtype: '|u1', bytes: 1 },
  float32: { array: Float32Array, dtype: '<f4', bytes: 4 },
  uint32: { array: Uint32Array, dtype: '<u4', bytes: 4 },
} as const;

export interface OmeZarrSinkOptions {
  /** The store folder, e.g. `out.zarr` or `out.ome.zarr`. */
  path: string;
  width: number;
  height: number;
  /** Slices; 1 writes 2D arrays ([y, x]). */
  depth: number;
  /** Default 512 x 512. */
  chunkWidth?: number;
  chunkHeight?: number;
  sampleType: VolumeSampleType;
  kind: OutputKind;
  pixelSize?: PixelSize;
  /**
   * Identifies the job (input path and size, model sha256, options...): any JSON value. A store
   * recorded for another job is refused; the same job resumes.
   */
  job: unknown;
  /** Lower levels written by finalize(). Default: halve until the level fits in one chunk, at most 6. */
  levels?: number;
  /** zlib level of the chunks, 0-9. Default 1 (fast; masks still shrink ~50x). */
  compressionLevel?: number;
  /** Files this command reads; writing the store onto one of them is refused. */
  inputs?: readonly string[];
}

const IDENTITY_FILE = '.zattrs';
const FORMAT = 'emseg-ome-zarr-1';

interface StoreIdentity {
  format: string;
  job: unknown;
  array: { width: number; height: number; depth: number; chunkWidth: number; chunkHeight: number; sampleType: VolumeSampleType; kind: OutputKind };
}

function describeJob(job: unknown): string {
  const text = canonicalJson(job);
  return text.length > 160 ? `${text.slice(0, 157)}...` : text;
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

function positiveInteger(value: number, what: string): number {
  if (!Number.isInteger(value) || value <= 0) throw new EmsegError('E_BAD_ARGUMENT', `${what}: expected a positive integer, found ${value}`);
  return value;
}

interface Level extends ChunkLayout {
  readonly path: string;
}

export class OmeZarrSink implements VolumeSink {
  readonly name: string;
  readonly width: number;
  readonly height: number;
  readonly depth: number;
  readonly chunkWidth: number;
  readonly chunkHeight: number;
  readonly sampleType: VolumeSampleType;
  readonly kind: OutputKind;
  readonly pixelSize?: PixelSize;
  private readonly root: string;
  private readonly identity: StoreIdentity;
  private readonly levelCount: number;
  private readonly compressionLevel: number;

  private constructor(options: OmeZarrSinkOptions, identity: StoreIdentity) {
    this.name = options.path;
    this.root = resolve(options.path);
    this.width = identity.array.width;
    this.height = identity.array.height;
    this.depth = identity.array.depth;
    this.chunkWidth = identity.array.chunkWidth;
    this.chunkHeight = identity.array.chunkHeight;
    this.sampleType = options.sampleType;
    this.kind = options.kind;
    this.pixelSize = options.pixelSize;
    this.identity = identity;
    this.levelCount = options.levels ?? pyramidLevelCount(this.width, this.height, this.chunkWidth, this.chunkHeight);
    this.compressionLevel = options.compressionLevel ?? 1;
  }

  /** Creates the store, or opens the store an earlier run of the same job left (resume). */
  static async open(options: OmeZarrSinkOptions): Promise<OmeZarrSink> {
    const identity: StoreIdentity = {
      format: FORMAT,
      job: options.job,
      array: {
        width: positiveInteger(options.width, 'width'),
        height: positiveInteger(options.height, 'height'),
        depth: positiveInteger(options.depth, 'depth'),
        chunkWidth: positiveInteger(options.chunkWidth ?? 512, 'chunkWidth'),
        chunkHeight: positiveInteger(options.chunkHeight ?? 512, 'chunkHeight'),
        sampleType: options.sampleType,
        kind: options.kind,
      },
    };
    if (options.levels !== undefined && (!Number.isInteger(options.levels) || options.levels < 0)) {
      throw new EmsegError('E_BAD_ARGUMENT', `levels: expected an integer >= 0, found ${options.levels}`);
    }
    if (options.inputs) await assertNotAnInput(options.path, options.inputs);
    const sink = new OmeZarrSink(options, identity);
    await sink.claimStore();
    await sink.writeArrayMetadata(sink.level(0));
    return sink;
  }

  private level(index: number): Level {
    const f = 2 ** index;
    return {
      path: this.kind === 'labels' ? `${LABELS_PATH}/${index}` : String(index),
      width: Math.ceil(this.width / f),
      height: Math.ceil(this.height / f),
      depth: this.depth,
      chunkWidth: this.chunkWidth,
      chunkHeight: this.chunkHeight,
    };
  }

  /** Records this job in a new store, or checks that an existing store belongs to it. */
  private async claimStore(): Promise<void> {
    const identityPath = join(this.root, IDENTITY_FILE);
    try {
      const info = await stat(this.root);
      if (!info.isDirectory()) {
        throw new EmsegError('E_OUTPUT_EXISTS', `${this.name}: exists and is not a folder; refusing to overwrite it with an OME-Zarr store`);
      }
    } catch (error) {
      if (error instanceof EmsegError) throw error;
      await mkdir(this.root, { recursive: true });
    }
    if (!(await exists(identityPath))) {
      const others = (await readdir(this.root)).filter((entry) => !entry.endsWith('.tmp'));
      // Another process creating the same store links .zattrs before writing anything else, so
      // files seen here without .zattrs (checked again after the listing) are no emseg store.
      if (others.length > 0 && !(await exists(identityPath))) {
        throw new EmsegError('E_OUTPUT_EXISTS', `${this.name}: is a folder that holds no emseg store (${others.slice(0, 3).join(', ')}...); refusing to write into it, choose another output path`);
      }
    }
    if (!(await exists(identityPath))) {
      const temp = tempPathFor(join(this.root, 'identity'));
      await writeFile(temp, `${JSON.stringify({ emseg: this.identity }, null, 1)}\n`, { flag: 'wx' });
      try {
        await link(temp, identityPath); // fails if another process created it first: then compare
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      } finally {
        await unlink(temp).catch(() => undefined);
      }
    }
    let recorded: unknown;
    try {
      recorded = (JSON.parse(await readFile(identityPath, 'utf8')) as { emseg?: unknown }).emseg;
    } catch {
      recorded = undefined;
    }
    if (!recorded || (recorded as StoreIdentity).format !== FORMAT) {
      throw new EmsegError('E_OUTPUT_EXISTS', `${this.name}: holds a Zarr store that emseg did not write; refusing to write into it, choose another output path`);
    }
    const other = recorded as StoreIdentity;
    if (canonicalJson({ format: other.format, job: other.job, array: other.array }) !== canonicalJson(this.identity)) {
      const theirs = other.array as unknown as Record<string, unknown>;
      const ours = this.identity.array as unknown as Record<string, unknown>;
      const differences = Object.keys(ours).filter((key) => theirs?.[key] !== ours[key]).map((key) => `${key} ${String(theirs?.[key])} there, ${String(ours[key])} here`);
      const what = differences.length > 0 ? differences.join(', ') : `job ${describeJob(other.job)}`;
      throw new EmsegError('E_OUTPUT_EXISTS', `${this.name}: holds the output of another job (${what}); delete it or choose another output path`);
    }
    await writeFileAtomic(join(this.root, '.zgroup'), '{\n "zarr_format": 2\n}\n');
    if (this.kind === 'labels') {
      await writeFileAtomic(join(this.root, 'labels', '.zgroup'), '{\n "zarr_format": 2\n}\n');
      await writeFileAtomic(join(this.root, 'labels', '.zattrs'), `${JSON.stringify({ labels: [LABELS_PATH.split('/')[1]] }, null, 1)}\n`);
      await writeFileAtomic(join(this.root, LABELS_PATH, '.zgroup'), '{\n "zarr_format": 2\n}\n');
    }
  }

  private async writeArrayMetadata(level: Level): Promise<void> {
    const volume = this.depth > 1;
    const zarray = {
      zarr_format: 2,
      shape: volume ? [level.depth, level.height, level.width] : [level.height, level.width],
      chunks: volume ? [1, level.chunkHeight, level.chunkWidth] : [level.chunkHeight, level.chunkWidth],
      dtype: SAMPLES[this.sampleType].dtype,
      compressor: { id: 'zlib', level: this.compressionLevel },
      fill_value: 0,
      order: 'C',
      filters: null,
      dimension_separator: '/',
    };
    await writeFileAtomic(join(this.root, level.path, '.zarray'), `${JSON.stringify(zarray, null, 1)}\n`);
  }

  private chunkPath(level: Level, chunk: ChunkIndex): string {
    return this.depth > 1
      ? join(this.root, level.path, String(chunk.z), String(chunk.cy), String(chunk.cx))
      : join(this.root, level.path, String(chunk.cy), String(chunk.cx));
  }

  private checkChunk(level: Level, chunk: ChunkIndex): void {
    const { columns, rows } = chunkGrid(level);
    const ok = [chunk.z, chunk.cx, chunk.cy].every(Number.isInteger) &&
      chunk.z >= 0 && chunk.z < level.depth && chunk.cx >= 0 && chunk.cx < columns && chunk.cy >= 0 && chunk.cy < rows;
    if (!ok) {
      throw new RangeError(`chunk: expected z 0-${level.depth - 1}, cx 0-${columns - 1}, cy 0-${rows - 1}, found z ${chunk.z}, cx ${chunk.cx}, cy ${chunk.cy}`);
    }
  }

  writeChunk(chunk: ChunkIndex, data: SampleArray): Promise<void> {
    return this.writeLevelChunk(this.level(0), chunk, data);
  }

  private async writeLevelChunk(level: Level, chunk: ChunkIndex, data: SampleArray): Promise<void> {
    this.checkChunk(level, chunk);
    const box = chunkBox(level, chunk);
    const expectedType = SAMPLES[this.sampleType].array;
    if (!(data instanceof expectedType) || data.length !== box.width * box.height) {
      throw new RangeError(`chunk data: expected a ${expectedType.name} of ${box.width * box.height} pixels (${box.width}x${box.height}), found a ${data.constructor.name} of ${data.length}`);
    }
    // Zarr v2 chunks are always full size; the part outside the array holds the fill value 0.
    let full = data;
    if (box.width !== level.chunkWidth || box.height !== level.chunkHeight) {
      full = new expectedType(level.chunkWidth * level.chunkHeight);
      for (let y = 0; y < box.height; y += 1) full.set(data.subarray(y * box.width, (y + 1) * box.width), y * level.chunkWidth);
    }
    const bytes = new Uint8Array(full.buffer, full.byteOffset, full.byteLength); // little-endian on every platform Node runs on
    const compressed = await deflateBytes(bytes, this.compressionLevel);
    await writeFileAtomic(this.chunkPath(level, chunk), compressed);
  }

  isChunkComplete(chunk: ChunkIndex): Promise<boolean> {
    this.checkChunk(this.level(0), chunk);
    return exists(this.chunkPath(this.level(0), chunk));
  }

  /** Reads one chunk of a level back, cropped to the array. */
  private async readLevelChunk(level: Level, chunk: ChunkIndex): Promise<SampleImage<SampleArray>> {
    const path = this.chunkPath(level, chunk);
    const { array: Samples, bytes: sampleBytes } = SAMPLES[this.sampleType];
    let bytes: Uint8Array<ArrayBuffer>;
    try {
      bytes = await inflateBytes(await readFile(path), level.chunkWidth * level.chunkHeight * sampleBytes);
    } catch (error) {
      throw new EmsegError('E_CORRUPT', `${this.name}: chunk ${path.slice(this.root.length + 1)} cannot be read (${(error as Error).message})`);
    }
    if (bytes.length !== level.chunkWidth * level.chunkHeight * sampleBytes) {
      throw new EmsegError('E_CORRUPT', `${this.name}: chunk ${path.slice(this.root.length + 1)} holds ${bytes.length} bytes, ${level.chunkWidth * level.chunkHeight * sampleBytes} expected`);
    }
    const full = new Samples(bytes.buffer, 0, bytes.length / sampleBytes);
    const box = chunkBox(level, chunk);
    if (box.width === level.chunkWidth && box.height === level.chunkHeight) return { width: box.width, height: box.height, data: full };
    const out = new Samples(box.width * box.height);
    for (let y = 0; y < box.height; y += 1) out.set(full.subarray(y * level.chunkWidth, y * level.chunkWidth + box.width), y * box.width);
    return { width: box.width, height: box.height, data: out };
  }

  /** A region of one slice of the full-resolution level, from the chunks written (which must be complete). */
  readRegion(z: number, box: Box): Promise<SampleImage<SampleArray>> {
    return this.readLevelRegion(this.level(0), z, box);
  }

  /** A region of one slice of a level, assembled from the chunks it touches. */
  private async readLevelRegion(level: Level, z: number, box: Box): Promise<SampleImage<SampleArray>> {
    const out = new SAMPLES[this.sampleType].array(box.width * box.height);
    const cx0 = Math.floor(box.x / level.chunkWidth);
    const cx1 = Math.floor((box.x + box.width - 1) / level.chunkWidth);
    const cy0 = Math.floor(box.y / level.chunkHeight);
    const cy1 = Math.floor((box.y + box.height - 1) / level.chunkHeight);
    for (let cy = cy0; cy <= cy1; cy += 1) {
      for (let cx = cx0; cx <= cx1; cx += 1) {
        const chunk = await this.readLevelChunk(level, { z, cx, cy });
        const cb = chunkBox(level, { z, cx, cy });
        const x0 = Math.max(box.x, cb.x);
        const x1 = Math.min(box.x + box.width, cb.x + cb.width);
        const y0 = Math.max(box.y, cb.y);
        const y1 = Math.min(box.y + box.height, cb.y + cb.height);
        for (let y = y0; y < y1; y += 1) {
          const from = (y - cb.y) * cb.width + (x0 - cb.x);
          out.set(chunk.data.subarray(from, from + (x1 - x0)), (y - box.y) * box.width + (x0 - box.x));
        }
      }
    }
    return { width: box.width, height: box.height, data: out };
  }

  /** Level-0 chunks not written yet. */
  async missingChunks(): Promise<ChunkIndex[]> {
    const missing: ChunkIndex[] = [];
    for (const chunk of allChunks(this.level(0))) {
      if (!(await exists(this.chunkPath(this.level(0), chunk)))) missing.push(chunk);
    }
    return missing;
  }

  async finalize(): Promise<void> {
    const missing = await this.missingChunks();
    if (missing.length > 0) {
      const first = missing[0]!;
      const total = [...allChunks(this.level(0))].length;
      throw new EmsegError('E_CORRUPT', `${this.name}: ${missing.length} of ${total} chunks are not written yet (first: slice ${first.z}, chunk row ${first.cy}, column ${first.cx}); finish every shard before the final step`);
    }
    const rule: DownsampleRule = this.kind === 'mask' ? 'majority' : this.kind === 'labels' ? 'nearest' : 'mean';
    for (let index = 1; index <= this.levelCount; index += 1) {
      const above = this.level(index - 1);
      const level = this.level(index);
      await this.writeArrayMetadata(level);
      // a level's chunks are built LEVEL_CHUNKS_AT_ONCE at a time: their reads, inflates, deflates
      // and writes run on libuv's threads while this thread halves another chunk
      await forEachConcurrently(allChunks(level), LEVEL_CHUNKS_AT_ONCE, async (chunk) => {
        if (await exists(this.chunkPath(level, chunk))) return;
        const box = chunkBox(level, chunk);
        const source = {
          x: box.x * 2,
          y: box.y * 2,
          width: Math.min(box.width * 2, above.width - box.x * 2),
          height: Math.min(box.height * 2, above.height - box.y * 2),
        };
        const halved = halveImage(await this.readLevelRegion(above, chunk.z, source), rule);
        await this.writeLevelChunk(level, chunk, halved.data);
      });
    }
    if (this.kind === 'labels') {
      // NGFF 0.4 image-label; no `colors` (SHOULD, not MUST) for what may be millions of cells, no `source` (no image beside them)
      const labelAttributes = { multiscales: [this.multiscales(rule)], 'image-label': { version: '0.4' } };
      await writeFileAtomic(join(this.root, LABELS_PATH, IDENTITY_FILE), `${JSON.stringify(labelAttributes, null, 1)}\n`);
      await writeFileAtomic(join(this.root, IDENTITY_FILE), `${JSON.stringify({ emseg: { ...this.identity, complete: true } }, null, 1)}\n`);
      return;
    }
    const attributes = { multiscales: [this.multiscales(rule)], emseg: { ...this.identity, complete: true } };
    await writeFileAtomic(join(this.root, IDENTITY_FILE), `${JSON.stringify(attributes, null, 1)}\n`);
  }

  /** The NGFF 0.4 `multiscales` entry. */
  private multiscales(rule: DownsampleRule): Record<string, unknown> {
    const size = this.pixelSize;
    const unit = size ? { unit: size.unit } : {};
    const spatial = [{ name: 'y', type: 'space', ...unit }, { name: 'x', type: 'space', ...unit }];
    const volume = this.depth > 1;
    const axes = volume ? [{ name: 'z', type: 'space', ...unit }, ...spatial] : spatial;
    const sx = size?.x ?? 1;
    const sy = size?.y ?? 1;
    const sz = size?.z ?? 1;
    const datasets = [];
    for (let index = 0; index <= this.levelCount; index += 1) {
      const f = 2 ** index;
      // A level-k pixel summarizes f x f level-0 pixels: its centre lies (f - 1) / 2 pixels in.
      const scale = volume ? [sz, sy * f, sx * f] : [sy * f, sx * f];
      const shift = volume ? [0, ((f - 1) / 2) * sy, ((f - 1) / 2) * sx] : [((f - 1) / 2) * sy, ((f - 1) / 2) * sx];
      const transforms: Record<string, unknown>[] = [{ type: 'scale', scale }];
      if (index > 0) transforms.push({ type: 'translation', translation: shift });
      datasets.push({ path: String(index), coordinateTransformations: transforms });
    }
    return {
      version: '0.4',
      name: this.kind === 'labels' ? 'cells' : this.kind,
      axes,
      datasets,
      type: rule === 'majority' ? 'mode' : rule,
      metadata: {
        description: rule === 'majority'
          ? 'levels halved in x and y: 255 where more than half of the 2x2 block is 255, else 0'
          : rule === 'nearest'
            ? 'levels halved in x and y: the top-left label of the 2x2 block'
            : 'levels halved in x and y: mean of the 2x2 block',
      },
    };
  }

  async close(): Promise<void> {
    // Every write is complete when its promise resolves; nothing is held open.
  }
}

export function openOmeZarrSink(options: OmeZarrSinkOptions): Promise<OmeZarrSink> {
  return OmeZarrSink.open(options);
}
