/**
 * An OME-Zarr store (OME-NGFF 0.4 on Zarr v2, 0.5 on Zarr v3) as a VolumeSource (core/volume.ts),
 * read with zarrita: a 2D image (y, x) or a volume (z, y, x), also with singleton t and c axes
 * (e.g. t, c, z, y, x of size 1 x 1 x Z x Y x X); one resolution level, chosen by `level`
 * (default 0, the full resolution). Only the chunks a region touches are read.
 *
 * - Pixel size: the level's `scale` transform times the multiscale's own, unit from the x axis.
 * - A missing chunk is an E_CORRUPT naming it (a store still being written, or damaged) instead of
 *   zarrita's silent fill value; `missingChunks: 'fill'` reads stores that leave empty chunks out.
 * - Sample types: uint8 and uint16 stay; float32 stays; int8/int16/int32/uint32/float64 become
 *   float32; bool, 64-bit integers, strings and objects are E_UNSUPPORTED.
 * - A path to a bare Zarr array (no multiscales) is read as that array, without a pixel size.
 * - Guards: keys may not leave the store folder; zlib/gzip chunks inflate into a buffer of the
 *   chunk's size (node/zarr-bounded-codecs.ts); an array whose chunks would decode to more than
 *   `maxChunkBytes` is refused before any chunk is read.
 */
import { open as openFile, readFile } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import * as zarr from 'zarrita';
import { sampleBytes } from './zarr-bounded-codecs.ts';
import { EmsegError, isEmsegError } from '../core/errors.ts';
import type { BitDepth, GreyImage, PixelArray } from '../core/image.ts';
import type { Box } from '../core/padding.ts';
import type { PixelSize, VolumeSource } from '../core/volume.ts';

export interface OmeZarrSourceOptions {
  /** Resolution level (index into `multiscales[0].datasets`). Default 0. */
  level?: number;
  /** 'error' (default): a missing chunk is E_CORRUPT; 'fill': it reads as the fill value, as Zarr allows. */
  missingChunks?: 'error' | 'fill';
  /** Most bytes one decoded chunk may hold (E_TOO_LARGE). Default 256 MiB. */
  maxChunkBytes?: number;
}

const METADATA_FILES = new Set(['.zarray', '.zgroup', '.zattrs', '.zmetadata', 'zarr.json']);

/** A read-only store over a folder that refuses keys leaving it and reports missing chunks. */
class FolderStore {
  constructor(
    private readonly root: string,
    private readonly name: string,
    private readonly missingChunks: 'error' | 'fill',
  ) {}

  private file(key: string): string {
    const path = resolve(this.root, `.${key}`);
    if (path !== this.root && !path.startsWith(this.root + sep)) throw new EmsegError('E_CORRUPT', `${this.name}: key ${key} leaves the store`);
    return path;
  }

  private missing(key: string): undefined {
    const base = key.slice(key.lastIndexOf('/') + 1);
    if (METADATA_FILES.has(base) || this.missingChunks === 'fill') return undefined;
    throw new EmsegError('E_CORRUPT', `${this.name}: chunk ${key.slice(1)} is missing (an incomplete or damaged store)`);
  }

  async get(key: zarr.AbsolutePath): Promise<Uint8Array | undefined> {
    try {
      return new Uint8Array(await readFile(this.file(key)));
    } catch (error) {
      if (isEmsegError(error)) throw error;
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return this.missing(key);
      throw error;
    }
  }

  async getRange(key: zarr.AbsolutePath, range: zarr.RangeQuery): Promise<Uint8Array | undefined> {
    let handle;
    try {
      handle = await openFile(this.file(key), 'r');
    } catch (error) {
      if (isEmsegError(error)) throw error;
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return this.missing(key);
      throw error;
    }
    try {
      const { size } = await handle.stat();
      const offset = 'suffixLength' in range ? Math.max(0, size - range.suffixLength) : range.offset;
      const length = 'suffixLength' in range ? size - offset : range.length;
      if (offset + length > size) throw new EmsegError('E_CORRUPT', `${this.name}: ${key.slice(1)} is shorter than its index says (truncated shard)`);
      const out = new Uint8Array(length);
      await handle.read(out, 0, length, offset);
      return out;
    } finally {
      await handle.close();
    }
  }
}

interface Axis {
  name: string;
  unit?: string;
}

interface Transform {
  type: string;
  scale?: number[];
}

interface Multiscale {
  axes?: (Axis | string)[];
  datasets?: { path: string; coordinateTransformations?: Transform[] }[];
  coordinateTransformations?: Transform[];
}

const BIT_DEPTHS: Readonly<Record<string, BitDepth>> = {
  uint8: 8, uint16: 16, float32: 32, int8: 32, int16: 32, int32: 32, uint32: 32, float64: 32,
};

function scaleOf(transforms: Transform[] | undefined, rank: number): number[] {
  const scale = transforms?.find((t) => t.type === 'scale')?.scale;
  return Array.isArray(scale) && scale.length === rank ? scale.map(Number) : new Array<number>(rank).fill(1);
}

export class OmeZarrSource implements VolumeSource {
  readonly width: number;
  readonly height: number;
  readonly depth: number;
  readonly bitDepth: BitDepth;
  /** The chunks' x and y extent (core/block-cache.ts reads whole chunks through them). */
  readonly blockWidth: number;
  readonly blockHeight: number;

  private constructor(
    readonly name: string,
    private readonly array: zarr.Array<zarr.DataType, FolderStore>,
    private readonly axes: readonly string[],
    private readonly levelName: string,
    readonly pixelSize: PixelSize | undefined,
  ) {
    const shape = array.shape;
    const at = (axis: string): number => shape[axes.indexOf(axis)] ?? 1;
    this.width = at('x');
    this.height = at('y');
    this.depth = at('z');
    this.bitDepth = BIT_DEPTHS[array.dtype]!;
    this.blockWidth = array.chunks[axes.indexOf('x')]!;
    this.blockHeight = array.chunks[axes.indexOf('y')]!;
  }

  static async open(path: string, options: OmeZarrSourceOptions = {}): Promise<OmeZarrSource> {
    const store = new FolderStore(resolve(path), path, options.missingChunks ?? 'error');
    const root = zarr.root(store);
    let node: zarr.Group<FolderStore> | zarr.Array<zarr.DataType, FolderStore>;
    try {
      node = await zarr.open(root);
    } catch (error) {
      if (isEmsegError(error)) throw error;
      const exists = await readFile(join(path, '.zgroup')).then(() => true, () => false);
      throw new EmsegError(exists ? 'E_CORRUPT' : 'E_NOT_AN_IMAGE', `${path}: not a readable Zarr store (${exists ? (error as Error).message.split('\n')[0] : 'no .zgroup, .zarray or zarr.json'})`);
    }
    if (node instanceof zarr.Array) return OmeZarrSource.fromArray(path, node, defaultAxes(node.shape.length), '', undefined, options);
    const attrs = node.attrs as { ome?: { multiscales?: Multiscale[] }; multiscales?: Multiscale[]; emseg?: unknown };
    const multiscale = (attrs.ome?.multiscales ?? attrs.multiscales)?.[0];
    const datasets = multiscale?.datasets;
    if (!multiscale && 'emseg' in attrs) {
      throw new EmsegError('E_CORRUPT', `${path}: an emseg output whose final step has not run yet (no multiscales metadata); finish the job first`);
    }
    if (!multiscale || !Array.isArray(datasets) || datasets.length === 0) {
      throw new EmsegError('E_NOT_AN_IMAGE', `${path}: a Zarr group without OME-NGFF multiscales metadata; give the path of the image (or of one array) instead`);
    }
    const level = options.level ?? 0;
    if (!Number.isInteger(level) || level < 0 || level >= datasets.length) {
      throw new EmsegError('E_BAD_ARGUMENT', `${path}: level ${level} does not exist, the store has levels 0-${datasets.length - 1}`);
    }
    const dataset = datasets[level]!;
    let array: zarr.Array<zarr.DataType, FolderStore>;
    try {
      array = await zarr.open(node.resolve(dataset.path), { kind: 'array' });
    } catch (error) {
      if (isEmsegError(error)) throw error;
      throw new EmsegError('E_CORRUPT', `${path}: level ${level} (array ${dataset.path}) cannot be opened (${(error as Error).message.split('\n')[0]})`);
    }
    const rank = array.shape.length;
    const axisList = (multiscale.axes ?? []).map((a) => (typeof a === 'string' ? { name: a } : a));
    const names = axisList.length === rank ? axisList.map((a) => a.name.toLowerCase()) : defaultAxes(rank);
    const scale = scaleOf(dataset.coordinateTransformations, rank).map((s, i) => s * scaleOf(multiscale.coordinateTransformations, rank)[i]!);
    const xAxis = axisList[names.indexOf('x')];
    const unit = xAxis?.unit;
    const sx = scale[names.indexOf('x')]!;
    const sy = scale[names.indexOf('y')]!;
    const zIndex = names.indexOf('z');
    const pixelSize = unit ? { x: sx, y: sy, ...(zIndex >= 0 ? { z: scale[zIndex]! } : {}), unit, from: `NGFF scale of level ${level}` } : undefined;
    return OmeZarrSource.fromArray(path, array, names, ` level ${level}`, pixelSize, options);
  }

  private static fromArray(
    path: string,
    array: zarr.Array<zarr.DataType, FolderStore>,
    axes: readonly string[],
    levelName: string,
    pixelSize: PixelSize | undefined,
    options: OmeZarrSourceOptions,
  ): OmeZarrSource {
    if (!(array.dtype in BIT_DEPTHS)) {
      throw new EmsegError('E_UNSUPPORTED', `${path}:${levelName} has samples of type ${array.dtype}; emseg reads 8/16/32-bit integers and 32/64-bit floats`);
    }
    const limit = options.maxChunkBytes ?? 256 * 1024 * 1024;
    const chunkBytes = array.chunks.reduce((a, b) => a * b, 1) * sampleBytes(array.dtype)!;
    if (chunkBytes > limit) {
      throw new EmsegError('E_TOO_LARGE', `${path}:${levelName} has chunks of ${array.chunks.join('x')} that decode to ${chunkBytes} bytes each, over the limit of ${limit}; rechunk the store (e.g. 1 x 512 x 512)`);
    }
    if (!axes.includes('x') || !axes.includes('y')) {
      throw new EmsegError('E_UNSUPPORTED', `${path}:${levelName} has axes ${axes.join(', ')}; an image needs y and x`);
    }
    array.shape.forEach((size, i) => {
      const axis = axes[i]!;
      if (!['x', 'y', 'z'].includes(axis) && size !== 1) {
        throw new EmsegError('E_UNSUPPORTED', `${path}:${levelName} has ${size} entries along axis ${axis}; emseg reads one channel of one time point (a z, y, x volume)`);
      }
    });
    return new OmeZarrSource(path, withChunkSizeCheck(array, { name: `${path}:${levelName}` }), axes, levelName, pixelSize);
  }

  async readRegion(z: number, box: Box): Promise<GreyImage> {
    if (!Number.isInteger(z) || z < 0 || z >= this.depth) throw new RangeError(`z: expected 0-${this.depth - 1}, found ${z}`);
    const inside = [box.x, box.y, box.width, box.height].every(Number.isInteger) && box.x >= 0 && box.y >= 0 &&
      box.width > 0 && box.height > 0 && box.x + box.width <= this.width && box.y + box.height <= this.height;
    if (!inside) throw new RangeError(`box: expected a region inside ${this.width}x${this.height}, found ${box.width}x${box.height} at ${box.x},${box.y}`);
    const selection = this.axes.map((axis) =>
      axis === 'x' ? zarr.slice(box.x, box.x + box.width) : axis === 'y' ? zarr.slice(box.y, box.y + box.height) : axis === 'z' ? z : 0,
    );
    let chunk: zarr.Chunk<zarr.DataType>;
    try {
      chunk = (await zarr.get(this.array, selection)) as zarr.Chunk<zarr.DataType>;
    } catch (error) {
      if (isEmsegError(error)) throw error;
      // zarrita wraps a codec's error (ours included) in its own; name both.
      const cause = (error as Error).cause instanceof Error ? `: ${((error as Error).cause as Error).message.split('\n')[0]}` : '';
      throw new EmsegError('E_CORRUPT', `${this.name}:${this.levelName} slice ${z}: ${(error as Error).message.split('\n')[0]}${cause}`, { cause: error });
    }
    // y before x in the axes gives C order rows; a store with x before y is transposed here.
    const source = chunk.data as unknown as ArrayLike<number> & PixelArray;
    const yFirst = this.axes.indexOf('y') < this.axes.indexOf('x');
    let data: PixelArray;
    const native = ['uint8', 'uint16', 'float32'].includes(this.array.dtype);
    if (yFirst && native) {
      data = source;
    } else {
      const Type = this.bitDepth === 8 ? Uint8Array : this.bitDepth === 16 ? Uint16Array : Float32Array;
      data = new Type(box.width * box.height);
      for (let y = 0; y < box.height; y += 1) {
        for (let x = 0; x < box.width; x += 1) data[y * box.width + x] = Number(yFirst ? source[y * box.width + x] : source[x * box.height + y]);
      }
    }
    return { width: box.width, height: box.height, data };
  }

  async close(): Promise<void> {
    // Every read opens and closes its own files.
  }
}

/**
 * Every decoded chunk must hold chunk-shape samples: zarrita would index past a short uncompressed
 * chunk and return zeros (a truncated chunk file read as a silent wrong answer).
 */
const withChunkSizeCheck = zarr.defineArrayExtension((array, opts: { name: string }) => ({
  async getChunk(coords: number[], options?: zarr.GetOptions) {
    const chunk = await array.getChunk(coords, options);
    const expected = array.chunks.reduce((a, b) => a * b, 1);
    if (chunk.data.length !== expected) {
      throw new EmsegError('E_CORRUPT', `${opts.name} chunk ${coords.join('/')} holds ${chunk.data.length} samples, ${expected} expected (truncated or of another type)`);
    }
    return chunk;
  },
}));

/** Axis names when the metadata gives none: the last ones are z, y, x. */
function defaultAxes(rank: number): string[] {
  return ['t', 'c', 'z', 'y', 'x'].slice(Math.max(0, 5 - rank)).slice(-rank);
}

export function openOmeZarrSource(path: string, options?: OmeZarrSourceOptions): Promise<OmeZarrSource> {
  return OmeZarrSource.open(path, options);
}
