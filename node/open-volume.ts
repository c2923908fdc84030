/**
 * Opening a large input or output by its path: the one place that picks the reader or writer.
 *
 * Inputs (openVolume), by content, not by name:
 *   - a folder holding `.zgroup`, `.zarray` or `zarr.json`: OME-Zarr (node/ome-zarr-source.ts)
 *   - a file starting like a TIFF or BigTIFF: node/tiff-volume.ts (regions read on demand)
 *   - a PNG or JPEG file: decoded whole by sharp (node/image-files.ts), a volume of one slice
 * Outputs (openVolumeSink), by name: `*.zarr` (including `*.ome.zarr`) -> OME-Zarr,
 * `*.tif`/`*.tiff` -> tiled BigTIFF (node/bigtiff-sink.ts).
 * Anything else is a one-line EmsegError naming the path and what is accepted.
 */
import { open, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { EmsegError } from '../core/errors.ts';
import { bitDepthOf, type GreyImage, type ImageStack } from '../core/image.ts';
import { sniffImageFormat } from '../core/image-probe.ts';
import { crop } from '../core/padding.ts';
import type { Box } from '../core/padding.ts';
import type { PixelSize, VolumeSampleType, VolumeSink, VolumeSource } from '../core/volume.ts';
import { openBigTiffSink } from './bigtiff-sink.ts';
import { inputFileError, readImageFile } from './image-files.ts';
import { openOmeZarrSink, type OutputKind } from './ome-zarr-sink.ts';
import { openOmeZarrSource, type OmeZarrSourceOptions } from './ome-zarr-source.ts';
import { openTiffVolume, type TiffVolumeOptions } from './tiff-volume.ts';

export type OpenVolumeOptions = TiffVolumeOptions & OmeZarrSourceOptions;

/** A decoded image stack as a VolumeSource (PNG/JPEG inputs, small enough to decode whole). */
class StackVolume implements VolumeSource {
  readonly width: number;
  readonly height: number;
  readonly depth: number;
  readonly bitDepth;
  constructor(
    readonly name: string,
    private readonly stack: ImageStack,
  ) {
    this.width = stack.width;
    this.height = stack.height;
    this.depth = stack.pages.length;
    this.bitDepth = bitDepthOf(stack.pages[0]!.data);
  }

  async readRegion(z: number, box: Box): Promise<GreyImage> {
    const page = this.stack.pages[z];
    if (!page) throw new RangeError(`z: expected 0-${this.depth - 1}, found ${z}`);
    // crop copies through the array's own constructor, so 16-bit pages stay 16-bit.
    return crop(page as GreyImage<Uint8Array>, box) as GreyImage;
  }

  async close(): Promise<void> {}
}

async function isZarrFolder(path: string): Promise<boolean> {
  for (const name of ['.zgroup', '.zarray', 'zarr.json']) {
    if (await stat(join(path, name)).then((s) => s.isFile(), () => false)) return true;
  }
  return false;
}

/** Opens an input image or volume for region reads (see the module comment for the formats). */
export async function openVolume(path: string, options: OpenVolumeOptions = {}): Promise<VolumeSource> {
  let info;
  try {
    info = await stat(path);
  } catch (error) {
    throw inputFileError(path, error);
  }
  if (info.isDirectory()) {
    if (await isZarrFolder(path)) return openOmeZarrSource(path, options);
    throw new EmsegError('E_NOT_AN_IMAGE', `${path}: is a folder but no Zarr store (no .zgroup, .zarray or zarr.json); expected a TIFF, PNG or JPEG file or an OME-Zarr folder`);
  }
  const head = new Uint8Array(16);
  const handle = await open(path, 'r').catch((error: unknown) => Promise.reject(inputFileError(path, error)));
  try {
    await handle.read(head, 0, 16, 0);
  } finally {
    await handle.close();
  }
  const format = sniffImageFormat(head);
  if (format === 'tiff') return openTiffVolume(path, options);
  if (format === 'png' || format === 'jpeg') return new StackVolume(path, await readImageFile(path));
  const start = [...head.subarray(0, 4)].map((b) => b.toString(16).padStart(2, '0')).join(' ');
  throw new EmsegError('E_NOT_AN_IMAGE', `${path}: not a TIFF, PNG or JPEG image nor an OME-Zarr folder (starts with bytes ${start})`);
}

export interface OpenVolumeSinkOptions {
  width: number;
  height: number;
  depth: number;
  sampleType: VolumeSampleType;
  kind: OutputKind;
  pixelSize?: PixelSize;
  /** Chunk (OME-Zarr) or tile (BigTIFF) side in pixels, a multiple of 16. Default 512. */
  chunkSize?: number;
  /** The job identity the output records for resume (node/ome-zarr-sink.ts, node/bigtiff-sink.ts). */
  job: unknown;
  /** Files this command reads; writing onto one of them is refused. */
  inputs?: readonly string[];
  /** Reduced levels finalize() writes (0: none, e.g. for a benchmark's input). Default: until a level fits one chunk, at most 6. */
  levels?: number;
}

export type OutputFormat = 'ome-zarr' | 'bigtiff';

/** The output format a path asks for, or undefined when the name says neither. */
export function volumeOutputFormat(path: string): OutputFormat | undefined {
  const name = path.replace(/[\\/]+$/, '').toLowerCase();
  if (name.endsWith('.zarr')) return 'ome-zarr';
  if (name.endsWith('.tif') || name.endsWith('.tiff')) return 'bigtiff';
  return undefined;
}

/** Creates (or, for OME-Zarr of the same job, resumes) the output named by `path`. */
export async function openVolumeSink(path: string, options: OpenVolumeSinkOptions): Promise<VolumeSink> {
  const format = volumeOutputFormat(path);
  const size = options.chunkSize ?? 512;
  if (format === 'ome-zarr') {
    return openOmeZarrSink({ ...options, path, chunkWidth: size, chunkHeight: size });
  }
  if (format === 'bigtiff') {
    return openBigTiffSink({ path, width: options.width, height: options.height, depth: options.depth, tileSize: size, sampleType: options.sampleType, pixelSize: options.pixelSize, inputs: options.inputs, imageName: options.kind, kind: options.kind, job: options.job, levels: options.levels });
  }
  throw new EmsegError('E_BAD_ARGUMENT', `${path}: large outputs are written as OME-Zarr (name ending .zarr or .ome.zarr) or tiled BigTIFF (.tif, .tiff)`);
}
