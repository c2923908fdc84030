/**
 * Scores cell parameter sets on labelled slices whose probability maps are already computed: each
 * set labels every slice (cell-labels.ts) and the labels are scored like masks
 * (core/metrics/label-score.ts: foreground-restricted V_rand and V_info after border thinning,
 * averaged over slices). The probability maps are computed once by the caller, so a grid of sets
 * costs only the watershed and the scoring. Platform-neutral.
 *
 *   const rows = sweepCellParams({ width, height, probabilities, truths }, seedRuleGrid('default'));
 */
import type { GreyImage } from '../image.ts';
import { scoreLabelSlices } from '../metrics/label-score.ts';
import { labelCells } from './cell-labels.ts';
import type { CellParams } from './cell-params.ts';

/** Labelled slices with their cell-interior probability maps, in the same order. */
export interface ScoredSlices {
  width: number;
  height: number;
  probabilities: readonly ArrayLike<number>[];
  truths: readonly GreyImage[];
  /** Label value of unlabelled pixels, counted in no figure. Default none. */
  ignore?: number | null;
}

export interface CellParamsScore {
  params: CellParams;
  /** Averages over the slices (each slice weighs the same). */
  vRand: number;
  vInfo: number;
  /** V_rand of each slice, in the given order. */
  perSliceVRand: number[];
  /** Mean number of cells per slice. */
  cellsPerSlice: number;
  /** Wall time of labelling and scoring this set (with the shifted copies, when scored). */
  seconds: number;
  /** Mean V_rand over shifted copies of the slices (the shift suite's, core/shift-suite.ts), when they were scored. */
  shiftVRand?: number;
}

/** Labels every slice with `params` and scores the labels. */
export function scoreCellParams(slices: ScoredSlices, params: CellParams): CellParamsScore {
  const { width, height, probabilities, truths } = slices;
  if (probabilities.length !== truths.length) {
    throw new RangeError(`truths: expected one label image per probability map (${probabilities.length}), found ${truths.length}`);
  }
  const start = performance.now();
  const labelled = probabilities.map((probability) => labelCells(probability, width, height, params));
  const scores = scoreLabelSlices(labelled, truths, { ignore: slices.ignore ?? null });
  return {
    params,
    vRand: scores.vRand,
    vInfo: scores.vInfo,
    perSliceVRand: scores.perSlice.map((s) => s.vRand),
    cellsPerSlice: labelled.reduce((sum, l) => sum + l.count, 0) / labelled.length,
    seconds: (performance.now() - start) / 1000,
  };
}

/**
 * Scores each set of the grid in order; `onSet` reports progress after each. With `shifted` (the
 * same slices under each shift of a suite, their probability maps computed under the shift), each
 * row also gets `shiftVRand`, the mean of the set's V_rand over them.
 */
export function sweepCellParams(
  slices: ScoredSlices,
  grid: readonly CellParams[],
  onSet?: (row: CellParamsScore, done: number, total: number) => void,
  shifted: readonly ScoredSlices[] = [],
): CellParamsScore[] {
  if (grid.length === 0) throw new RangeError('grid: expected at least one parameter set, found none');
  return grid.map((params, k) => {
    const start = performance.now();
    const row = scoreCellParams(slices, params);
    if (shifted.length > 0) {
      row.shiftVRand = shifted.reduce((sum, copy) => sum + scoreCellParams(copy, params).vRand, 0) / shifted.length;
      row.seconds = (performance.now() - start) / 1000;
    }
    onSet?.(row, k + 1, grid.length);
    return row;
  });
}
