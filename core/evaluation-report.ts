/**
 * The evaluation report as Markdown: what was evaluated, the metrics table (with and without
 * test-time augmentation), the validation montage, the test-volume montage, the training curve,
 * budget and wall time, and the exact commands that reproduce everything. A pure function of
 * its inputs (paths are written as given, relative to the report), so it is tested without files.
 */
import { formatMetricsMarkdown, type EvaluationResult } from './evaluation.ts';

export interface TrainingSummary {
  /** The `emseg train` command line recorded in the run's config.json. */
  command?: string | null;
  /** Every invocation of the run (the first, then each --resume), with the steps each covered. */
  invocations?: Array<{ command: string | null; fromStep?: number; toStep?: number; status?: string }>;
  status?: string;
  steps?: number;
  totalSteps?: number;
  cropsSeen?: number;
  wallTimeSeconds?: number;
  backend?: string;
  cropSize?: number;
  batchSize?: number;
  architecture?: string;
  split?: { train: string; validation: string };
  /** The best validation during training: V_rand best over the sweep, at its threshold. */
  best?: { step: number; vRandBest: number; bestThreshold: number } | null;
  /** The runs this one continued (emseg train --init, each from the export of the one before), the earliest first. */
  ancestors?: TrainingAncestor[];
  /** Crops seen by this run and every ancestor, when all of them say. */
  cropsSeenWithAncestors?: number;
}

/** An earlier run of a chain of --init runs, as the model card names it. */
export interface TrainingAncestor {
  name: string;
  sha256: string;
  /** The export the next run started from (its --init), as given then. */
  path?: string;
  command?: string;
  steps?: number;
  cropsSeen?: number;
  wallTimeSeconds?: number;
}

import { formatShiftSuiteMarkdown, type ShiftSuiteResult } from './shift-suite.ts';
import { cellLabelsCaption, formatCellLabelsMarkdown, type CellLabelEvaluation } from './cells/cell-evaluation.ts';

export interface ReportInput {
  title: string;
  /** The model file or folder evaluated, and what it is. */
  model: string;
  modelKind: string;
  sha256?: string;
  /** The stack evaluated and its slices, e.g. data/isbi2012/train-volume.tif, "25-29". */
  images: string;
  labels: string;
  slices: string;
  result: EvaluationResult;
  /** The `emseg evaluate` command line that made this report. */
  evaluateCommand: string;
  /** Other commands of the pipeline (e.g. the convert command from the model card). */
  otherCommands?: Array<{ what: string; command: string }>;
  machine: string;
  date: string;
  /** Relative paths from the report to its pictures. */
  validationMontage?: string;
  testMontage?: { path: string; images: string; slices: string };
  curve?: string;
  training?: TrainingSummary;
  /** Extra notes (e.g. conversion parity). */
  notes?: string[];
  /** The shift suite on the same slices (core/shift-suite.ts). */
  shiftSuite?: ShiftSuiteResult;
  /** The cell labels of the same probabilities, beside the masks (core/cells/cell-evaluation.ts). */
  cellLabels?: CellLabelEvaluation;
}

const duration = (seconds: number): string => {
  const h = Math.floor(seconds / 3600);
  const m = Math.round((seconds % 3600) / 60);
  return h > 0 ? `${h} h ${m} min` : `${(seconds / 60).toFixed(1)} min`;
};

export function renderEvaluationReport(input: ReportInput): string {
  const out: string[] = [];
  const { result } = input;
  out.push(`# ${input.title}`, '');
  out.push(`Evaluated ${input.date} on ${input.machine}.`, '');
  out.push('| | |', '| --- | --- |');
  out.push(`| model | \`${input.model}\` (${input.modelKind}) |`);
  if (input.sha256) out.push(`| sha256 | \`${input.sha256}\` |`);
  out.push(`| images | \`${input.images}\`, slices ${input.slices} |`);
  out.push(`| labels | \`${input.labels}\` (255 = cell interior) |`);
  out.push('');
  out.push('## Metrics', '');
  out.push(
    'ISBI 2012 scores as CONVENTIONS.md defines them: foreground-restricted V_rand and V_info after border thinning, per slice, averaged over the slices. "best (thr)": the best value over the thresholds 0.0, 0.1, ..., 1.0 of the cell-interior probability, with its threshold (V_rand and V_info each at their own, as the challenge reports them); "thr": the model card\'s threshold, at which V_rand, V_info, pixel error, Dice and IoU follow (Dice and IoU of the cell-interior class, label 255, not of the membranes). "TTA x8": the mean of the 8 flips/rotations of each tile.',
    '',
  );
  out.push(formatMetricsMarkdown(result));
  const perThreshold = result.rows[0]?.perThreshold ?? [];
  if (perThreshold.length > 0) {
    out.push('<details><summary>V_rand and V_info per threshold</summary>', '');
    out.push(`| threshold | ${result.rows.map((r) => `V_rand ${r.variant} | V_info ${r.variant}`).join(' | ')} |`);
    out.push(`| ---: | ${result.rows.map(() => '---: | ---:').join(' | ')} |`);
    perThreshold.forEach((t, i) => {
      const cells = result.rows.map((r) => `${r.perThreshold[i]?.vRand.toFixed(4) ?? ''} | ${r.perThreshold[i]?.vInfo.toFixed(4) ?? ''}`);
      out.push(`| ${t.threshold.toFixed(2)} | ${cells.join(' | ')} |`);
    });
    out.push('', '</details>', '');
  }
  if (input.cellLabels) {
    out.push('## Cell labels', '');
    out.push(`The ${cellLabelsCaption(input.cellLabels)}; each variant's mask at the threshold above for comparison (its regions: 4-connected components).`, '');
    out.push(formatCellLabelsMarkdown(input.cellLabels));
  }
  if (input.shiftSuite) {
    out.push('## Shift suite', '');
    out.push(
      `The same slices under the changes another microscope or lab brings (core/shift-suite.ts), scored like them: V_rand and V_info at the threshold above; the last row averages the shifts (not "none").`,
      '',
    );
    out.push(formatShiftSuiteMarkdown(input.shiftSuite));
  }
  if (input.validationMontage) {
    out.push('## Validation slices', '');
    out.push(
      `Columns: image, label, prediction (mask at threshold ${result.rows.at(-1)?.threshold ?? 0.5}${result.rows.some((r) => r.variant === 'tta') ? ', with TTA' : ''}), errors (magenta: predicted cell interior where the label has membrane; green: predicted membrane inside a cell).`,
      '',
    );
    out.push(`![validation montage](${input.validationMontage})`, '');
  }
  if (input.testMontage) {
    out.push('## Test volume', '');
    out.push(`\`${input.testMontage.images}\`, slices ${input.testMontage.slices} (no labels were ever published): image and prediction.`, '');
    out.push(`![test montage](${input.testMontage.path})`, '');
  }
  const t = input.training;
  if (t || input.curve) {
    out.push('## Training', '');
    if (t) {
      out.push('| | |', '| --- | --- |');
      if (t.architecture) out.push(`| architecture | ${t.architecture} |`);
      if (t.split) out.push(`| split | train slices ${t.split.train}, validation slices ${t.split.validation} |`);
      if (t.steps !== undefined) out.push(`| budget | ${t.steps}${t.totalSteps !== undefined ? ` of ${t.totalSteps}` : ''} steps${t.batchSize ? ` of ${t.batchSize} crops` : ''}${t.cropSize ? ` ${t.cropSize}x${t.cropSize}` : ''} |`);
      if (t.cropsSeen !== undefined) out.push(`| crops seen | ${t.cropsSeen}${t.cropsSeenWithAncestors !== undefined ? ` (${t.cropsSeenWithAncestors} with the earlier runs)` : ''} |`);
      for (const [k, a] of (t.ancestors ?? []).entries()) {
        const facts = [a.steps !== undefined ? `${a.steps} steps` : undefined, a.cropsSeen !== undefined ? `${a.cropsSeen} crops` : undefined, a.wallTimeSeconds !== undefined ? duration(a.wallTimeSeconds) : undefined].filter(Boolean);
        out.push(`| earlier run ${k + 1} of ${t.ancestors!.length} | ${a.path ?? a.name} (sha256 ${a.sha256.slice(0, 12)}...)${facts.length > 0 ? `, ${facts.join(', ')}` : ''}${k + 1 === t.ancestors!.length ? '; this run started from it (--init)' : ''} |`);
      }
      if (t.wallTimeSeconds !== undefined) out.push(`| wall time | ${duration(t.wallTimeSeconds)} |`);
      if (t.backend) out.push(`| backend | ${t.backend} |`);
      if (t.status) out.push(`| status | ${t.status} |`);
      if (t.best) out.push(`| best validation during training | V_rand ${t.best.vRandBest.toFixed(4)} at step ${t.best.step} (threshold ${t.best.bestThreshold}) |`);
      out.push('');
    }
    if (input.curve) out.push(`![training curve](${input.curve})`, '');
  }
  if (input.notes && input.notes.length > 0) {
    out.push('## Notes', '');
    for (const note of input.notes) out.push(`- ${note}`);
    out.push('');
  }
  out.push('## Reproduce', '', '```sh');
  for (const [k, a] of (t?.ancestors ?? []).entries()) {
    if (a.command) out.push(`# train, earlier run ${k + 1} of ${t!.ancestors!.length}${a.path ? ` (the next run starts from its export, ${a.path})` : ''}\n${a.command}`);
  }
  const runs = (t?.invocations ?? []).filter((i) => i.command);
  if (runs.length > 0) {
    runs.forEach((run, i) => {
      const steps = run.fromStep !== undefined && run.toStep !== undefined ? ` (steps ${run.fromStep}-${run.toStep}${run.status ? `, ${run.status}` : ''})` : '';
      out.push(`# train${i === 0 ? '' : `, continued`}${steps}\n${run.command}`);
    });
  } else if (t?.command) out.push(`# train\n${t.command}`);
  for (const other of input.otherCommands ?? []) out.push(`# ${other.what}\n${other.command}`);
  out.push(`# evaluate (this report)\n${input.evaluateCommand}`);
  out.push('```', '');
  return out.join('\n');
}
