/**
 * Volumes too large for memory, read and written region by region (large TIFF/BigTIFF and
 * OME-Zarr inputs and outputs). Platform-neutral interfaces only: the Node implementations live in
 * node/ (file handles), the streaming inference that joins them in core/.
 *
 * A volume is `depth` slices of `height` x `width` pixels; a 2D image is a volume of depth 1.
 */
import type { BitDepth, GreyImage, PixelSize } from './image.ts';
import type { Box } from './padding.ts';

export type { PixelSize };

/** A grey volume read by regions; only the regions asked for are brought into memory. */
export interface VolumeSource {
  /** Names the source in error messages (usually the path). */
  readonly name: string;
  readonly width: number;
  readonly height: number;
  readonly depth: number;
  /** 8 and 16: unsigned integers; 32: float32 (core/image.ts). */
  readonly bitDepth: BitDepth;
  readonly pixelSize?: PixelSize;
  /**
   * The source's native block (a TIFF tile or strip, a Zarr chunk's y and x), when it decodes in
   * blocks: a region aligned to it decodes nothing twice (core/block-cache.ts uses it).
   */
  readonly blockWidth?: number;
  readonly blockHeight?: number;
  /** Pixels of slice `z` inside `box` (which lies inside the slice), as a box.width x box.height image. */
  readRegion(z: number, box: Box): Promise<GreyImage>;
  close(): Promise<void>;
}

/** uint8: masks and quantized probabilities; float32: probabilities; uint32: cell labels. */
export type VolumeSampleType = 'uint8' | 'float32' | 'uint32';

/** Where a chunk of the output lies: slice `z`, chunk column `cx`, chunk row `cy`. */
export interface ChunkIndex {
  z: number;
  cx: number;
  cy: number;
}

/**
 * An output volume written chunk by chunk (chunks of chunkWidth x chunkHeight pixels of one slice;
 * chunks on the right and bottom edges are cropped to the volume). Writing a chunk is atomic:
 * a chunk is either complete or absent, so a killed job can be resumed.
 */
export interface VolumeSink {
  readonly width: number;
  readonly height: number;
  readonly depth: number;
  readonly chunkWidth: number;
  readonly chunkHeight: number;
  readonly sampleType: VolumeSampleType;
  /** `data` holds the chunk's pixels row-major at its real (possibly cropped) size. */
  writeChunk(chunk: ChunkIndex, data: Uint8Array | Float32Array | Uint32Array): Promise<void>;
  /** True when the chunk was written completely by this job (or an earlier run of the same job). */
  isChunkComplete(chunk: ChunkIndex): Promise<boolean>;
  /** After every chunk is written: derived levels, metadata, final rename. Idempotent. */
  finalize(): Promise<void>;
  close(): Promise<void>;
}

/** The chunk layout of a sink: slice size and chunk size. */
export interface ChunkLayout {
  readonly width: number;
  readonly height: number;
  readonly depth: number;
  readonly chunkWidth: number;
  readonly chunkHeight: number;
}

/** Chunk columns and rows of one slice. */
export function chunkGrid(layout: ChunkLayout): { columns: number; rows: number } {
  return { columns: Math.ceil(layout.width / layout.chunkWidth), rows: Math.ceil(layout.height / layout.chunkHeight) };
}

/** The pixels of slice `chunk.z` that a chunk covers (cropped at the right and bottom edges). */
export function chunkBox(layout: ChunkLayout, chunk: ChunkIndex): Box {
  const x = chunk.cx * layout.chunkWidth;
  const y = chunk.cy * layout.chunkHeight;
  return { x, y, width: Math.min(layout.chunkWidth, layout.width - x), height: Math.min(layout.chunkHeight, layout.height - y) };
}

/** Every chunk of the volume, slice by slice, row by row (shards follow core/chunk-plan.ts chunkOrder). */
export function* allChunks(layout: ChunkLayout): Generator<ChunkIndex> {
  const { columns, rows } = chunkGrid(layout);
  for (let z = 0; z < layout.depth; z += 1) {
    for (let cy = 0; cy < rows; cy += 1) {
      for (let cx = 0; cx < columns; cx += 1) yield { z, cx, cy };
    }
  }
}

/** Chunks of `sink` not written completely yet (another shard's, or an interrupted run's). */
export async function countMissingChunks(sink: VolumeSink): Promise<number> {
  let missing = 0;
  for (const chunk of allChunks(sink)) if (!(await sink.isChunkComplete(chunk))) missing += 1;
  return missing;
}
