/**
 * The JSON `emseg evaluate --json` writes, which `emseg convert --metrics` reads into the model card
 * (convert/training-info.ts) and scripts/make-default-model.sh reads (`selection.served`,
 * `selection.chosenThresholds`, `selection.reasons`).
 *
 * - One model: `{ model, modelKind, sha256, images, labels, slices, threshold, ignore?, pixelSize?,
 *   invert?, rows, cellLabels?, shiftSuite?, selection?, protocol?, command, machine, date }`.
 *   `cellLabels` (core/cells/cell-evaluation.ts CellLabelEvaluation; absent with --no-cell-labels):
 *   `{ slices, params, paramsFrom, rows: [{ source: 'plain' | 'tta', vRand, vInfo, cellsPerSlice,
 *   truthRegionsPerSlice, perSlice: [{ slice, vRand, vInfo, cells, truthRegions, maskRegions }],
 *   mask: { threshold, vRand, vInfo, regionsPerSlice }, seconds }] }`, the labels the card's `cells`
 *   parameters give on the reported slices, beside each variant's mask at its threshold.
 * - Several models (`emseg evaluate a.onnx b.onnx`): `{ images, labels, slices, models: [...],
 *   command, machine, date }`, each entry of `models` the one-model document of that model, so any
 *   of them can be given to `emseg convert --metrics` on its own.
 */
import type { CellLabelEvaluation } from '../core/cells/cell-evaluation.ts';
import type { PixelSizeChoice } from '../core/pixel-size.ts';
import type { SliceScores } from './score-model.ts';
import type { ShiftSuiteResult } from '../core/shift-suite.ts';

/** What every document shares: the data, the command and where and when it ran. */
export interface EvaluationRecord {
  images: string;
  labels: string;
  slices: number[];
  selectSlices?: number[];
  ignore: number | null;
  invert: boolean;
  command: string;
  machine: string;
  date: string;
}

/** One model's figures and what identifies the model. */
export interface ModelFigures {
  model: string;
  modelKind: string;
  sha256?: string;
  scores: SliceScores;
  /** The cell labels of the reported slices, beside the masks (unless turned off). */
  cellLabels?: CellLabelEvaluation;
  shiftSuite?: ShiftSuiteResult;
  /** The pixel size the images were taken at, for this model (core/pixel-size.ts). */
  pixel: PixelSizeChoice;
}

/** The one-model document. */
export function modelEvaluationJson(figures: ModelFigures, record: EvaluationRecord): Record<string, unknown> {
  const { scores } = figures;
  const { protocol, selectionShifts } = scores;
  const selection = protocol
    ? {
        selection: {
          slices: record.selectSlices,
          chosenThresholds: protocol.chosenThresholds,
          served: protocol.choice.variant,
          reasons: protocol.choice.reasons,
          rows: protocol.selection.rows,
          ...(selectionShifts ? { shiftSuite: selectionShifts } : {}),
        },
        protocol: 'threshold and served variant chosen on the selection slices, test slices reported at it',
      }
    : {};
  return {
    model: figures.model,
    modelKind: figures.modelKind,
    sha256: figures.sha256,
    images: record.images,
    labels: record.labels,
    slices: record.slices,
    threshold: scores.threshold,
    ...(record.ignore !== null ? { ignore: record.ignore } : {}),
    ...(figures.pixel.pixelSize !== undefined ? { pixelSize: { nm: figures.pixel.pixelSize, from: figures.pixel.source, scale: figures.pixel.scale } } : {}),
    ...(record.invert ? { invert: true } : {}),
    rows: scores.result.rows,
    ...(figures.cellLabels ? { cellLabels: figures.cellLabels } : {}),
    ...(figures.shiftSuite ? { shiftSuite: figures.shiftSuite } : {}),
    ...selection,
    command: record.command,
    machine: record.machine,
    date: record.date,
  };
}

/** The document of several models: one entry per model, in the order given. */
export function comparisonJson(models: readonly ModelFigures[], record: EvaluationRecord): Record<string, unknown> {
  return {
    images: record.images,
    labels: record.labels,
    slices: record.slices,
    models: models.map((figures) => modelEvaluationJson(figures, record)),
    command: record.command,
    machine: record.machine,
    date: record.date,
  };
}
