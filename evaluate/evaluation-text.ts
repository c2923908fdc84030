/**
 * What `emseg evaluate` prints on stdout: one model's tables (core/evaluation.ts; with the
 * protocol, the selection slices' table, the choices and the test slices' table), or several
 * models side by side (core/evaluation-compare.ts), each with the shift suite when run, and each
 * model's cell labels beside its masks (core/cells/cell-evaluation.ts).
 */
import { formatComparisonText, formatShiftComparisonText, modelLabels } from '../core/evaluation-compare.ts';
import { formatCellLabelsText } from '../core/cells/cell-evaluation.ts';
import { formatMetricsText } from '../core/evaluation.ts';
import { formatShiftSuiteText, type ShiftSuiteResult } from '../core/shift-suite.ts';
import { formatSliceList } from '../core/slice-list.ts';
import type { ModelFigures } from './evaluation-json.ts';
import type { SliceScores } from './score-model.ts';

/** One model's tables as they are printed: with the protocol, the selection slices', the choices, then the test slices'. */
export function singleModelTable(scores: SliceScores, slices: readonly number[], selectSlices: readonly number[] | undefined): string {
  const { protocol, selectionShifts } = scores;
  if (!protocol || !selectSlices) return formatMetricsText(scores.result);
  return [
    `selection slices ${formatSliceList(selectSlices)} (choose the threshold and plain or TTA):\n${formatMetricsText(protocol.selection)}`,
    selectionShifts ? `shift suite on the selection slices ${formatSliceList(selectSlices)}:\n${formatShiftSuiteText(selectionShifts)}` : '',
    protocol.choice.reasons.map((r) => `choice: ${r}\n`).join(''),
    `test slices ${formatSliceList(slices)}, at the threshold chosen on the selection slices (columns thr, V_rand, V_info, ...; the "best" columns are chosen on the test slices themselves):\n`,
    formatMetricsText(scores.result),
  ].join('');
}

/** One model's shift suite on the reported slices (with the protocol: each variant at its chosen threshold). */
export function singleModelShiftTable(shiftSuite: ShiftSuiteResult, slices: readonly number[], chosen: boolean): string {
  return `shift suite on slices ${formatSliceList(slices)}${chosen ? ' (at the chosen thresholds)' : ''}:\n${formatShiftSuiteText(shiftSuite)}`;
}

/** Several models side by side: with the protocol, the selection slices' table and each model's choices first. */
export function comparisonText(figures: readonly ModelFigures[], slices: readonly number[], selectSlices: readonly number[] | undefined): string {
  const labels = modelLabels(figures.map((f) => f.model));
  const named = <T>(pick: (f: ModelFigures) => T) => figures.map((f, i) => ({ label: labels[i]!, figures: pick(f) }));
  const parts: string[] = [];
  const selectionShifts = figures.every((f) => f.scores.selectionShifts);
  if (selectSlices) {
    parts.push(`selection slices ${formatSliceList(selectSlices)} (each model chooses its threshold and plain or TTA here):\n`);
    parts.push(formatComparisonText(named((f) => f.scores.protocol!.selection.rows)));
    if (selectionShifts) parts.push(`shift suite on the selection slices ${formatSliceList(selectSlices)} (V_rand at the threshold):\n${formatShiftComparisonText(named((f) => f.scores.selectionShifts!))}`);
    for (const [i, f] of figures.entries()) parts.push(f.scores.protocol!.choice.reasons.map((r) => `choice (${labels[i]}): ${r}\n`).join(''));
    parts.push(`test slices ${formatSliceList(slices)}, each model at the threshold it chose on the selection slices (rows thr, V_rand, V_info, ...; the "best" rows are chosen on the test slices themselves):\n`);
  } else {
    parts.push(`slices ${formatSliceList(slices)}, the models side by side:\n`);
  }
  parts.push(formatComparisonText(named((f) => f.scores.result.rows)));
  for (const [i, f] of figures.entries()) if (f.cellLabels) parts.push(`${labels[i]}: ${formatCellLabelsText(f.cellLabels)}`);
  if (figures.every((f) => f.shiftSuite)) {
    parts.push(`shift suite on slices ${formatSliceList(slices)}${selectSlices ? ' (at the chosen thresholds)' : ''}, V_rand at the threshold:\n${formatShiftComparisonText(named((f) => f.shiftSuite!))}`);
  }
  return parts.join('');
}
