/**
 * Instance labels scored on labelled slices, as `emseg evaluate` reports them beside the masks.
 * The labels are either made here from each variant's probability maps (labelCells with the given
 * parameters, e.g. the model card's `cells`) or given whole (a labels file). Either way they are
 * scored by core/metrics/label-score.ts: the labels are the proposal's segments as they are (no
 * threshold, no new components), their borders thinned like a mask's, then the same
 * foreground-restricted V_rand and V_info; and their cells are counted per slice against the ground
 * truth's regions (4-connected components of the white class). A variant's row also carries its
 * mask at the figures' threshold: V_rand and V_info from the metrics row, and the mask's regions
 * (its 4-connected components). Platform-neutral.
 *
 *   const cells = evaluateCellLabels(slices, result, cellParamsFrom(card.cells), { paramsFrom: "the model card's cells" });
 *   formatCellLabelsText(cells);
 */
import type { EvaluationResult, EvaluationVariant, LabelledSlice } from '../evaluation.ts';
import { variantName } from '../evaluation.ts';
import type { GreyImage } from '../image.ts';
import { labelComponents4 } from '../metrics/components.ts';
import { scoreLabelSlices, type LabelImage } from '../metrics/label-score.ts';
import { formatSliceList } from '../slice-list.ts';
import { formatTextTable } from '../text-table.ts';
import { labelCells } from './cell-labels.ts';
import type { CellParams } from './cell-params.ts';
import { describeCellParams } from './seed-rule-grid.ts';

/** One slice's figures. */
export interface CellLabelSlice {
  /** The slice's index in the stack. */
  slice: number;
  vRand: number;
  vInfo: number;
  /** Distinct non-zero labels. */
  cells: number;
  /** The ground truth's regions: 4-connected components of the white class. */
  truthRegions: number;
  /** A variant's mask at the threshold: its 4-connected components. */
  maskRegions?: number;
}

/** The mask of the same probabilities at the figures' threshold. */
export interface MaskFigures {
  threshold: number;
  vRand: number;
  vInfo: number;
  /** Mean over slices of the mask's 4-connected components. */
  regionsPerSlice: number;
}

export interface CellLabelRow {
  /** Whose labels: those of a variant's probability maps (`plain`, `tta`), or labels given whole (`file`). */
  source: EvaluationVariant | 'file';
  /** Means over slices (each slice weighs the same). */
  vRand: number;
  vInfo: number;
  cellsPerSlice: number;
  truthRegionsPerSlice: number;
  perSlice: CellLabelSlice[];
  /** A variant's mask at the figures' threshold (none for a labels file). */
  mask?: MaskFigures;
  /** Wall time of labelling and scoring the row. */
  seconds: number;
}

export interface CellLabelEvaluation {
  /** The slices scored, in order. */
  slices: number[];
  /** The parameters that made the labels, and where they came from (labels made here only). */
  params?: CellParams;
  paramsFrom?: string;
  rows: CellLabelRow[];
}

const mean = (values: readonly number[]) => values.reduce((sum, v) => sum + v, 0) / values.length;

/** Scores labels given whole: `proposals[k]` belongs to `slices[k]`. */
export function scoreCellLabelSlices(
  slices: readonly { index: number; label: GreyImage }[],
  proposals: readonly LabelImage[],
  options: { ignore?: number | null } = {},
): Omit<CellLabelRow, 'source' | 'mask' | 'seconds'> {
  const scores = scoreLabelSlices(proposals, slices.map((s) => s.label), { ignore: options.ignore ?? null });
  const perSlice = scores.perSlice.map((s, k) => ({ slice: slices[k]!.index, vRand: s.vRand, vInfo: s.vInfo, cells: s.cells, truthRegions: s.truthRegions }));
  return {
    vRand: scores.vRand,
    vInfo: scores.vInfo,
    cellsPerSlice: mean(perSlice.map((s) => s.cells)),
    truthRegionsPerSlice: mean(perSlice.map((s) => s.truthRegions)),
    perSlice,
  };
}

/** The 4-connected components of `probability >= threshold`. */
function maskRegions(probability: Float32Array, width: number, height: number, threshold: number): number {
  const mask = new Uint8Array(probability.length);
  for (let i = 0; i < mask.length; i++) mask[i] = probability[i]! >= threshold ? 1 : 0;
  return labelComponents4(mask, width, height).count;
}

/**
 * Labels each variant's probability maps of `result` (in the order of `slices`) with `params` and
 * scores them, beside the variant's mask at its metrics row's threshold.
 */
export function evaluateCellLabels(
  slices: readonly LabelledSlice[],
  result: EvaluationResult,
  params: CellParams,
  options: { ignore?: number | null; paramsFrom?: string } = {},
): CellLabelEvaluation {
  const rows = result.rows.map((row): CellLabelRow => {
    const probabilities = result.probabilities[row.variant];
    if (!probabilities || probabilities.length !== slices.length) {
      throw new RangeError(`result.probabilities.${row.variant}: expected one probability map per slice (${slices.length}), found ${probabilities?.length ?? 'none'}`);
    }
    const start = performance.now();
    const labelled = probabilities.map((p, k) => labelCells(p, slices[k]!.label.width, slices[k]!.label.height, params));
    const scored = scoreCellLabelSlices(slices, labelled, options);
    const regions = probabilities.map((p, k) => maskRegions(p, slices[k]!.label.width, slices[k]!.label.height, row.threshold));
    return {
      source: row.variant,
      ...scored,
      perSlice: scored.perSlice.map((s, k) => ({ ...s, maskRegions: regions[k]! })),
      mask: { threshold: row.threshold, vRand: row.vRand, vInfo: row.vInfo, regionsPerSlice: mean(regions) },
      seconds: (performance.now() - start) / 1000,
    };
  });
  return { slices: slices.map((s) => s.index), params, ...(options.paramsFrom ? { paramsFrom: options.paramsFrom } : {}), rows };
}

const HEADERS = ['proposal', 'V_rand', 'V_info', 'regions per slice (mean)', 'per slice'];

/** The table's rows: the ground truth's regions, then per row its labels and (for a variant) its mask. */
function tableRows(evaluation: CellLabelEvaluation): string[][] {
  const f = (v: number) => v.toFixed(4);
  const list = (values: readonly number[]) => values.join(', ');
  const first = evaluation.rows[0];
  const out: string[][] = first ? [['ground truth', '', '', first.truthRegionsPerSlice.toFixed(1), list(first.perSlice.map((s) => s.truthRegions))]] : [];
  for (const row of evaluation.rows) {
    const name = row.source === 'file' ? 'labels file' : `${variantName(row.source)} cell labels`;
    out.push([name, f(row.vRand), f(row.vInfo), row.cellsPerSlice.toFixed(1), list(row.perSlice.map((s) => s.cells))]);
    if (row.mask && row.source !== 'file') {
      const regions = row.perSlice.map((s) => s.maskRegions ?? 0);
      out.push([`${variantName(row.source)} mask at ${row.mask.threshold.toFixed(2)}`, f(row.mask.vRand), f(row.mask.vInfo), row.mask.regionsPerSlice.toFixed(1), list(regions)]);
    }
  }
  return out;
}

/** The sentence above the table: which labels, on which slices. */
export function cellLabelsCaption(evaluation: CellLabelEvaluation): string {
  const made = evaluation.params ? ` (${describeCellParams(evaluation.params)}: ${evaluation.paramsFrom ?? 'given parameters'})` : '';
  return `cell labels${made} on slices ${formatSliceList(evaluation.slices)}: V_rand and V_info of the labels as segments; cells per slice against the ground truth's regions (4-connected components of the white class)`;
}

/** The caption and the table, aligned for a terminal. */
export function formatCellLabelsText(evaluation: CellLabelEvaluation): string {
  return `${cellLabelsCaption(evaluation)}:\n${formatTextTable([HEADERS, ...tableRows(evaluation)])}`;
}

/** The table as Markdown (the report's caption is its own). */
export function formatCellLabelsMarkdown(evaluation: CellLabelEvaluation): string {
  const lines = [`| ${HEADERS.join(' | ')} |`, `| ${HEADERS.map((_, i) => (i === 0 || i === HEADERS.length - 1 ? '---' : '---:')).join(' | ')} |`];
  for (const row of tableRows(evaluation)) lines.push(`| ${row.join(' | ')} |`);
  return `${lines.join('\n')}\n`;
}
