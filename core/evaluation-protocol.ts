/**
 * The honest evaluation protocol: slices that choose and slices that report are different.
 * The threshold and the served variant are chosen on the selection slices by the rules of
 * core/serving-choice.ts (0.5 unless another threshold wins there by a margin, and in the shift
 * suite on those slices when one is given), then the test slices are scored at that threshold only: their "at threshold" figures (V_rand, V_info, pixel error, Dice, IoU)
 * are the ones to report, since nothing was chosen on them. Their best-over-the-sweep figures
 * (the ISBI challenge's way) remain in the rows, labelled as chosen on the test slices themselves.
 */
import { evaluateSlices, type EvaluationOptions, type EvaluationResult, type LabelledSlice, type SlicePredictor } from './evaluation.ts';
import { chooseServing, type ServingChoice, type ServingChoiceOptions } from './serving-choice.ts';
import type { ShiftSuiteResult } from './shift-suite.ts';

export interface SelectThenTestResult {
  /** The selection slices' evaluation (at the model's threshold), with the sweep that chose. */
  selection: EvaluationResult;
  /** The threshold chosen on the selection slices, per variant (plain, tta). */
  chosenThresholds: Partial<Record<'plain' | 'tta', number>>;
  /** The served variant and the reasons of every choice (core/serving-choice.ts). */
  choice: ServingChoice;
  /** The test slices' evaluation, one run per variant at its chosen threshold. */
  test: EvaluationResult;
}

export async function selectThenTest(
  selectSlices: readonly LabelledSlice[],
  testSlices: readonly LabelledSlice[],
  predictors: { plain: SlicePredictor; tta?: SlicePredictor },
  options: EvaluationOptions & { choice?: ServingChoiceOptions; selectionShifts?: ShiftSuiteResult } = {},
): Promise<SelectThenTestResult> {
  const selected = new Set(selectSlices.map((s) => s.index));
  const shared = testSlices.filter((s) => selected.has(s.index)).map((s) => s.index);
  if (shared.length > 0) throw new RangeError(`test slices: ${shared.join(', ')} also among the selection slices; the two must not overlap`);
  const { choice: choiceOptions, selectionShifts, ...evaluation } = options;
  const selection = await evaluateSlices(selectSlices, predictors, evaluation);
  const choice = chooseServing(selection.rows, selectionShifts, choiceOptions);
  const chosenThresholds = choice.thresholds;
  // One pass per variant at its own chosen threshold.
  const plain = await evaluateSlices(testSlices, { plain: predictors.plain }, { ...evaluation, threshold: chosenThresholds.plain! });
  const test: EvaluationResult = { ...plain, rows: [...plain.rows], probabilities: { ...plain.probabilities } };
  if (predictors.tta) {
    const tta = await evaluateSlices(testSlices, { plain: predictors.tta }, { ...evaluation, threshold: chosenThresholds.tta! });
    test.rows.push({ ...tta.rows[0]!, variant: 'tta' });
    test.probabilities.tta = tta.probabilities.plain!;
  }
  return { selection, chosenThresholds, choice, test };
}
