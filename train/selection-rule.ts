/**
 * Which validated checkpoint a training run keeps (its `model/`), decided by a rule that resists
 * the noise of a few validation slices.
 *
 * The rule: each validation's weights (with a weight average, train/weight-average.ts, the
 * averaged ones) become the kept candidate, unless the one kept so far beats them by a margin, at
 * the contract's fixed threshold 0.5, on BOTH scores:
 *
 *   keep the earlier one  <=>  earlier.vRand >= later.vRand + margin  and  earlier.vInfo >= later.vInfo + margin
 *
 * (`vRand`/`vInfo` of the validation line are the figures at its fixed `threshold`, 0.5.) So a
 * later, more trained model is kept unless an earlier one is clearly better; a difference inside
 * the noise never sends the run back to an early step. Best-over-thresholds figures (`vRandBest`)
 * choose nothing here: their threshold is itself fitted to the same few slices.
 *
 * Why: the rule it replaces kept the checkpoint with the highest best-over-thresholds V_rand, and on
 * the default model's run of 2026-12-02 kept step 1,000 (0.9744 at threshold 0.8) over step 2,500
 * (0.9741 at 0.5), a 0.0003 difference on 4 slices; step 1,000 then scored clearly worse on a
 * held-out stack of another lab. test/train-selection-rule.test.ts replays that run's log.
 */
export interface SelectionScores {
  step: number;
  /** V_rand at the fixed threshold. */
  vRand: number;
  /** V_info at the fixed threshold. */
  vInfo: number;
}

/** Default margin: 0.005 on both scores, about the spread of one validation to the next late in a run. */
export const DEFAULT_SELECTION_MARGIN = 0.005;

/** True when `candidate` replaces `kept` (always when nothing is kept yet). */
export function replacesKept(kept: SelectionScores | undefined, candidate: SelectionScores, margin = DEFAULT_SELECTION_MARGIN): boolean {
  if (!(Number.isFinite(margin) && margin >= 0)) throw new RangeError(`margin: expected a finite number >= 0, found ${margin}`);
  if (kept === undefined) return true;
  const keptIsClearlyBetter = kept.vRand >= candidate.vRand + margin && kept.vInfo >= candidate.vInfo + margin;
  return !keptIsClearlyBetter;
}

/** The step a run with these validations (in step order) keeps under the rule, undefined for none. */
export function keptStep(validations: readonly SelectionScores[], margin = DEFAULT_SELECTION_MARGIN): number | undefined {
  let kept: SelectionScores | undefined;
  for (const line of validations) if (replacesKept(kept, line, margin)) kept = line;
  return kept?.step;
}
