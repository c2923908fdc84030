/**
 * Pixel-wise agreement of a thresholded probability map with a binary label, foreground = cell
 * interior: probability >= threshold (the contract's mask) and label value != 0 (255 in ISBI).
 *
 *   pixel error = (FP + FN) / N
 *   Dice        = 2 TP / (2 TP + FP + FN)
 *   IoU         = TP / (TP + FP + FN)
 *
 * Dice and IoU are 1 when neither the prediction nor the label has any foreground.
 */
import type { PixelArray } from '../image.ts';

export interface ConfusionCounts {
  truePositives: number;
  falsePositives: number;
  falseNegatives: number;
  trueNegatives: number;
}

export interface PixelScores {
  pixelError: number;
  dice: number;
  iou: number;
}

/** Counts of the 2x2 confusion matrix (foreground = probability >= threshold, label != 0). */
export function confusionCounts(probability: ArrayLike<number>, label: PixelArray, threshold: number, counted?: Uint8Array | null): ConfusionCounts {
  let tp = 0;
  let fp = 0;
  let fn = 0;
  let n = probability.length;
  for (let i = 0; i < probability.length; i++) {
    if (counted && counted[i] === 0) {
      n--;
      continue;
    }
    const predicted = probability[i]! >= threshold;
    const actual = label[i] !== 0;
    if (predicted) {
      if (actual) tp++;
      else fp++;
    } else if (actual) fn++;
  }
  return { truePositives: tp, falsePositives: fp, falseNegatives: fn, trueNegatives: n - tp - fp - fn };
}

export function pixelScoresFromCounts(counts: ConfusionCounts): PixelScores {
  const { truePositives: tp, falsePositives: fp, falseNegatives: fn, trueNegatives: tn } = counts;
  const n = tp + fp + fn + tn;
  const union = tp + fp + fn;
  return {
    pixelError: n === 0 ? 0 : (fp + fn) / n,
    dice: union === 0 ? 1 : (2 * tp) / (2 * tp + fp + fn),
    iou: union === 0 ? 1 : tp / union,
  };
}

/** `counted` (optional, core/labels.ts countedMask): only pixels where it is 1 count. */
export function pixelScores(probability: ArrayLike<number>, label: PixelArray, threshold: number, counted?: Uint8Array | null): PixelScores {
  return pixelScoresFromCounts(confusionCounts(probability, label, threshold, counted));
}
