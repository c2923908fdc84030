/**
 * The ISBI 2012 evaluation of probability maps against labels, as CONVENTIONS.md defines it:
 *
 * - per slice: ground-truth segments = 4-connected components of the label's white class
 *   (value != 0); proposal = probability >= threshold (cell interior, the contract's mask), its
 *   borders thinned to one pixel by the watershed of border-thinning.ts, its basins the segments;
 *   V_rand and V_info foreground-restricted as in rand-info.ts; pixel error, Dice and IoU of the
 *   mask as in pixel.ts;
 * - averaged over slices (each slice weighs the same), for each threshold of the sweep
 *   (default 0.0, 0.1, ..., 1.0);
 * - best: the largest averaged V_rand over the sweep and, separately (as the challenge reports
 *   them), the largest averaged V_info, each with its threshold (the first on ties);
 * - atThreshold: everything at the model's threshold (default 0.5).
 *
 * Binarization: the challenge's Fiji code takes `probability > threshold`; we take `>=`, the mask
 * polarity of the model contract. The two differ only on pixels exactly equal to a threshold: at
 * 1.0 they agree in effect (Fiji's thresholds are accumulated in steps of 0.1 in double precision,
 * so its last one is 0.9999999999999999 and float32 probabilities of exactly 1 pass it), at 0.0 we
 * count exact zeros as cell interior, and among interior thresholds only 0.5 is a float32 value.
 */
import type { GreyImage, PixelArray } from '../image.ts';
import { countedMask } from '../labels.ts';
import { labelComponents4, type Components } from './components.ts';
import { thinBorders } from './border-thinning.ts';
import { pixelScores, type PixelScores } from './pixel.ts';
import { foregroundRestrictedScores, type SegmentationScores } from './rand-info.ts';

export type SliceScores = SegmentationScores & PixelScores;

export interface ThresholdScores extends SliceScores {
  threshold: number;
}

export interface BestScores {
  /** Threshold of the best averaged V_rand. */
  threshold: number;
  vRand: number;
  /** Best averaged V_info over the sweep (at `vInfoThreshold`, which may differ from `threshold`). */
  vInfo: number;
  vInfoThreshold: number;
}

export interface ScoreSummary {
  /** Averages over slices, one entry per threshold of the sweep, in the given order. */
  perThreshold: ThresholdScores[];
  best: BestScores;
  /** Averages over slices at the model's threshold. */
  atThreshold: ThresholdScores;
}

export interface ScoreOptions {
  /** Thresholds of the sweep. Default 0.0, 0.1, ..., 1.0. */
  thresholds?: readonly number[];
  /** The model's threshold, for `atThreshold`. Default 0.5. */
  threshold?: number;
  /**
   * Label value of unlabelled pixels (core/labels.ts), default none. Such pixels count in no
   * figure: they are left out of pixel error, Dice and IoU, and, like membrane, out of the
   * foreground-restricted V_rand and V_info (they also separate ground-truth segments).
   */
  ignore?: number | null;
}

export const DEFAULT_SWEEP: readonly number[] = Object.freeze(Array.from({ length: 11 }, (_, i) => i / 10));

/** A probability map: `width * height` values in [0, 1], row-major. */
export type ProbabilityImage = GreyImage<Float32Array> | { width: number; height: number; data: Float32Array };

function checkThreshold(value: number, name: string): void {
  if (typeof value !== 'number' || !(value >= 0 && value <= 1)) {
    throw new RangeError(`${name}: expected a number in [0, 1], found ${value}`);
  }
}

function checkLabel(probability: ArrayLike<number>, label: GreyImage, name: string): void {
  if (label.data.length !== label.width * label.height) {
    throw new RangeError(`${name}: expected ${label.width * label.height} pixels for ${label.width}x${label.height}, found ${label.data.length}`);
  }
  if (probability.length !== label.data.length) {
    throw new RangeError(`${name}: ${label.width}x${label.height} = ${label.data.length} pixels, but the probability map has ${probability.length}`);
  }
}

/** Ground-truth segments of a label: 4-connected components of its non-zero pixels. */
export function truthSegments(label: GreyImage): Components {
  return labelComponents4(label.data, label.width, label.height);
}

/** Scores one slice at one threshold, given its precomputed ground-truth segments. */
function scoreWithTruth(probability: ArrayLike<number>, label: GreyImage, truth: Components, threshold: number, cell: Uint8Array, counted: Uint8Array | null = null): SliceScores {
  const n = probability.length;
  for (let i = 0; i < n; i++) cell[i] = probability[i]! >= threshold ? 1 : 0;
  const proposal = thinBorders(cell, label.width, label.height);
  return { ...foregroundRestrictedScores(truth, proposal), ...pixelScores(probability, label.data as PixelArray, threshold, counted) };
}

/** V_rand, V_info, pixel error, Dice and IoU of one probability map against its label at one threshold. */
export function scoreSlice(probability: Float32Array | ArrayLike<number>, label: GreyImage, threshold: number): SliceScores {
  checkThreshold(threshold, 'threshold');
  checkLabel(probability, label, 'label');
  return scoreWithTruth(probability, label, truthSegments(label), threshold, new Uint8Array(probability.length));
}

/**
 * Scores probability maps against their labels over a threshold sweep; every figure is the average
 * over slices. `probabilities[k]` belongs to `labels[k]`.
 */
export function scoreSlices(
  probabilities: readonly (ProbabilityImage | Float32Array)[],
  labels: readonly GreyImage[],
  options: ScoreOptions = {},
): ScoreSummary {
  const { thresholds = DEFAULT_SWEEP, threshold = 0.5, ignore = null } = options;
  if (probabilities.length !== labels.length) {
    throw new RangeError(`labels: expected one per probability map (${probabilities.length}), found ${labels.length}`);
  }
  if (labels.length === 0) throw new RangeError('probabilities: expected at least one slice, found none');
  if (thresholds.length === 0) throw new RangeError('thresholds: expected at least one threshold, found none');
  thresholds.forEach((t, i) => checkThreshold(t, `thresholds[${i}]`));
  checkThreshold(threshold, 'threshold');

  const sweep = [...thresholds];
  let atIndex = sweep.findIndex((t) => Math.abs(t - threshold) < 1e-12);
  if (atIndex < 0) {
    sweep.push(threshold);
    atIndex = sweep.length - 1;
  }
  const sums = sweep.map(() => ({ vRand: 0, vInfo: 0, pixelError: 0, dice: 0, iou: 0 }));
  labels.forEach((given, k) => {
    const entry = probabilities[k]!;
    const data = entry instanceof Float32Array ? entry : entry.data;
    checkLabel(data, given, `labels[${k}]`);
    const counted = countedMask(given, ignore);
    // Ignored pixels leave the ground-truth foreground (and the pixel counts through `counted`).
    const label = counted ? { ...given, data: given.data.map((v, i) => (counted[i] ? v : 0)) } : given;
    const truth = truthSegments(label);
    const cell = new Uint8Array(data.length);
    sweep.forEach((t, s) => {
      const scores = scoreWithTruth(data, label, truth, t, cell, counted);
      const sum = sums[s]!;
      sum.vRand += scores.vRand;
      sum.vInfo += scores.vInfo;
      sum.pixelError += scores.pixelError;
      sum.dice += scores.dice;
      sum.iou += scores.iou;
    });
  });
  const count = labels.length;
  const averaged: ThresholdScores[] = sweep.map((t, s) => {
    const sum = sums[s]!;
    return {
      threshold: t,
      vRand: sum.vRand / count,
      vInfo: sum.vInfo / count,
      pixelError: sum.pixelError / count,
      dice: sum.dice / count,
      iou: sum.iou / count,
    };
  });
  const perThreshold = averaged.slice(0, thresholds.length);
  let bestRand = perThreshold[0]!;
  let bestInfo = perThreshold[0]!;
  for (const row of perThreshold) {
    if (row.vRand > bestRand.vRand) bestRand = row;
    if (row.vInfo > bestInfo.vInfo) bestInfo = row;
  }
  return {
    perThreshold,
    best: { threshold: bestRand.threshold, vRand: bestRand.vRand, vInfo: bestInfo.vInfo, vInfoThreshold: bestInfo.threshold },
    atThreshold: averaged[atIndex]!,
  };
}
