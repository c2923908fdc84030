/**
 * What `emseg evaluate` scores: the slices of the labelled images (read like `emseg train` reads
 * them, node/labelled-sources.ts: TIFF stacks or folders of image/label pairs, comma-separated
 * lists of them, labels 0/255 and the --ignore value), chosen to fit the stack.
 *
 * Default slices: on the ISBI training stack (data/isbi2012/train-volume.tif, or its labels
 * train-labels.tif when a labels file is scored without images) its validation split
 * 25-29; on any other stack all its slices. Either way without the --select-slices, which choose
 * and must not report. A one-line note says which slices the default gave.
 */
import { resolve } from 'node:path';
import { EmsegError } from '../core/errors.ts';
import type { LabelledSlice } from '../core/evaluation.ts';
import { ISBI_TRAIN_IMAGES, ISBI_TRAIN_LABELS, ISBI_VALIDATION_SLICES } from '../core/isbi-data.ts';
import { formatSliceList, parseSliceList } from '../core/slice-list.ts';
import type { LabelledData } from '../node/labelled-sources.ts';

export interface SliceChoice {
  /** The slices reported. */
  slices: number[];
  /** The slices that choose the threshold and the served variant, when asked. */
  selectSlices?: number[];
  /** One line saying which slices the default gave; undefined when --slices was given. */
  note?: string;
}

/** Whether `images` is the ISBI training stack (its images, or its labels when only they are read), whose validation split is the default. */
const isIsbiTrainingStack = (images: string) => [ISBI_TRAIN_IMAGES, ISBI_TRAIN_LABELS].some((path) => resolve(images) === resolve(path));

/**
 * The reported and selecting slices of a stack of `pageCount` slices: `--slices` and
 * `--select-slices` as given (checked against the stack, and against each other: they must not
 * overlap), or the default of the module comment for the reported ones.
 */
export function chooseSlices(options: { slices?: string; selectSlices?: string; images: string; pageCount: number }): SliceChoice {
  const { pageCount, images } = options;
  const selectSlices = options.selectSlices === undefined ? undefined : parseSliceList(options.selectSlices, pageCount, '--select-slices');
  const select = { ...(selectSlices ? { selectSlices } : {}) };
  if (options.slices !== undefined) {
    const slices = parseSliceList(options.slices, pageCount, '--slices');
    const overlap = selectSlices?.filter((s) => slices.includes(s)) ?? [];
    if (overlap.length > 0) throw new EmsegError('E_BAD_ARGUMENT', `--select-slices: ${formatSliceList(overlap)} also in --slices; selection and test slices must not overlap`);
    return { slices, ...select };
  }
  const isbi = isIsbiTrainingStack(images) && pageCount === 30;
  const base = isbi ? parseSliceList(ISBI_VALIDATION_SLICES, pageCount) : Array.from({ length: pageCount }, (_, i) => i);
  const slices = base.filter((s) => !selectSlices?.includes(s));
  const without = selectSlices ? ' without the --select-slices' : '';
  if (slices.length === 0) {
    throw new EmsegError('E_BAD_ARGUMENT', `--slices: not given, and the default (${isbi ? `the ISBI validation split ${ISBI_VALIDATION_SLICES}` : `all ${pageCount} slices of ${images}`}) leaves nothing${without}; give --slices`);
  }
  const what = isbi
    ? `the validation split of the ISBI training stack${without}`
    : `all ${pageCount} slices of ${images}${without} (${ISBI_VALIDATION_SLICES} is the default on the ISBI training stack only)`;
  return { slices, ...select, note: `slices ${formatSliceList(slices)}: --slices not given, ${what}` };
}

/** The labelled slices of `data` at `indices`, in that order. */
export function labelledSlices(data: LabelledData, indices: readonly number[]): LabelledSlice[] {
  return indices.map((index) => ({ index, image: data.images.pages[index]!, label: data.labels.pages[index]! }));
}
