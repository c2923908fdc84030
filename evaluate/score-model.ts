/**
 * One model scored on labelled slices, as `emseg evaluate` does it: the slice predictors (plain,
 * and 8-fold TTA when asked; rescaled to the model's pixel size and contrast-inverted when asked),
 * then either the slices scored at the model's threshold (core/evaluation.ts) or the honest
 * protocol (core/evaluation-protocol.ts: the threshold and the served variant chosen on the
 * selection slices, with the shift suite on them when asked, the test slices reported at it), and
 * the shift suite on the reported slices (core/shift-suite.ts) as a second step, so that a caller
 * can print the table before the suite's longer run; and the instance labels of the reported
 * slices' probability maps with the model card's `cells` parameters, scored beside the masks
 * (core/cells/cell-evaluation.ts).
 */
import { evaluateCellLabels, type CellLabelEvaluation } from '../core/cells/cell-evaluation.ts';
import { cellParamsFrom } from '../core/cells/cell-params.ts';
import { evaluateSlices, type EvaluationResult, type EvaluationVariant, type LabelledSlice, type SlicePredictor } from '../core/evaluation.ts';
import { selectThenTest, type SelectThenTestResult } from '../core/evaluation-protocol.ts';
import { runShiftSuite, type ImageShift, type ShiftSuiteResult } from '../core/shift-suite.ts';
import type { EvaluationModel, SliceRun } from './evaluation-model.ts';

export interface ScoringOptions {
  /** The reported slices. */
  slices: readonly LabelledSlice[];
  /** The slices that choose the threshold and the served variant (the protocol); none: the model's threshold. */
  selectSlices?: readonly LabelledSlice[];
  /** Also score with 8-fold test-time augmentation. */
  tta: boolean;
  /** Also run the shift suite on the selection slices (it takes part in the choice); the reported slices' suite is scoreShiftSuite. */
  shift: boolean;
  /** Threshold of the "at threshold" figures without selection slices. Default: the model's. */
  threshold?: number;
  ignore: number | null;
  /** Rescale factor to the model's pixel size and inverted contrast (evaluation-model.ts SliceRun). */
  run: Omit<SliceRun, 'tta'>;
  onSlice?: (variant: EvaluationVariant, done: number, total: number) => void;
  onShift?: (where: 'selection' | 'reported', shift: ImageShift, done: number, total: number) => void;
}

export interface SliceScores {
  /** The threshold of the reported figures: --threshold, the model's, or the one chosen on the selection slices (served variant). */
  threshold: number;
  /** The reported slices' figures (with the protocol: the test figures, each variant at its chosen threshold). */
  result: EvaluationResult;
  protocol?: SelectThenTestResult;
  /** The shift suite on the selection slices, when asked together with selection slices. */
  selectionShifts?: ShiftSuiteResult;
}

type Predictors = { plain: SlicePredictor; tta?: SlicePredictor };

/** The model's slice predictors for these options. */
export function slicePredictors(model: EvaluationModel, options: Pick<ScoringOptions, 'tta' | 'run'>): Predictors {
  return {
    plain: (image) => model.predictSlice(image, { ...options.run, tta: false }),
    ...(options.tta ? { tta: (image) => model.predictSlice(image, { ...options.run, tta: true }) } : {}),
  };
}

/** Scores the model on the slices (and chooses on the selection slices when given). */
export async function scoreSlices(model: EvaluationModel, options: ScoringOptions): Promise<SliceScores> {
  const predictors = slicePredictors(model, options);
  const threshold = options.threshold ?? model.threshold;
  const evaluation = { threshold, ignore: options.ignore, ...(options.onSlice ? { onSlice: options.onSlice } : {}) };
  if (!options.selectSlices) return { threshold, result: await evaluateSlices(options.slices, predictors, evaluation) };
  const selectionShifts = options.shift
    ? await runShiftSuite(options.selectSlices, predictors, { threshold, ignore: options.ignore, ...onShift(options, 'selection') })
    : undefined;
  const protocol = await selectThenTest(options.selectSlices, options.slices, predictors, { ...evaluation, ...(selectionShifts ? { selectionShifts } : {}) });
  return {
    threshold: protocol.chosenThresholds[protocol.choice.variant]!,
    result: protocol.test,
    protocol,
    ...(selectionShifts ? { selectionShifts } : {}),
  };
}

/** The shift suite on the reported slices, at the threshold of the figures (with the protocol: each variant's chosen one). */
export async function scoreShiftSuite(model: EvaluationModel, scores: SliceScores, options: ScoringOptions): Promise<ShiftSuiteResult> {
  return runShiftSuite(options.slices, slicePredictors(model, options), {
    threshold: scores.threshold,
    ...(scores.protocol ? { variantThresholds: scores.protocol.chosenThresholds } : {}),
    ignore: options.ignore,
    ...onShift(options, 'reported'),
  });
}

/** The cell labels of the reported slices' probability maps (each variant's), made with the card's `cells` (else the defaults) and scored beside each variant's mask. */
export function scoreCellLabels(model: Pick<EvaluationModel, 'card'>, scores: SliceScores, options: Pick<ScoringOptions, 'slices' | 'ignore'>): CellLabelEvaluation {
  const section = model.card?.cells;
  const paramsFrom = section ? "the model card's cells" : 'the defaults of core/cells/cell-params.ts, the model card has no cells section';
  return evaluateCellLabels(options.slices, scores.result, cellParamsFrom(section), { ignore: options.ignore, paramsFrom });
}

function onShift(options: ScoringOptions, where: 'selection' | 'reported') {
  const report = options.onShift;
  return report ? { onShift: (shift: ImageShift, done: number, total: number) => report(where, shift, done, total) } : {};
}
