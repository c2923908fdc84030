/**
 * `emseg evaluate` as a function: one or several models scored on the same labelled slices, the
 * tables printed, the outputs written. The CLI (cli/commands/evaluate.ts) only parses the flags
 * into EvaluateOptions and calls runEvaluation.
 *
 *   read the labelled images (evaluate/labelled-slices.ts: stacks or folders, slices that fit the
 *   stack) -> check every output before any work (never onto an input, never onto an existing
 *   file without `force`) -> per model: open it (evaluate/evaluation-model.ts), take the images'
 *   pixel size to the model's (core/pixel-size.ts choosePixelSize), score (evaluate/score-model.ts)
 *   -> print: one model, its table (core/evaluation.ts); several, one table side by side
 *   (core/evaluation-compare.ts) -> JSON (evaluate/evaluation-json.ts); for one model also the
 *   montages and the report (evaluate/report.ts).
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import { checkPolarity } from '../core/contrast-polarity.ts';
import { EmsegError } from '../core/errors.ts';
import { formatComparisonText, formatShiftComparisonText, modelLabels } from '../core/evaluation-compare.ts';
import { formatMetricsText, type EvaluationVariant } from '../core/evaluation.ts';
import type { ImageStack } from '../core/image.ts';
import { choosePixelSize, type PixelSizeChoice } from '../core/pixel-size.ts';
import { formatShiftSuiteText } from '../core/shift-suite.ts';
import { formatSliceList, parseSliceList } from '../core/slice-list.ts';
import { assertNotAnInput, writeFileAtomic } from '../node/atomic-write.ts';
import { refuseExistingOutputs, type PlannedOutput } from '../node/existing-outputs.ts';
import { readImageFile } from '../node/image-files.ts';
import { readLabelledData } from '../node/labelled-sources.ts';
import { machineDescription } from '../train/machine.ts';
import { comparisonJson, modelEvaluationJson, type EvaluationRecord, type ModelFigures } from './evaluation-json.ts';
import { openEvaluationModel, type EvaluationModel } from './evaluation-model.ts';
import { DEFAULT_EVALUATION_IMAGES, DEFAULT_EVALUATION_LABELS, DEFAULT_MONTAGE_SHRINK, DEFAULT_TEST_IMAGES, DEFAULT_TEST_SLICES } from './defaults.ts';
import { chooseSlices, labelledSlices } from './labelled-slices.ts';
import { curvePathFor, writeReport, writeTestMontage, writeValidationMontage } from './report.ts';
import { scoreShiftSuite, scoreSlices, slicePredictors, type ScoringOptions } from './score-model.ts';
import { findTrainingRun, type TrainingRunFiles } from './training-run.ts';

export interface EvaluateOptions {
  /** The models: .onnx files or tfjs Layers model folders; several are scored side by side. */
  models: readonly string[];
  /** Labelled images (stacks or folders, comma-separated lists of them). Default the ISBI training stack and its labels. */
  images?: string;
  labels?: string;
  /** Reported slices, e.g. '25-29'. Default: evaluate/labelled-slices.ts. */
  slices?: string;
  /** Slices that choose the threshold and the served variant. Default none. */
  selectSlices?: string;
  /** Label value of unlabelled pixels. Default none. */
  ignore?: number | null;
  tta?: boolean;
  shift?: boolean;
  /** Threshold of the "at threshold" figures (not with selectSlices). Default each model's. */
  threshold?: number;
  /** The images' pixel size in nm (else the one their files state, else none): rescaled to each model's training pixel size. */
  pixelSize?: number;
  /** Invert the images' contrast before the models see them. Default false. */
  invert?: boolean;
  json?: string;
  /** One model only: the report, the montages, the training run it reads. */
  report?: string;
  montage?: string;
  testMontage?: string;
  testImages?: string;
  testSlices?: string;
  run?: string;
  shrink?: number;
  /** tfjs backend for tfjs folders; onnxruntime execution providers for .onnx files. */
  backend?: string;
  providers?: string;
  /** Replace outputs that exist. Default false (refused before any work). */
  force?: boolean;
  /** The command line, recorded in the JSON and the report. */
  command: string;
}

export interface EvaluateIO {
  stdout(text: string): void;
  stderr(text: string): void;
  /** Whether stderr is a terminal (progress redrawn in place). */
  tty: boolean;
}

const processIO: EvaluateIO = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  tty: process.stderr.isTTY === true,
};

const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

/** The outputs one model's report implies, unless given explicitly. */
function reportOutputs(options: EvaluateOptions) {
  const reportBase = options.report ? options.report.replace(/\.md$/i, '') : undefined;
  return {
    reportBase,
    montage: options.montage ?? (reportBase ? `${reportBase}.validation.png` : undefined),
    testMontage: options.testMontage ?? (reportBase ? `${reportBase}.test.png` : undefined),
  };
}

/** Runs the evaluation; returns each model's figures in the order given. */
export async function runEvaluation(options: EvaluateOptions, io: EvaluateIO = processIO): Promise<ModelFigures[]> {
  const { models } = options;
  if (models.length === 0) throw new EmsegError('E_BAD_ARGUMENT', '<model>: expected at least one .onnx file or tfjs model folder');
  for (const path of models) if (!existsSync(path)) throw new EmsegError('E_NOT_FOUND', `<model> ${path}: no such file or folder`);
  if (models.length > 1) {
    const single = (['report', 'montage', 'testMontage', 'run'] as const).find((key) => options[key] !== undefined);
    if (single) {
      const flag = { report: '--report', montage: '--montage', testMontage: '--test-montage', run: '--run' }[single];
      throw new EmsegError('E_BAD_ARGUMENT', `${flag}: for one model at a time (${models.length} models given); compare them without it, then report each on its own`);
    }
  }
  if (options.selectSlices !== undefined && options.threshold !== undefined) {
    throw new EmsegError('E_BAD_ARGUMENT', '--threshold: not together with --select-slices, which chooses the threshold');
  }
  const imagesPath = options.images ?? DEFAULT_EVALUATION_IMAGES;
  const labelsPath = options.labels ?? DEFAULT_EVALUATION_LABELS;
  const ignore = options.ignore ?? null;
  const invert = options.invert === true;
  const shrink = options.shrink ?? DEFAULT_MONTAGE_SHRINK;
  const { reportBase, montage, testMontage } = reportOutputs(options);

  const data = await readLabelledData(imagesPath, labelsPath, { ignore });
  const choice = chooseSlices({ images: imagesPath, pageCount: data.images.pages.length, ...(options.slices !== undefined ? { slices: options.slices } : {}), ...(options.selectSlices !== undefined ? { selectSlices: options.selectSlices } : {}) });
  const { slices, selectSlices } = choice;
  if (choice.note) io.stderr(`${choice.note}\n`);
  const inputs = [...models, imagesPath, labelsPath];
  const testImagesPath = options.testImages ?? DEFAULT_TEST_IMAGES;
  let testImages: ImageStack | undefined;
  let testSlices: number[] = [];
  if (testMontage) {
    testImages = await readImageFile(testImagesPath);
    testSlices = parseSliceList(options.testSlices ?? DEFAULT_TEST_SLICES, testImages.pages.length, '--test-slices');
    inputs.push(testImagesPath);
  }
  const run: TrainingRunFiles = options.report ? findTrainingRun(models[0]!, options.run) : {};
  const planned: PlannedOutput[] = [
    ...(options.json ? [{ path: options.json, flag: '--json' }] : []),
    ...(options.report ? [{ path: options.report, flag: '--report' }] : []),
    ...(montage ? [{ path: montage, flag: options.montage ? '--montage' : '--report (its validation montage)' }] : []),
    ...(testMontage ? [{ path: testMontage, flag: options.testMontage ? '--test-montage' : '--report (its test montage)' }] : []),
    ...(reportBase && run.log ? [{ path: curvePathFor(reportBase), flag: '--report (its training curve)' }] : []),
  ];
  for (const output of planned) await assertNotAnInput(output.path, inputs);
  await refuseExistingOutputs(planned, options.force === true);

  const reported = labelledSlices(data, slices);
  const selecting = selectSlices ? labelledSlices(data, selectSlices) : undefined;
  const polarity = checkPolarity([...(selecting ?? []), ...reported].map((s) => s.image), imagesPath, { invert });
  if (polarity.warning) io.stderr(`emseg: warning: ${polarity.warning}\n`);

  const record: EvaluationRecord = {
    images: imagesPath,
    labels: labelsPath,
    slices,
    ...(selectSlices ? { selectSlices } : {}),
    ignore,
    invert,
    command: options.command,
    machine: machineDescription(),
    date: new Date().toISOString(),
  };
  const single = models.length === 1;
  const figures: ModelFigures[] = [];
  for (const path of models) {
    const model = await openEvaluationModel(path, { backend: options.backend ?? 'auto', ...(options.providers !== undefined ? { providers: options.providers } : {}) });
    try {
      io.stderr(
        `evaluating ${path} (${model.kind}) on ${basename(imagesPath)} slices ${formatSliceList(slices)}${selectSlices ? ` (threshold chosen on slices ${formatSliceList(selectSlices)})` : ''}${options.tta ? ', with and without TTA' : ''}\n`,
      );
      const pixel = choosePixelSize({ override: options.pixelSize, stated: data.images.pixelSize, trainingPixelSize: model.trainingPixelSize, name: basename(imagesPath) });
      io.stderr(`${pixel.line}\n`);
      const scoring = scoringOptions(options, io, { reported, selecting, ignore, pixel, invert });
      const scores = await scoreSlices(model, scoring);
      if (single) io.stdout(singleModelTable(scores, slices, selectSlices));
      const shiftSuite = options.shift ? await scoreShiftSuite(model, scores, scoring) : undefined;
      if (single && shiftSuite) io.stdout(`shift suite on slices ${formatSliceList(slices)}${scores.protocol ? ' (at the chosen thresholds)' : ''}:\n${formatShiftSuiteText(shiftSuite)}`);
      const modelFigures: ModelFigures = {
        model: path,
        modelKind: model.kind,
        ...(statSync(path).isFile() ? { sha256: sha256(path) } : {}),
        scores,
        ...(shiftSuite ? { shiftSuite } : {}),
        pixel,
      };
      figures.push(modelFigures);
      if (single) {
        if (options.json) await writeFileAtomic(options.json, `${JSON.stringify(modelEvaluationJson(modelFigures, record), null, 2)}\n`, { inputs });
        await writeOneModelFiles(options, io, { model, figures: modelFigures, data, record, montage, testMontage, testImages, testImagesPath, testSlices, reportBase, run, inputs, shrink, scoring });
      }
    } finally {
      await model.dispose();
    }
  }
  if (!single) {
    io.stdout(comparisonText(figures, slices, selectSlices));
    if (options.json) await writeFileAtomic(options.json, `${JSON.stringify(comparisonJson(figures, record), null, 2)}\n`, { inputs });
  }
  for (const output of [options.json, options.report, montage, testMontage]) if (output) io.stderr(`wrote ${output}\n`);
  return figures;
}

function scoringOptions(
  options: EvaluateOptions,
  io: EvaluateIO,
  given: { reported: ScoringOptions['slices']; selecting: ScoringOptions['selectSlices']; ignore: number | null; pixel: PixelSizeChoice; invert: boolean },
): ScoringOptions {
  return {
    slices: given.reported,
    ...(given.selecting ? { selectSlices: given.selecting } : {}),
    tta: options.tta === true,
    shift: options.shift === true,
    ...(options.threshold !== undefined ? { threshold: options.threshold } : {}),
    ignore: given.ignore,
    run: { scale: given.pixel.scale, invert: given.invert },
    onSlice: (variant: EvaluationVariant, done: number, total: number) => {
      if (io.tty) io.stderr(`\r${variant}: slice ${done}/${total}\x1b[K${done === total ? '\n' : ''}`);
      else if (done === total) io.stderr(`${variant}: ${total} slices done\n`);
    },
    onShift: (where, shift, done, total) => io.stderr(`shift suite on the ${where} slices: ${shift.name} done (${done}/${total})\n`),
  };
}

/** One model's tables as they are printed: with the protocol, the selection slices', the choices, then the test slices'. */
function singleModelTable(scores: Awaited<ReturnType<typeof scoreSlices>>, slices: readonly number[], selectSlices: readonly number[] | undefined): string {
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

/** Several models side by side: with the protocol, the selection slices' table and each model's choices first. */
function comparisonText(figures: readonly ModelFigures[], slices: readonly number[], selectSlices: readonly number[] | undefined): string {
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
  if (figures.every((f) => f.shiftSuite)) {
    parts.push(`shift suite on slices ${formatSliceList(slices)}${selectSlices ? ' (at the chosen thresholds)' : ''}, V_rand at the threshold:\n${formatShiftComparisonText(named((f) => f.shiftSuite!))}`);
  }
  return parts.join('');
}

interface OneModelJob {
  model: EvaluationModel;
  figures: ModelFigures;
  data: { images: ImageStack; labels: ImageStack };
  record: EvaluationRecord;
  montage: string | undefined;
  testMontage: string | undefined;
  testImages: ImageStack | undefined;
  testImagesPath: string;
  testSlices: number[];
  reportBase: string | undefined;
  run: TrainingRunFiles;
  inputs: string[];
  shrink: number;
  scoring: ScoringOptions;
}

/** The montages and the report of one model. Montage rows use the best variant run (TTA when asked), masks at the figures' threshold. */
async function writeOneModelFiles(options: EvaluateOptions, io: EvaluateIO, job: OneModelJob): Promise<void> {
  const { scores } = job.figures;
  const { result, threshold } = scores;
  if (job.montage) {
    const shown = result.probabilities.tta ?? result.probabilities.plain!;
    await writeValidationMontage(job.montage, { images: job.data.images, labels: job.data.labels, slices: job.record.slices, probabilities: shown, threshold, shrink: job.shrink, inputs: job.inputs });
  }
  if (job.testMontage && job.testImages) {
    const predictors = slicePredictors(job.model, job.scoring);
    const predict = predictors.tta ?? predictors.plain;
    await writeTestMontage(job.testMontage, { images: job.testImages, slices: job.testSlices, predict, threshold, shrink: job.shrink, inputs: job.inputs });
  }
  if (options.report && job.reportBase) {
    const { protocol } = scores;
    await writeReport({
      report: options.report,
      reportBase: job.reportBase,
      modelPath: job.figures.model,
      model: job.model,
      ...(job.figures.sha256 ? { modelSha: job.figures.sha256 } : {}),
      imagesPath: job.record.images,
      labelsPath: job.record.labels,
      slices: job.record.slices,
      result,
      command: job.record.command,
      machine: job.record.machine,
      date: job.record.date,
      ...(job.montage ? { montagePath: job.montage } : {}),
      ...(job.testMontage ? { testMontagePath: job.testMontage } : {}),
      testImagesPath: job.testImagesPath,
      testSlices: job.testSlices,
      run: job.run,
      inputs: job.inputs,
      ...(job.record.selectSlices ? { selectSlices: job.record.selectSlices, chosenThreshold: threshold } : {}),
      ...(protocol ? { reasons: protocol.choice.reasons } : {}),
      ...(job.figures.shiftSuite ? { shiftSuite: job.figures.shiftSuite } : {}),
      onWrite: (path) => io.stderr(`wrote ${path}\n`),
    });
  }
}
