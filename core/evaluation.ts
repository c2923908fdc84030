/**
 * Evaluation of a model on labelled slices, platform-neutral: the caller hands in a predictor
 * (`image -> probabilities`, one per variant: plain, and test-time augmentation when asked), this
 * module runs it on every slice and scores the result with the ISBI 2012 metrics (core/metrics):
 * V_rand and V_info each at its own best threshold of the sweep (as the ISBI challenge reports
 * them; the two thresholds may differ) and at the model's threshold, pixel error, Dice, IoU.
 *
 * It knows nothing of ONNX or tfjs: `emseg evaluate` builds the predictors (onnxruntime through
 * core/inference.ts, or a tfjs model), the browser could too.
 */
import { DEFAULT_THRESHOLD } from './contract.ts';
import type { GreyImage } from './image.ts';
import { validateThreshold } from './threshold.ts';
import { DEFAULT_SWEEP, scoreSlices } from './metrics/index.ts';
import { formatTextTable } from './text-table.ts';

/** A slice with its label (255 = cell interior, 0 = membrane) and its index in the stack. */
export interface LabelledSlice {
  index: number;
  image: GreyImage;
  label: GreyImage;
}

/** Probability of cell interior per pixel, `image.width * image.height` values. */
export type SlicePredictor = (image: GreyImage) => Promise<Float32Array>;

export type EvaluationVariant = 'plain' | 'tta';

export interface EvaluationOptions {
  /** The model's threshold (model card), for pixel error, Dice, IoU and the "at threshold" scores. Default 0.5. */
  threshold?: number;
  /** Thresholds searched, separately, for the best V_rand and the best V_info. Default 0.0, 0.1, ..., 1.0. */
  thresholds?: readonly number[];
  /** Called after each slice of each variant, for progress display. */
  onSlice?: (variant: EvaluationVariant, done: number, total: number) => void;
  /** Label value of unlabelled pixels, counted in no figure (core/metrics/score.ts). Default none. */
  ignore?: number | null;
}

export interface MetricsRow {
  variant: EvaluationVariant;
  /** Best threshold over `thresholds` by V_rand, and that V_rand (V_info's best may lie elsewhere). */
  bestThreshold: number;
  vRandBest: number;
  /** Best V_info over `thresholds`, at its own threshold (as the challenge reports it), which may differ from `bestThreshold`. */
  vInfoBest: number;
  vInfoBestThreshold: number;
  /** At the model's threshold. */
  threshold: number;
  vRand: number;
  vInfo: number;
  pixelError: number;
  dice: number;
  iou: number;
  /** V_rand and V_info per threshold (averaged over slices), for curves. */
  perThreshold: Array<{ threshold: number; vRand: number; vInfo: number }>;
  seconds: number;
}

export interface EvaluationResult {
  slices: number[];
  rows: MetricsRow[];
  /** Probabilities per variant, in the order of `slices` (for montages). */
  probabilities: Partial<Record<EvaluationVariant, Float32Array[]>>;
}

export const DEFAULT_EVALUATION_THRESHOLDS: readonly number[] = DEFAULT_SWEEP;

/**
 * Runs each predictor on every slice and scores it. `predictors.plain` is required; `tta` adds a
 * row for the test-time-augmented predictor.
 */
export async function evaluateSlices(
  slices: readonly LabelledSlice[],
  predictors: { plain: SlicePredictor; tta?: SlicePredictor },
  options: EvaluationOptions = {},
): Promise<EvaluationResult> {
  const { threshold = DEFAULT_THRESHOLD, thresholds = DEFAULT_EVALUATION_THRESHOLDS, onSlice, ignore = null } = options;
  if (slices.length === 0) throw new RangeError('slices: expected at least one labelled slice, found none');
  validateThreshold(threshold);
  for (const slice of slices) {
    if (slice.image.width !== slice.label.width || slice.image.height !== slice.label.height) {
      throw new RangeError(
        `slice ${slice.index}: label ${slice.label.width}x${slice.label.height} does not match image ${slice.image.width}x${slice.image.height}`,
      );
    }
  }
  const rows: MetricsRow[] = [];
  const probabilities: EvaluationResult['probabilities'] = {};
  const variants: Array<[EvaluationVariant, SlicePredictor]> = [['plain', predictors.plain]];
  if (predictors.tta) variants.push(['tta', predictors.tta]);
  for (const [variant, predict] of variants) {
    const start = Date.now();
    const outputs: Float32Array[] = [];
    for (const [i, slice] of slices.entries()) {
      const p = await predict(slice.image);
      if (p.length !== slice.image.width * slice.image.height) {
        throw new RangeError(`predictor (${variant}): expected ${slice.image.width * slice.image.height} probabilities for slice ${slice.index}, found ${p.length}`);
      }
      outputs.push(p);
      onSlice?.(variant, i + 1, slices.length);
    }
    const seconds = (Date.now() - start) / 1000;
    probabilities[variant] = outputs;
    rows.push({ variant, ...scoreProbabilities(slices, outputs, threshold, thresholds, ignore), seconds });
  }
  return { slices: slices.map((s) => s.index), rows, probabilities };
}

/** Scores probabilities against labels with core/metrics (also used by the training loop's validation). */
export function scoreProbabilities(
  slices: readonly { image: GreyImage; label: GreyImage }[],
  probabilities: readonly Float32Array[],
  threshold: number = DEFAULT_THRESHOLD,
  thresholds: readonly number[] = DEFAULT_EVALUATION_THRESHOLDS,
  ignore: number | null = null,
): Omit<MetricsRow, 'variant' | 'seconds'> {
  const scores = scoreSlices(probabilities, slices.map((s) => s.label), { thresholds, threshold, ignore });
  return {
    bestThreshold: scores.best.threshold,
    vRandBest: scores.best.vRand,
    vInfoBest: scores.best.vInfo,
    vInfoBestThreshold: scores.best.vInfoThreshold,
    threshold,
    vRand: scores.atThreshold.vRand,
    vInfo: scores.atThreshold.vInfo,
    pixelError: scores.atThreshold.pixelError,
    dice: scores.atThreshold.dice,
    iou: scores.atThreshold.iou,
    perThreshold: scores.perThreshold.map((t) => ({ threshold: t.threshold, vRand: t.vRand, vInfo: t.vInfo })),
  };
}

/**
 * The columns of the metrics table: the variant, then one per figure (METRIC_NAMES). Dice and IoU
 * measure the cell-interior class (label 255, core/metrics/pixel.ts), not the membranes.
 */
const HEADERS = ['variant', 'V_rand best (thr)', 'V_info best (thr)', 'thr', 'V_rand', 'V_info', 'pixel error', 'Dice (cell interior)', 'IoU (cell interior)'];

/** The figures of a metrics row, in table order (the rows of a side-by-side table, core/evaluation-compare.ts). */
export const METRIC_NAMES: readonly string[] = HEADERS.slice(1);

/** How a variant is named in tables. */
export const variantName = (variant: EvaluationVariant): string => (variant === 'tta' ? 'TTA x8' : 'plain');

/** A metrics row's cells as the tables print them: the variant's name, then one per METRIC_NAMES. */
export function metricsCells(row: MetricsRow): string[] {
  const f = (v: number) => v.toFixed(4);
  return [
    variantName(row.variant),
    `${f(row.vRandBest)} (${row.bestThreshold.toFixed(1)})`,
    `${f(row.vInfoBest)} (${row.vInfoBestThreshold.toFixed(1)})`,
    row.threshold.toFixed(2),
    f(row.vRand),
    f(row.vInfo),
    f(row.pixelError),
    f(row.dice),
    f(row.iou),
  ];
}

/** The metrics as an aligned plain-text table for a terminal. */
export function formatMetricsText(result: EvaluationResult): string {
  return formatTextTable([HEADERS, ...result.rows.map(metricsCells)]);
}

/** The metrics as a Markdown table. */
export function formatMetricsMarkdown(result: EvaluationResult): string {
  const lines = [`| ${HEADERS.join(' | ')} |`, `| ${HEADERS.map((_, i) => (i === 0 ? '---' : '---:')).join(' | ')} |`];
  for (const row of result.rows) lines.push(`| ${metricsCells(row).join(' | ')} |`);
  return `${lines.join('\n')}\n`;
}
