/**
 * The readers and writers of the large-image path, chosen by path: OME-Zarr stores
 * (`.zarr`, `.ome.zarr`, or any folder) and TIFF/BigTIFF files (node/). serve/predict-large.ts
 * opens its input and output only through these two functions.
 */
import { extname } from 'node:path';
import { stat } from 'node:fs/promises';
import { EmsegError } from '../core/errors.ts';
import type { VolumeSink, VolumeSource } from '../core/volume.ts';
import { openOmeZarrSink, type OmeZarrSinkOptions } from '../node/ome-zarr-sink.ts';
import { openOmeZarrSource } from '../node/ome-zarr-source.ts';
import { openTiffVolume } from '../node/tiff-volume.ts';

/** True for `x.zarr`, `x.ome.zarr` (with or without a trailing slash). */
export function isZarrPath(path: string): boolean {
  return /\.zarr\/*$/i.test(path);
}

export function isTiffPath(path: string): boolean {
  return ['.tif', '.tiff'].includes(extname(path).toLowerCase());
}

/** Opens a large input: an OME-Zarr store (at resolution `level`), else a TIFF/BigTIFF file. */
export async function openLargeInput(input: string, level = 0): Promise<VolumeSource> {
  const folder = await stat(input).then((info) => info.isDirectory(), () => false);
  if (isZarrPath(input) || folder) return openOmeZarrSource(input, { level });
  return openTiffVolume(input);
}

/** What an output is opened with: the OME-Zarr sink's options (the BigTIFF sink takes the same). */
export type LargeOutputOptions = OmeZarrSinkOptions;

/** Opens (creates, or reopens to resume) a large output: an OME-Zarr store, else a tiled BigTIFF. */
export async function openLargeOutput(options: LargeOutputOptions): Promise<VolumeSink> {
  if (isZarrPath(options.path)) return openOmeZarrSink(options);
  throw new EmsegError('E_UNSUPPORTED', `${options.path}: tiled BigTIFF output is not available in this build yet; write an OME-Zarr store (.ome.zarr)`);
}
