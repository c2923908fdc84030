/**
 * Several models side by side on the same slices (`emseg evaluate parent.onnx child.onnx`): one
 * table with a row per figure and a column per model (per model and variant with TTA), the
 * transpose of core/evaluation.ts's table, so that a fine-tuned model reads against its parent
 * line by line. The shift suite likewise: a row per shift, V_rand at each column's threshold.
 * Platform-neutral.
 *
 *   figure             parent  child
 *   V_rand best (thr)  0.8904 (0.6)  0.9349 (0.7)
 *   ...
 */
import { METRIC_NAMES, metricsCells, variantName, type EvaluationVariant, type MetricsRow } from './evaluation.ts';
import type { ShiftSuiteResult } from './shift-suite.ts';
import { formatTextTable } from './text-table.ts';

/** One model's figures under the name its column gets. */
export interface ComparedModel<T> {
  label: string;
  figures: T;
}

/** The columns: one per model and variant, named by the model alone when no model has a TTA row. */
function columns<T>(models: readonly ComparedModel<T>[], variantsOf: (figures: T) => readonly EvaluationVariant[]): Array<{ header: string; model: ComparedModel<T>; variant: EvaluationVariant }> {
  const withTta = models.some((m) => variantsOf(m.figures).includes('tta'));
  return models.flatMap((model) => variantsOf(model.figures).map((variant) => ({ header: withTta ? `${model.label} ${variantName(variant)}` : model.label, model, variant })));
}

/** The metrics rows of several models as one table: a row per figure, a column per model (and variant). */
export function formatComparisonText(models: readonly ComparedModel<readonly MetricsRow[]>[]): string {
  const cols = columns(models, (rows) => rows.map((row) => row.variant));
  const cells = cols.map((col) => metricsCells(col.model.figures.find((row) => row.variant === col.variant)!).slice(1));
  return formatTextTable([['figure', ...cols.map((col) => col.header)], ...METRIC_NAMES.map((name, r) => [name, ...cells.map((column) => column[r]!)])]);
}

/** The shift suites of several models as one table: V_rand at the threshold per shift, then the means of V_rand and V_info over the shifts. */
export function formatShiftComparisonText(models: readonly ComparedModel<ShiftSuiteResult>[]): string {
  const cols = columns(models, (suite) => (['plain', 'tta'] as const).filter((v) => suite.shifts[0]?.rows.some((row) => row.variant === v)));
  const f = (v: number | undefined) => (v === undefined ? 'n/a' : v.toFixed(4));
  const shifts = models[0]?.figures.shifts.map((s) => s.shift) ?? [];
  const rows = shifts.map((shift) => [
    `${shift} V_rand`,
    ...cols.map((col) => f(col.model.figures.shifts.find((s) => s.shift === shift)?.rows.find((row) => row.variant === col.variant)?.vRand)),
  ]);
  rows.push(['mean V_rand', ...cols.map((col) => f(col.model.figures.meanOverShifts[col.variant]?.vRand))]);
  rows.push(['mean V_info', ...cols.map((col) => f(col.model.figures.meanOverShifts[col.variant]?.vInfo))]);
  return formatTextTable([['shift', ...cols.map((col) => col.header)], ...rows]);
}

/**
 * Column names for model paths: the file name without `.onnx` (a tfjs folder: its path) when those
 * are all different, else the paths as given.
 */
export function modelLabels(paths: readonly string[]): string[] {
  const short = paths.map((path) => {
    const name = path.replace(/[\\/]+$/, '').split(/[\\/]/).at(-1) ?? path;
    return name.toLowerCase().endsWith('.onnx') ? name.slice(0, -'.onnx'.length) : path;
  });
  return new Set(short).size === short.length ? short : [...paths];
}
