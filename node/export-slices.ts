/**
 * `emseg data export`: the ISBI stacks as one PNG per slice, lossless and with unchanged values,
 *   <out>/train/images/00.png  <out>/train/labels/00.png  <out>/test/images/00.png
 * Everything is read and checked before anything is written; existing files are refused unless
 * `force`; each PNG is written atomically.
 */
import { join } from 'node:path';
import { assertSameShape, type ImageStack } from '../core/image.ts';
import { readImageFile } from './image-files.ts';
import { encodePng } from './png.ts';
import { assertNotAnInput, writeFileAtomic } from './atomic-write.ts';
import { refuseExistingOutputs } from './existing-outputs.ts';
import { ISBI_DIR } from '../core/isbi-data.ts';

/** The stacks of the ISBI 2012 folder and where their slices go. */
export const ISBI_STACKS = [
  { file: 'train-volume.tif', folder: join('train', 'images') },
  { file: 'train-labels.tif', folder: join('train', 'labels') },
  { file: 'test-volume.tif', folder: join('test', 'images') },
] as const;

export interface ExportSlicesOptions {
  /** Folder holding train-volume.tif, train-labels.tif and test-volume.tif. Default 'data/isbi2012'. */
  dataDir?: string;
  /** Output folder. */
  outDir: string;
  /** Overwrite existing PNGs. Default false. */
  force?: boolean;
}

/** Zero-padded slice file name: at least two digits, more when the stack needs them. */
export function sliceFileName(index: number, pageCount: number): string {
  return `${String(index).padStart(Math.max(2, String(pageCount - 1).length), '0')}.png`;
}

/** Exports every slice; returns the paths written, in order. */
export async function exportSlices(options: ExportSlicesOptions): Promise<string[]> {
  const dataDir = options.dataDir ?? ISBI_DIR;
  const inputs = ISBI_STACKS.map((stack) => join(dataDir, stack.file));
  const stacks: ImageStack[] = [];
  for (const input of inputs) stacks.push(await readImageFile(input));
  const [trainImages, trainLabels] = stacks as [ImageStack, ImageStack, ImageStack];
  assertSameShape(trainImages, inputs[0]!, trainLabels, inputs[1]!);

  const jobs = ISBI_STACKS.flatMap((spec, s) =>
    stacks[s]!.pages.map((page, i) => ({ page, path: join(options.outDir, spec.folder, sliceFileName(i, stacks[s]!.pages.length)) })),
  );
  await refuseExistingOutputs(jobs.map((job) => ({ path: job.path, flag: '--out' })), options.force === true);
  for (const job of jobs) await assertNotAnInput(job.path, inputs);
  for (const job of jobs) await writeFileAtomic(job.path, await encodePng(job.page));
  return jobs.map((job) => job.path);
}
