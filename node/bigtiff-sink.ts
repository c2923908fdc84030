/**
 * Writes a large output volume as a tiled BigTIFF (little-endian, one page per slice, Deflate or
 * uncompressed tiles, uint8, float32 or uint32), readable by tifffile, Fiji/Bio-Formats and QuPath.
 *
 * - Tiles are appended to `.<name>.partial` beside the output as they come (any order, several at
 *   once: each write reserves its byte range first), so only one tile is in memory per write.
 * - finalize() writes the image directories (IFDs) after the tiles, then the header that points
 *   to them, and renames the partial file to the output: the output appears complete or not at all.
 * - Page 0 carries an OME-XML ImageDescription (size, sample type, physical pixel size) and every
 *   page the resolution tags (pixels per centimetre) when a pixel size is given.
 * - Resume: the tiles go to `.<name>.partial` beside the output and each finished tile is
 *   appended to `.<name>.journal` (first line: the job identity, then `tile offset bytes`). The
 *   same job opened again (after a crash or SIGKILL) keeps the tiles the journal lists and writes
 *   the rest; a torn last line is ignored. An unfinished output of another job there is refused.
 *   One writer per TIFF output: shard across processes with an OME-Zarr output instead.
 * - A pyramid: finalize() adds reduced levels as SubIFDs of each page (the OME-TIFF pyramid layout
 *   that Bio-Formats, QuPath and tifffile read), halved until a level fits one tile, made from the
 *   tiles read back from the file with core/downsample.ts (masks: majority, probabilities: mean,
 *   labels: nearest).
 */
import { open, readFile, rename, stat, unlink, writeFile, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { EmsegError } from '../core/errors.ts';
import { metresPerUnit, omeUnitSymbol } from '../core/tiff-pixel-size.ts';
import { tiffRational } from '../core/tiff-write.ts';
import { allChunks, chunkBox, chunkGrid, type ChunkIndex, type ChunkLayout, type PixelSize, type VolumeSampleType, type VolumeSink } from '../core/volume.ts';
import { halveImage, pyramidLevelCount, type SampleImage } from '../core/downsample.ts';
import type { Box } from '../core/padding.ts';
import type { OutputKind } from './ome-zarr-sink.ts';
import { assertNotAnInput } from './atomic-write.ts';
import { deflateBytes, inflateBytes } from './zlib-bytes.ts';

export interface BigTiffSinkOptions {
  /** The output file, e.g. `out.tif`. */
  path: string;
  width: number;
  height: number;
  depth: number;
  /** Tile size, a multiple of 16 (TIFF). Default 512. */
  tileSize?: number;
  sampleType: VolumeSampleType;
  pixelSize?: PixelSize;
  /** 'deflate' (default, zlib level 1) or 'none'. */
  compression?: 'deflate' | 'none';
  /** Files this command reads; writing onto one of them is refused. */
  inputs?: readonly string[];
  /** When false, an existing output is refused with E_OUTPUT_EXISTS. Default true. */
  overwrite?: boolean;
  /** OME-XML image name. Default 'emseg'. */
  imageName?: string;
  /** Identifies the job (any JSON) for resume; an unfinished output of another job is refused. */
  job?: unknown;
  /** What the pixels are: decides how the reduced levels are made (masks: majority, probabilities: mean, labels: nearest). Default 'mask'. */
  kind?: OutputKind;
  /** Reduced levels (SubIFDs) written by finalize(). Default: halve until a level fits one tile, at most 6. */
  levels?: number;
}

/** One resolution level of the pyramid: its size and tile tables (all pages, page after page). */
interface Level extends ChunkLayout {
  readonly offsets: Float64Array;
  readonly byteCounts: Float64Array;
}

const FORMAT = 'emseg-bigtiff-1';

/** The typed array of each sample type (uint8 masks, float32 probabilities, uint32 cell labels). */
const SAMPLE_ARRAYS = { uint8: Uint8Array, float32: Float32Array, uint32: Uint32Array } as const;

/** TIFF field types used here. */
const ASCII = 2;
const SHORT = 3;
const LONG = 4;
const RATIONAL = 5;
const LONG8 = 16;
const IFD8 = 18;

interface Entry {
  tag: number;
  type: number;
  values: readonly number[] | string;
}

function xmlEscape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

export class BigTiffSink implements VolumeSink {
  readonly width: number;
  readonly height: number;
  readonly depth: number;
  readonly chunkWidth: number;
  readonly chunkHeight: number;
  readonly sampleType: VolumeSampleType;
  readonly name: string;
  private readonly compression: 'deflate' | 'none';
  private readonly offsets: Float64Array;
  private readonly byteCounts: Float64Array;
  /** Level 0 (the tiles written by writeChunk) and, during finalize(), the reduced levels. */
  private readonly levels: Level[];
  private end = 16; // after the header
  private finished = false;

  private constructor(
    private readonly options: BigTiffSinkOptions,
    private readonly handle: FileHandle,
    private readonly journal: FileHandle,
    private readonly files: { partial: string; journal: string },
  ) {
    this.name = options.path;
    this.width = options.width;
    this.height = options.height;
    this.depth = options.depth;
    this.chunkWidth = options.tileSize ?? 512;
    this.chunkHeight = this.chunkWidth;
    this.sampleType = options.sampleType;
    this.compression = options.compression ?? 'deflate';
    const { columns, rows } = chunkGrid(this);
    this.offsets = new Float64Array(columns * rows * this.depth);
    this.byteCounts = new Float64Array(columns * rows * this.depth);
    this.levels = [{ width: this.width, height: this.height, depth: this.depth, chunkWidth: this.chunkWidth, chunkHeight: this.chunkHeight, offsets: this.offsets, byteCounts: this.byteCounts }];
  }

  static async open(options: BigTiffSinkOptions): Promise<BigTiffSink> {
    for (const [what, value] of [['width', options.width], ['height', options.height], ['depth', options.depth]] as const) {
      if (!Number.isInteger(value) || value <= 0) throw new EmsegError('E_BAD_ARGUMENT', `${what}: expected a positive integer, found ${value}`);
    }
    const tile = options.tileSize ?? 512;
    if (!Number.isInteger(tile) || tile <= 0 || tile % 16 !== 0) throw new EmsegError('E_BAD_ARGUMENT', `tileSize: expected a positive multiple of 16, found ${tile}`);
    if (options.levels !== undefined && (!Number.isInteger(options.levels) || options.levels < 0)) {
      throw new EmsegError('E_BAD_ARGUMENT', `levels: expected an integer >= 0, found ${options.levels}`);
    }
    if (options.inputs) await assertNotAnInput(options.path, options.inputs);
    if (options.overwrite === false && (await stat(options.path).then(() => true, () => false))) {
      throw new EmsegError('E_OUTPUT_EXISTS', `${options.path}: already exists; refusing to overwrite it`);
    }
    const folder = dirname(resolve(options.path));
    if (!(await stat(folder).then((info) => info.isDirectory(), () => false))) {
      throw new EmsegError('E_NOT_FOUND', `${options.path}: the folder ${folder} does not exist`);
    }
    const files = { partial: join(folder, `.${basename(options.path)}.partial`), journal: join(folder, `.${basename(options.path)}.journal`) };
    const identity = JSON.stringify({
      format: FORMAT, job: options.job ?? null, width: options.width, height: options.height, depth: options.depth, tileSize: tile,
      sampleType: options.sampleType, compression: options.compression ?? 'deflate', pixelSize: options.pixelSize ?? null,
    });
    const journalText = await readFile(files.journal, 'utf8').catch(() => undefined);
    const partialSize = await stat(files.partial).then((info) => info.size, () => undefined);
    if (journalText !== undefined && partialSize !== undefined) {
      const lines = journalText.split('\n');
      if (lines[0] !== identity) {
        throw new EmsegError('E_OUTPUT_EXISTS', `${options.path}: an unfinished output of another job lies beside it (${basename(files.partial)}, ${basename(files.journal)}); delete them or choose another output path`);
      }
      const handle = await open(files.partial, 'r+');
      const journal = await open(files.journal, 'a').catch(closingFirst(handle));
      const sink = new BigTiffSink(options, handle, journal, files);
      sink.end = Math.max(16, partialSize + (partialSize % 2));
      // The last element is '' after a complete line, or a torn line: either way not a tile.
      for (const line of lines.slice(1, -1)) {
        const [index, offset, bytes] = line.split(' ').map(Number) as [number, number, number];
        if (index >= 0 && index < sink.byteCounts.length && offset >= 16 && bytes > 0 && offset + bytes <= partialSize) {
          sink.offsets[index] = offset;
          sink.byteCounts[index] = bytes;
        }
      }
      return sink;
    }
    const handle = await open(files.partial, 'w+'); // read back by finalize() for the reduced levels
    // On a full disk the journal's first line can fail: the partial file's handle is closed first.
    await writeFile(files.journal, `${identity}\n`).catch(closingFirst(handle));
    const journal = await open(files.journal, 'a').catch(closingFirst(handle));
    return new BigTiffSink(options, handle, journal, files);
  }

  private tileIndex(chunk: ChunkIndex): number {
    const { columns, rows } = chunkGrid(this);
    const ok = [chunk.z, chunk.cx, chunk.cy].every(Number.isInteger) &&
      chunk.z >= 0 && chunk.z < this.depth && chunk.cx >= 0 && chunk.cx < columns && chunk.cy >= 0 && chunk.cy < rows;
    if (!ok) {
      throw new RangeError(`chunk: expected z 0-${this.depth - 1}, cx 0-${columns - 1}, cy 0-${rows - 1}, found z ${chunk.z}, cx ${chunk.cx}, cy ${chunk.cy}`);
    }
    return (chunk.z * rows + chunk.cy) * columns + chunk.cx;
  }

  async writeChunk(chunk: ChunkIndex, data: Uint8Array | Float32Array | Uint32Array): Promise<void> {
    if (this.finished) throw new Error(`${this.name}: writeChunk after finalize`);
    const index = this.tileIndex(chunk);
    const box = chunkBox(this, chunk);
    const Type = SAMPLE_ARRAYS[this.sampleType];
    if (!(data instanceof Type) || data.length !== box.width * box.height) {
      throw new RangeError(`chunk data: expected a ${Type.name} of ${box.width * box.height} pixels (${box.width}x${box.height}), found a ${data.constructor.name} of ${data.length}`);
    }
    const at = await this.appendTile(this.levels[0]!, chunk, data);
    await this.journal.write(`${index} ${at.offset} ${at.bytes}\n`); // after the tile: a listed tile is complete
  }

  /** Appends one tile of `level` (cropped data of the tile's real size) and records it in the level's table. */
  private async appendTile(level: Level, chunk: ChunkIndex, data: Uint8Array | Float32Array | Uint32Array): Promise<{ offset: number; bytes: number }> {
    const box = chunkBox(level, chunk);
    const Type = SAMPLE_ARRAYS[this.sampleType];
    // TIFF tiles are always full size; the part outside the image is zero.
    let full = data;
    if (box.width !== this.chunkWidth || box.height !== this.chunkHeight) {
      full = new Type(this.chunkWidth * this.chunkHeight);
      for (let y = 0; y < box.height; y += 1) full.set(data.subarray(y * box.width, (y + 1) * box.width), y * this.chunkWidth);
    }
    const raw = new Uint8Array(full.buffer, full.byteOffset, full.byteLength); // little-endian, as the header says
    const bytes = this.compression === 'deflate' ? await deflateBytes(raw, 1) : raw;
    const at = this.end;
    this.end += bytes.length + (bytes.length % 2); // word-aligned, as TIFF asks
    await this.handle.write(bytes, 0, bytes.length, at);
    const { columns, rows } = chunkGrid(level);
    const index = (chunk.z * rows + chunk.cy) * columns + chunk.cx;
    level.offsets[index] = at;
    level.byteCounts[index] = bytes.length;
    return { offset: at, bytes: bytes.length };
  }

  /** A region of one page of a level, read back from the file tile by tile. */
  private async readLevelRegion(level: Level, z: number, box: Box): Promise<SampleImage<Uint8Array | Float32Array | Uint32Array>> {
    const Type = SAMPLE_ARRAYS[this.sampleType];
    const out = new Type(box.width * box.height);
    const { columns, rows } = chunkGrid(level);
    for (let cy = Math.floor(box.y / this.chunkHeight); cy <= Math.floor((box.y + box.height - 1) / this.chunkHeight); cy += 1) {
      for (let cx = Math.floor(box.x / this.chunkWidth); cx <= Math.floor((box.x + box.width - 1) / this.chunkWidth); cx += 1) {
        const index = (z * rows + cy) * columns + cx;
        const stored = new Uint8Array(level.byteCounts[index]!);
        await this.handle.read(stored, 0, stored.length, level.offsets[index]!);
        const bytes = this.compression === 'deflate' ? await inflateBytes(stored, this.chunkWidth * this.chunkHeight * Type.BYTES_PER_ELEMENT) : stored;
        const tile = new Type(bytes.buffer, bytes.byteOffset, bytes.byteLength / Type.BYTES_PER_ELEMENT);
        const x0 = Math.max(box.x, cx * this.chunkWidth);
        const x1 = Math.min(box.x + box.width, (cx + 1) * this.chunkWidth);
        for (let y = Math.max(box.y, cy * this.chunkHeight); y < Math.min(box.y + box.height, (cy + 1) * this.chunkHeight); y += 1) {
          const from = (y - cy * this.chunkHeight) * this.chunkWidth + (x0 - cx * this.chunkWidth);
          out.set(tile.subarray(from, from + (x1 - x0)), (y - box.y) * box.width + (x0 - box.x));
        }
      }
    }
    return { width: box.width, height: box.height, data: out };
  }

  /** The reduced levels, each made from the one above, tile by tile (four tiles in memory at most). */
  private async writePyramid(): Promise<void> {
    this.levels.length = 1; // a finalize() run again after a crash makes them anew
    const count = this.options.levels ?? pyramidLevelCount(this.width, this.height, this.chunkWidth, this.chunkHeight);
    const kind = this.options.kind ?? 'mask';
    const rule = kind === 'mask' ? 'majority' : kind === 'labels' ? 'nearest' : 'mean';
    for (let k = 1; k <= count; k += 1) {
      const above = this.levels[k - 1]!;
      const shape = { width: Math.ceil(above.width / 2), height: Math.ceil(above.height / 2), depth: this.depth, chunkWidth: this.chunkWidth, chunkHeight: this.chunkHeight };
      const { columns, rows } = chunkGrid(shape);
      const level: Level = { ...shape, offsets: new Float64Array(columns * rows * this.depth), byteCounts: new Float64Array(columns * rows * this.depth) };
      for (const chunk of allChunks(level)) {
        const box = chunkBox(level, chunk);
        const source = { x: box.x * 2, y: box.y * 2, width: Math.min(box.width * 2, above.width - box.x * 2), height: Math.min(box.height * 2, above.height - box.y * 2) };
        await this.appendTile(level, chunk, halveImage(await this.readLevelRegion(above, chunk.z, source), rule).data);
      }
      this.levels.push(level);
    }
  }

  async isChunkComplete(chunk: ChunkIndex): Promise<boolean> {
    return this.byteCounts[this.tileIndex(chunk)]! > 0;
  }

  private omeXml(): string {
    const o = this.options;
    const size = o.pixelSize;
    const physical: string[] = [];
    if (size) {
      const unit = omeUnitSymbol(size.unit);
      if (unit) {
        physical.push(`PhysicalSizeX="${size.x}" PhysicalSizeXUnit="${unit}" PhysicalSizeY="${size.y}" PhysicalSizeYUnit="${unit}"`);
        if (size.z !== undefined) physical.push(`PhysicalSizeZ="${size.z}" PhysicalSizeZUnit="${unit}"`);
      }
    }
    const type = this.sampleType === 'float32' ? 'float' : this.sampleType;
    return [
      '<?xml version="1.0" encoding="UTF-8"?>',
      '<OME xmlns="http://www.openmicroscopy.org/Schemas/OME/2016-06" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" ' +
        'xsi:schemaLocation="http://www.openmicroscopy.org/Schemas/OME/2016-06 http://www.openmicroscopy.org/Schemas/OME/2016-06/ome.xsd" Creator="emseg">',
      `<Image ID="Image:0" Name="${xmlEscape(o.imageName ?? 'emseg')}">`,
      `<Pixels ID="Pixels:0" DimensionOrder="XYZCT" Type="${type}" SizeX="${this.width}" SizeY="${this.height}" SizeZ="${this.depth}" SizeC="1" SizeT="1" ` +
        `BigEndian="false" Interleaved="false" SignificantBits="${this.sampleType === 'uint8' ? 8 : 32}"${physical.length ? ` ${physical.join(' ')}` : ''}>`,
      '<Channel ID="Channel:0:0" SamplesPerPixel="1"><LightPath/></Channel>',
      `<TiffData IFD="0" PlaneCount="${this.depth}"/>`,
      '</Pixels>',
      '</Image>',
      '</OME>',
    ].join('\n');
  }

  /** The tags of page `z` at `level` (0: the full image, with `subIfds` pointing at its reduced levels). */
  private entries(z: number, level: Level, subIfds: readonly number[]): Entry[] {
    const { columns, rows } = chunkGrid(level);
    const perPage = columns * rows;
    const first = z * perPage;
    const uint8 = this.sampleType === 'uint8';
    const factor = this.width / level.width;
    const entries: Entry[] = [
      { tag: 254, type: LONG, values: [level === this.levels[0] ? 0 : 1] },
      { tag: 256, type: LONG, values: [level.width] },
      { tag: 257, type: LONG, values: [level.height] },
      { tag: 258, type: SHORT, values: [uint8 ? 8 : 32] },
      { tag: 259, type: SHORT, values: [this.compression === 'deflate' ? 8 : 1] },
      { tag: 262, type: SHORT, values: [1] },
    ];
    if (z === 0 && level === this.levels[0]) entries.push({ tag: 270, type: ASCII, values: this.omeXml() });
    entries.push({ tag: 277, type: SHORT, values: [1] });
    const size = this.options.pixelSize;
    const metres = size ? metresPerUnit(size.unit) : undefined;
    if (size && metres) {
      entries.push({ tag: 282, type: RATIONAL, values: tiffRational(0.01 / (size.x * metres * factor)) });
      entries.push({ tag: 283, type: RATIONAL, values: tiffRational(0.01 / (size.y * metres * factor)) });
    }
    entries.push({ tag: 284, type: SHORT, values: [1] });
    if (size && metres) entries.push({ tag: 296, type: SHORT, values: [3] }); // centimetre
    entries.push(
      { tag: 305, type: ASCII, values: 'emseg' },
      { tag: 322, type: SHORT, values: [this.chunkWidth] },
      { tag: 323, type: SHORT, values: [this.chunkHeight] },
      { tag: 324, type: LONG8, values: Array.from(level.offsets.subarray(first, first + perPage)) },
      { tag: 325, type: LONG8, values: Array.from(level.byteCounts.subarray(first, first + perPage)) },
    );
    if (subIfds.length > 0) entries.push({ tag: 330, type: IFD8, values: subIfds });
    entries.push({ tag: 339, type: SHORT, values: [this.sampleType === 'float32' ? 3 : 1] }); // SampleFormat: float or unsigned integer
    return entries;
  }

  /** One BigTIFF IFD at `at` with its out-of-line values after it; returns its bytes. */
  private encodeIfd(entries: Entry[], at: number, next: number): Uint8Array {
    const valueBytes = (e: Entry): Uint8Array => {
      if (typeof e.values === 'string') return new TextEncoder().encode(`${e.values}\0`);
      const size = e.type === SHORT ? 2 : e.type === LONG ? 4 : 8; // RATIONAL: two LONGs; LONG8, IFD8: 8
      const out = new Uint8Array(e.values.length * (e.type === RATIONAL ? 4 : size));
      const view = new DataView(out.buffer);
      e.values.forEach((v, i) => {
        if (e.type === SHORT) view.setUint16(i * 2, v, true);
        else if (e.type === LONG || e.type === RATIONAL) view.setUint32(i * 4, v, true);
        else view.setBigUint64(i * 8, BigInt(v), true);
      });
      return out;
    };
    const encoded = entries.map(valueBytes);
    const headSize = 8 + entries.length * 20 + 8;
    let extra = 0;
    for (const bytes of encoded) if (bytes.length > 8) extra += bytes.length + (bytes.length % 2);
    const out = new Uint8Array(headSize + extra);
    const view = new DataView(out.buffer);
    view.setBigUint64(0, BigInt(entries.length), true);
    let tail = headSize;
    entries.forEach((e, i) => {
      const o = 8 + i * 20;
      const bytes = encoded[i]!;
      const count = typeof e.values === 'string' ? bytes.length : e.type === RATIONAL ? e.values.length / 2 : e.values.length;
      view.setUint16(o, e.tag, true);
      view.setUint16(o + 2, e.type, true);
      view.setBigUint64(o + 4, BigInt(count), true);
      if (bytes.length <= 8) {
        out.set(bytes, o + 12);
      } else {
        view.setBigUint64(o + 12, BigInt(at + tail), true);
        out.set(bytes, tail);
        tail += bytes.length + (bytes.length % 2);
      }
    });
    view.setBigUint64(8 + entries.length * 20, BigInt(next), true);
    return out;
  }

  async finalize(): Promise<void> {
    if (this.finished) return;
    let missing = 0;
    let first: ChunkIndex | undefined;
    for (const chunk of allChunks(this)) {
      if (this.byteCounts[this.tileIndex(chunk)] === 0) {
        missing += 1;
        first ??= chunk;
      }
    }
    if (first) {
      throw new EmsegError('E_CORRUPT', `${this.name}: ${missing} tiles are not written yet (first: slice ${first.z}, tile row ${first.cy}, column ${first.cx})`);
    }
    await this.writePyramid();
    // IFDs after the tiles: each page's IFD followed by its reduced levels' (SubIFDs); then the
    // header pointing at page 0. IFD sizes do not depend on the offsets in them: measure, then write.
    const layout: { at: number; entries: (subIfds: number[]) => Entry[] }[][] = [];
    let at = this.end;
    for (let z = 0; z < this.depth; z += 1) {
      const page = this.levels.map((level) => ({ at: 0, entries: (subIfds: number[]) => this.entries(z, level, subIfds) }));
      for (const [i, ifd] of page.entries()) {
        ifd.at = at;
        at += this.encodeIfd(ifd.entries(i === 0 ? new Array<number>(this.levels.length - 1).fill(0) : []), 0, 0).length;
      }
      layout.push(page);
    }
    for (const [z, page] of layout.entries()) {
      const next = z + 1 < layout.length ? layout[z + 1]![0]!.at : 0;
      for (const [i, ifd] of page.entries()) {
        const bytes = i === 0
          ? this.encodeIfd(ifd.entries(page.slice(1).map((sub) => sub.at)), ifd.at, next)
          : this.encodeIfd(ifd.entries([]), ifd.at, 0);
        await this.handle.write(bytes, 0, bytes.length, ifd.at);
      }
    }
    const firstIfd = layout[0]![0]!.at;
    const header = new Uint8Array(16);
    const view = new DataView(header.buffer);
    header.set([0x49, 0x49]);
    view.setUint16(2, 43, true);
    view.setUint16(4, 8, true);
    view.setBigUint64(8, BigInt(firstIfd), true);
    await this.handle.write(header, 0, 16, 0);
    await this.handle.sync();
    await this.handle.close();
    await this.journal.close();
    await rename(this.files.partial, this.options.path);
    await unlink(this.files.journal).catch(() => undefined);
    this.finished = true;
  }

  /** Without finalize(): keeps the partial file and its journal, so the same job resumes. */
  async close(): Promise<void> {
    if (this.finished) return;
    this.finished = true;
    await this.handle.close().catch(() => undefined);
    await this.journal.close().catch(() => undefined);
  }

  /** Without finalize(): removes the partial file and its journal. */
  async discard(): Promise<void> {
    await this.close();
    await unlink(this.files.partial).catch(() => undefined);
    await unlink(this.files.journal).catch(() => undefined);
  }
}

export function openBigTiffSink(options: BigTiffSinkOptions): Promise<BigTiffSink> {
  return BigTiffSink.open(options);
}

/** A rejection handler that closes `handle` (ignoring a failure to close) and rethrows the error. */
function closingFirst(handle: FileHandle): (error: unknown) => Promise<never> {
  return async (error: unknown) => {
    await handle.close().catch(() => undefined);
    throw error;
  };
}
