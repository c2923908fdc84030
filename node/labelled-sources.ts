/**
 * Labelled images (for `emseg train` and `emseg evaluate`) from several sources at once:
 * `--images a.tif,imgs/ --labels a-labels.tif,labels/`
 * pairs the two lists by position; each pair is
 * - two TIFF stacks (or single images) with the same page count and size, or
 * - two folders of PNG/TIFF images, matched by file name without extension (`imgs/s01.png` with
 *   `labels/s01.tif`), in natural name order (s2 before s10); every image needs its label and
 *   every label its image;
 * - OME-Zarr: a seam (SOURCE_READERS['zarr']) for the large-image readers of node/, not read yet.
 * The slices of all sources, in order, form one stack: slice indices (--train-slices, ...) count
 * across sources. All slices must have one size. Labels are checked and prepared by
 * core/labels.ts (0/255/ignore, optional inversion). Every problem is one EmsegError line, raised
 * before anything is written.
 */
import { readdirSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import { EmsegError } from '../core/errors.ts';
import { makeStack, type GreyImage, type ImageStack, type PixelSize } from '../core/image.ts';
import { prepareLabel, type LabelOptions } from '../core/labels.ts';
import { readImageFile } from './image-files.ts';
import { scaledSize } from '../core/pixel-size.ts';
import { resampleBilinear, resampleNearest } from '../core/resample.ts';

export type SourceKind = 'stack' | 'folder' | 'zarr';

export interface SourcePair {
  kind: SourceKind;
  images: string;
  labels: string;
}

/** The labelled data: one stack of images and one of prepared labels, and where each slice came from. */
export interface LabelledData {
  /** The images; `pixelSize` is the one every image file states alike (none when they differ or state none). */
  images: ImageStack;
  labels: ImageStack<Uint8Array>;
  /** Per slice: `file` or `file#page`. */
  origins: string[];
  sources: SourcePair[];
}

interface RawPair {
  image: GreyImage;
  label: GreyImage;
  imageName: string;
  labelName: string;
  /** The pixel size the image's file states. */
  pixelSize?: PixelSize;
}

export type SourceReader = (pair: SourcePair) => Promise<RawPair[]>;

const IMAGE_EXTENSIONS = new Set(['.png', '.tif', '.tiff']);

function kindOf(path: string): SourceKind {
  if (/\.zarr\/?$/i.test(path)) return 'zarr';
  let isFolder = false;
  try {
    isFolder = statSync(path).isDirectory();
  } catch {
    throw new EmsegError('E_NOT_FOUND', `${path}: no such file or folder`);
  }
  return isFolder ? 'folder' : 'stack';
}

/** Splits the comma-separated --images and --labels lists into pairs, checking kinds and counts. */
export function parseSources(images: string, labels: string): SourcePair[] {
  const split = (list: string) => list.split(',').map((p) => p.trim()).filter((p) => p.length > 0);
  const imageList = split(images);
  const labelList = split(labels);
  if (imageList.length === 0) throw new EmsegError('E_BAD_ARGUMENT', 'images (--images): expected at least one stack or folder');
  if (imageList.length !== labelList.length) {
    throw new EmsegError('E_BAD_ARGUMENT', `labels (--labels): expected one entry per --images entry (${imageList.length}), found ${labelList.length}`);
  }
  return imageList.map((image, i) => {
    const label = labelList[i]!;
    const kind = kindOf(image);
    const labelKind = kindOf(label);
    if (kind !== labelKind) throw new EmsegError('E_BAD_ARGUMENT', `labels (--labels): ${label} is a ${labelKind}, but its images ${image} are a ${kind}`);
    return { kind, images: image, labels: label };
  });
}

async function readStackPair(pair: SourcePair): Promise<RawPair[]> {
  const [images, labels] = await Promise.all([readImageFile(pair.images), readImageFile(pair.labels)]);
  if (images.pages.length !== labels.pages.length) {
    throw new EmsegError('E_SIZE_MISMATCH', `${pair.labels}: ${labels.pages.length} pages, but ${pair.images} has ${images.pages.length}`);
  }
  const page = (path: string, k: number, count: number) => (count > 1 ? `${path}#${k}` : path);
  return images.pages.map((image, k) => ({
    image,
    label: labels.pages[k]!,
    imageName: page(pair.images, k, images.pages.length),
    labelName: page(pair.labels, k, labels.pages.length),
    ...(images.pixelSize ? { pixelSize: images.pixelSize } : {}),
  }));
}

function listImages(folder: string): Map<string, string> {
  const byStem = new Map<string, string>();
  for (const name of readdirSync(folder).sort((a, b) => a.localeCompare(b, 'en', { numeric: true }))) {
    const ext = extname(name).toLowerCase();
    if (!IMAGE_EXTENSIONS.has(ext)) continue;
    const stem = name.slice(0, -ext.length);
    const earlier = byStem.get(stem);
    if (earlier !== undefined) throw new EmsegError('E_BAD_ARGUMENT', `${folder}: ${earlier} and ${name} have the same name; keep one`);
    byStem.set(stem, name);
  }
  return byStem;
}

async function readFolderPair(pair: SourcePair): Promise<RawPair[]> {
  const images = listImages(pair.images);
  const labels = listImages(pair.labels);
  if (images.size === 0) throw new EmsegError('E_NOT_FOUND', `${pair.images}: no PNG or TIFF images in the folder`);
  for (const [stem, name] of images) {
    if (!labels.has(stem)) throw new EmsegError('E_NOT_FOUND', `${join(pair.images, name)}: no label named ${stem}.png or ${stem}.tif in ${pair.labels}`);
  }
  for (const [stem, name] of labels) {
    if (!images.has(stem)) throw new EmsegError('E_NOT_FOUND', `${join(pair.labels, name)}: no image named ${stem} in ${pair.images}`);
  }
  const pairs: RawPair[] = [];
  for (const [stem, name] of images) {
    const imagePath = join(pair.images, name);
    const labelPath = join(pair.labels, labels.get(stem)!);
    pairs.push(...(await readStackPair({ kind: 'stack', images: imagePath, labels: labelPath })));
  }
  return pairs;
}

async function readZarrPair(pair: SourcePair): Promise<RawPair[]> {
  throw new EmsegError(
    'E_UNSUPPORTED',
    `${pair.images}: OME-Zarr training sources are not supported yet (they will use node/'s large-image readers); export the slices as TIFF or PNG meanwhile`,
  );
}

/** How each kind of source is read; OME-Zarr plugs in here. */
export const SOURCE_READERS: Record<SourceKind, SourceReader> = {
  stack: readStackPair,
  folder: readFolderPair,
  zarr: readZarrPair,
};

/** The data rescaled by `factor` (core/pixel-size.ts): images bilinearly, labels nearest (values kept). */
export function rescaleLabelledData(data: LabelledData, factor: number): LabelledData {
  const width = scaledSize(data.images.width, factor);
  const height = scaledSize(data.images.height, factor);
  return {
    ...data,
    images: makeStack(data.images.pages.map((page) => resampleBilinear(page, width, height))),
    labels: makeStack(data.labels.pages.map((page) => resampleNearest(page, width, height))),
  };
}

/** The pixel size all slices' files state alike (x, y and unit), else undefined. */
function commonPixelSize(pairs: readonly RawPair[]): PixelSize | undefined {
  const first = pairs[0]?.pixelSize;
  if (!first) return undefined;
  const same = (a: PixelSize | undefined) => a !== undefined && a.unit === first.unit && Math.abs(a.x - first.x) <= 1e-9 * first.x && Math.abs(a.y - first.y) <= 1e-9 * first.y;
  return pairs.every((p) => same(p.pixelSize)) ? first : undefined;
}

/** Reads every source, checks sizes and label values, and stacks the slices in order. */
export async function readLabelledData(images: string, labels: string, options: LabelOptions = {}): Promise<LabelledData> {
  const sources = parseSources(images, labels);
  const pairs: RawPair[] = [];
  for (const source of sources) pairs.push(...(await SOURCE_READERS[source.kind](source)));
  const first = pairs[0]!;
  for (const p of pairs) {
    if (p.label.width !== p.image.width || p.label.height !== p.image.height) {
      throw new EmsegError('E_SIZE_MISMATCH', `${p.labelName}: label is ${p.label.width}x${p.label.height}, but its image ${p.imageName} is ${p.image.width}x${p.image.height}`);
    }
    if (p.image.width !== first.image.width || p.image.height !== first.image.height) {
      throw new EmsegError(
        'E_SIZE_MISMATCH',
        `${p.imageName}: ${p.image.width}x${p.image.height}, but ${first.imageName} is ${first.image.width}x${first.image.height}; all training slices must have one size`,
      );
    }
  }
  const preparedLabels = pairs.map((p) => prepareLabel(p.label, options, p.labelName));
  const pixelSize = commonPixelSize(pairs);
  return {
    images: { ...makeStack(pairs.map((p) => p.image), images), ...(pixelSize ? { pixelSize } : {}) },
    labels: makeStack(preparedLabels, labels),
    origins: pairs.map((p) => p.imageName),
    sources,
  };
}
