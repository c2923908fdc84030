/**
 * The ISBI 2012 scores of instance labels (core/cells) instead of a probability map: the same
 * foreground-restricted V_rand and V_info as score.ts, the proposal being the given labels
 * (0 = border) with their borders thinned to one pixel the same way (thinLabelBorders), so a
 * label image and a thresholded mask are scored alike; pixel error, Dice and IoU of the cell
 * pixels (label != 0) against the label's white class. No threshold sweep: the labels are final.
 *
 *   scoreLabelSlices([{ labels, width, height }], [truth], { ignore: null });
 *   // { vRand, vInfo, pixelError, dice, iou, perSlice: [{ ..., cells, truthRegions }] }   (averages over slices, each weighs the same)
 */
import type { GreyImage, PixelArray } from '../image.ts';
import { countedMask } from '../labels.ts';
import { thinLabelBorders } from './border-thinning.ts';
import { pixelScores } from './pixel.ts';
import { foregroundRestrictedScores } from './rand-info.ts';
import { truthSegments, type SliceScores } from './score.ts';

/** One slice of instance labels: `width * height` values, 0 = border or no cell, 1.. = cell. */
export interface LabelImage {
  width: number;
  height: number;
  labels: ArrayLike<number>;
}

export interface LabelScoreOptions {
  /** Label value of unlabelled pixels, counted in no figure (as in score.ts). Default none. */
  ignore?: number | null;
}

/** One slice's scores and the number of segments on each side. */
export interface LabelSliceScores extends SliceScores {
  /** Distinct non-zero labels of the proposal. */
  cells: number;
  /** Ground-truth segments: 4-connected components of the label's white class (ignored pixels left out). */
  truthRegions: number;
}

export interface LabelScoreSummary extends SliceScores {
  /** The scores of each slice, in the given order. */
  perSlice: LabelSliceScores[];
}

/** How many distinct non-zero values `labels` holds. */
function distinctLabels(labels: ArrayLike<number>): number {
  const seen = new Set<number>();
  let last = 0;
  for (let i = 0; i < labels.length; i++) {
    const v = labels[i]!;
    if (v !== 0 && v !== last) seen.add(v);
    last = v;
  }
  return seen.size;
}

/** V_rand, V_info, pixel error, Dice and IoU of one slice of instance labels against its label image, and the segments counted on both sides. */
export function scoreLabelSlice(proposal: LabelImage, label: GreyImage, options: LabelScoreOptions = {}): LabelSliceScores {
  const { width, height } = label;
  if (label.data.length !== width * height) {
    throw new RangeError(`label: expected ${width * height} pixels for ${width}x${height}, found ${label.data.length}`);
  }
  if (proposal.width !== width || proposal.height !== height || proposal.labels.length !== width * height) {
    throw new RangeError(`labels: expected ${width}x${height} = ${width * height} pixels like the label image, found ${proposal.width}x${proposal.height} with ${proposal.labels.length} values`);
  }
  const counted = countedMask(label, options.ignore);
  // Ignored pixels leave the ground-truth foreground (and the pixel counts through `counted`).
  const truthLabel = counted ? { ...label, data: label.data.map((v, i) => (counted[i] ? v : 0)) } : label;
  const thinned = thinLabelBorders(proposal.labels, width, height);
  const truth = truthSegments(truthLabel);
  return {
    ...foregroundRestrictedScores(truth, thinned),
    ...pixelScores(proposal.labels, truthLabel.data as PixelArray, 1, counted), // cell pixels: label >= 1
    cells: distinctLabels(proposal.labels),
    truthRegions: truth.count,
  };
}

/** Scores instance labels of several slices; every figure is the average over slices. `proposals[k]` belongs to `labels[k]`. */
export function scoreLabelSlices(proposals: readonly LabelImage[], labels: readonly GreyImage[], options: LabelScoreOptions = {}): LabelScoreSummary {
  if (proposals.length !== labels.length) {
    throw new RangeError(`labels: expected one per slice of instance labels (${proposals.length}), found ${labels.length}`);
  }
  if (labels.length === 0) throw new RangeError('proposals: expected at least one slice, found none');
  const perSlice = proposals.map((proposal, k) => scoreLabelSlice(proposal, labels[k]!, options));
  const mean = (key: keyof SliceScores): number => perSlice.reduce((sum, s) => sum + s[key], 0) / perSlice.length;
  return { vRand: mean('vRand'), vInfo: mean('vInfo'), pixelError: mean('pixelError'), dice: mean('dice'), iou: mean('iou'), perSlice };
}
