/**
 * `emseg visualize`: a PNG montage of chosen slices of an image stack and its labels
 * (image | label | overlay, one row per slice, slice numbers at the left), and with `cellsPath`
 * a column of instance labels (`emseg predict --output labels`), each cell in its own colour over
 * the image (core/cells/cell-colours.ts, as the web demo shows them).
 */
import { colourCells, DEFAULT_CELL_OPACITY } from '../core/cells/cell-colours.ts';
import { assertSameShape, type ImageStack } from '../core/image.ts';
import { renderMontage, type MontageOptions } from '../core/montage.ts';
import { parseSliceList } from '../core/slice-list.ts';
import { sliceMontageSpec, type ExtraColumn } from '../core/slice-montage.ts';
import type { LabelStack } from '../core/tiff-write.ts';
import type { RgbImage } from '../core/rgb-image.ts';
import { readImageFile } from './image-files.ts';
import { readLabelStack } from './label-stack-file.ts';
import { encodePng } from './png.ts';
import { assertNotAnInput, writeFileAtomic } from './atomic-write.ts';
import { refuseExistingOutputs } from './existing-outputs.ts';
import { ISBI_TRAIN_IMAGES, ISBI_TRAIN_LABELS } from '../core/isbi-data.ts';

export interface VisualizeOptions {
  /** Image stack. Default 'data/isbi2012/train-volume.tif'. */
  imagesPath?: string;
  /** Label stack (same size as the images). Default 'data/isbi2012/train-labels.tif'; null for none. */
  labelsPath?: string | null;
  /**
   * Instance labels (uint32 TIFF of `emseg predict --output labels`, or a 16-bit label image), as many
   * pages of the same size as the images: adds a 'cells' column. Default none.
   */
  cellsPath?: string;
  /** Slices like '0,5,25-29'. Default: first, middle and last slice (0,14,29 for ISBI). */
  slices?: string;
  /** Integer shrink factor of every cell. Default 1. */
  shrink?: number;
  montage?: Omit<MontageOptions, 'shrink'>;
  /** Replace the output PNG when it exists (otherwise refused, E_OUTPUT_EXISTS). Default false. */
  force?: boolean;
}

export const DEFAULT_VISUALIZE = {
  imagesPath: ISBI_TRAIN_IMAGES,
  labelsPath: ISBI_TRAIN_LABELS,
  shrink: 1,
} as const;

/** Montages are written once and looked at many times (docs/images ships some): zlib's smallest level, about a quarter smaller than the default, lossless either way. */
const MONTAGE_PNG = { compressionLevel: 9 } as const;

/** The 'cells' column: slice z's labels in colour over slice z's image. */
function cellsColumn(images: ImageStack['pages'], cells: LabelStack['pages']): ExtraColumn {
  return {
    title: 'cells',
    cell: (z) => {
      const page = cells[z]!;
      return colourCells(images[z]!, { width: page.width, height: page.height, labels: page.data }, DEFAULT_CELL_OPACITY);
    },
  };
}

/** Reads the stacks and renders the montage. */
export async function renderSliceMontage(options: VisualizeOptions = {}): Promise<RgbImage> {
  const imagesPath = options.imagesPath ?? DEFAULT_VISUALIZE.imagesPath;
  const labelsPath = options.labelsPath === undefined ? DEFAULT_VISUALIZE.labelsPath : options.labelsPath;
  const images = await readImageFile(imagesPath);
  const labels = labelsPath === null ? undefined : await readImageFile(labelsPath);
  if (labels) assertSameShape(images, imagesPath, labels, labelsPath ?? 'labels');
  const cellsPath = options.cellsPath;
  const cells = cellsPath === undefined ? undefined : await readLabelStack(cellsPath);
  if (cells && cellsPath !== undefined) assertSameShape(images, imagesPath, cells, cellsPath);
  const last = images.pages.length - 1;
  const slices = options.slices === undefined ? [...new Set([0, Math.floor(last / 2), last])] : parseSliceList(options.slices, images.pages.length);
  const spec = sliceMontageSpec({
    images,
    imagesName: imagesPath,
    slices,
    ...(labels ? { labels, labelsName: labelsPath ?? 'labels' } : {}),
    ...(cells ? { extraColumns: [cellsColumn(images.pages, cells.pages)] } : {}),
  });
  return renderMontage(spec, { ...options.montage, shrink: options.shrink ?? DEFAULT_VISUALIZE.shrink });
}

/** Renders the montage and writes it as PNG to `outPath` (atomically, never onto an input, onto an existing file only with `force`). */
export async function writeSliceMontage(outPath: string, options: VisualizeOptions = {}): Promise<RgbImage> {
  const inputs = [options.imagesPath ?? DEFAULT_VISUALIZE.imagesPath];
  const labelsPath = options.labelsPath === undefined ? DEFAULT_VISUALIZE.labelsPath : options.labelsPath;
  if (labelsPath !== null) inputs.push(labelsPath);
  if (options.cellsPath !== undefined) inputs.push(options.cellsPath);
  await assertNotAnInput(outPath, inputs);
  await refuseExistingOutputs([{ path: outPath, flag: '--out' }], options.force === true);
  const montage = await renderSliceMontage(options);
  await writeFileAtomic(outPath, await encodePng(montage, MONTAGE_PNG), { inputs });
  return montage;
}
