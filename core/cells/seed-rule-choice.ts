/**
 * Which cell parameters a model's card carries, decided on the selection slices in the spirit of
 * core/serving-choice.ts: a change must clear a margin, not merely top a sweep.
 *
 * The rule: the current parameters (the model card's `cells`, else the built-in defaults of
 * cell-params.ts) stay unless the set with the largest V_rand of the grid on the selection slices
 * beats them there by `margin` (default 0.001; on 4 ISBI slices, differences below it are within
 * noise: core/cells/README.md) and, when the rows were scored under the shift suite too
 * (`shiftVRand`), by the margin in that mean as well, so that a set is not chosen for ISBI's
 * images alone; then that set is chosen (the first in grid order on ties).
 * Platform-neutral.
 */
import type { CellParams } from './cell-params.ts';
import { describeCellParams, sameCellParams } from './seed-rule-grid.ts';
import type { CellParamsScore } from './seed-rule-sweep.ts';

/** V_rand a set must gain over the current parameters to replace them. */
export const CELL_CHOICE_MARGIN = 0.001;

export interface CellParamsChoice {
  /** The row of the chosen set. */
  chosen: CellParamsScore;
  /** The row of the current parameters. */
  current: CellParamsScore;
  /** The row with the largest V_rand. */
  best: CellParamsScore;
  /** One sentence with the figures that made the choice. */
  reason: string;
}

const f = (v: number) => v.toFixed(4);

/** The choice among scored rows, which must include the current parameters. */
export function chooseCellParams(rows: readonly CellParamsScore[], current: CellParams, margin = CELL_CHOICE_MARGIN): CellParamsChoice {
  if (!(Number.isFinite(margin) && margin >= 0)) throw new RangeError(`margin: expected a finite number >= 0, found ${margin}`);
  const currentRow = rows.find((row) => sameCellParams(row.params, current));
  if (!currentRow) throw new RangeError(`rows: expected a row of the current parameters (${describeCellParams(current)}), found none among ${rows.length}`);
  const best = rows.reduce((a, b) => (b.vRand > a.vRand ? b : a));
  const gain = best.vRand - currentRow.vRand;
  const currentText = `the current set (${describeCellParams(current)}, V_rand ${f(currentRow.vRand)})`;
  if (sameCellParams(best.params, current)) {
    return { chosen: currentRow, current: currentRow, best, reason: `kept ${currentText}: the largest V_rand of ${rows.length} sets on the selection slices` };
  }
  if (gain < margin) {
    return {
      chosen: currentRow,
      current: currentRow,
      best,
      reason: `kept ${currentText}: the best of ${rows.length} sets on the selection slices, ${describeCellParams(best.params)}, gains ${f(gain)} in V_rand there, less than the margin ${margin}`,
    };
  }
  const shiftGain = best.shiftVRand !== undefined && currentRow.shiftVRand !== undefined ? best.shiftVRand - currentRow.shiftVRand : undefined;
  if (shiftGain !== undefined && shiftGain < margin) {
    return {
      chosen: currentRow,
      current: currentRow,
      best,
      reason: `kept ${currentText}: the best of ${rows.length} sets on the selection slices, ${describeCellParams(best.params)}, gains ${f(gain)} in V_rand there but ${f(shiftGain)} in the shift suite's mean (${f(best.shiftVRand!)} against ${f(currentRow.shiftVRand!)}), less than the margin ${margin}`,
    };
  }
  const shiftText = shiftGain === undefined ? '' : ` and ${f(shiftGain)} in the shift suite's mean`;
  return {
    chosen: best,
    current: currentRow,
    best,
    reason: `chose ${describeCellParams(best.params)} (V_rand ${f(best.vRand)}), the best of ${rows.length} sets on the selection slices: it gains ${f(gain)} over ${currentText}${shiftText}, at least the margin ${margin}`,
  };
}
