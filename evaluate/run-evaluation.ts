/**
 * `emseg evaluate` as a function: one or several models scored on the same labelled slices, the
 * tables printed, the outputs written. The CLI (cli/commands/evaluate.ts) only parses the flags
 * into EvaluateOptions and calls runEvaluation.
 *
 *   read the labelled images (evaluate/labelled-slices.ts: stacks or folders, slices that fit the
 *   stack) -> check every output before any work (never onto an input, never onto an existing
 *   file without `force`) -> per model: open it (evaluate/evaluation-model.ts), take the images'
 *   pixel size to the model's (core/pixel-size.ts choosePixelSize), score (evaluate/score-model.ts;
 *   the masks, then the cell labels of the same probabilities unless `cellLabels` is false) -> print: one model, its table (core/evaluation.ts); several, one table side by side
 *   (core/evaluation-compare.ts) -> JSON (evaluate/evaluation-json.ts); for one model also the
 *   montages and the report (evaluate/report.ts).
 *
 * With `predictedLabels` it scores a labels file instead, without a model
 * (evaluate/label-file-evaluation.ts).
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import { formatCellLabelsText } from '../core/cells/cell-evaluation.ts';
import { checkPolarity } from '../core/contrast-polarity.ts';
import { EmsegError } from '../core/errors.ts';
import { definedFields } from '../core/defined.ts';
import type { EvaluationVariant, LabelledSlice } from '../core/evaluation.ts';
import type { ImageStack } from '../core/image.ts';
import { choosePixelSize, type PixelSizeChoice } from '../core/pixel-size.ts';
import { formatSliceList, parseSliceList } from '../core/slice-list.ts';
import { assertNotAnInput, writeFileAtomic } from '../node/atomic-write.ts';
import { refuseExistingOutputs, type PlannedOutput } from '../node/existing-outputs.ts';
import { readImageFile } from '../node/image-files.ts';
import { readLabelledData, type LabelledData } from '../node/labelled-sources.ts';
import { sha256Hex } from '../node/sha256.ts';
import { machineDescription } from '../train/machine.ts';
import { comparisonJson, modelEvaluationJson, type EvaluationRecord, type ModelFigures } from './evaluation-json.ts';
import { comparisonText, singleModelShiftTable, singleModelTable } from './evaluation-text.ts';
import { openEvaluationModel, type EvaluationModel } from './evaluation-model.ts';
import { DEFAULT_EVALUATION_IMAGES, DEFAULT_EVALUATION_LABELS, DEFAULT_MONTAGE_SHRINK, DEFAULT_TEST_IMAGES, DEFAULT_TEST_SLICES } from './defaults.ts';
import { runLabelFileEvaluation } from './label-file-evaluation.ts';
import { chooseSlices, labelledSlices } from './labelled-slices.ts';
import { curvePathFor, writeReport, writeTestMontage, writeValidationMontage } from './report.ts';
import { scoreCellLabels, scoreShiftSuite, scoreSlices, slicePredictors, type ScoringOptions } from './score-model.ts';
import { findTrainingRun, type TrainingRunFiles } from './training-run.ts';
import type { EvaluateIO, EvaluateOptions } from './evaluate-options.ts';

export type { EvaluateIO, EvaluateOptions } from './evaluate-options.ts';

const processIO: EvaluateIO = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  tty: process.stderr.isTTY === true,
};

const sha256 = (path: string) => sha256Hex(readFileSync(path));

/** Refuses what cannot run, before anything is read: no model, a missing one, one-model outputs with several, --threshold with --select-slices. */
function checkArguments(options: EvaluateOptions): void {
  const { models } = options;
  if (models.length === 0) throw new EmsegError('E_BAD_ARGUMENT', '<model>: expected at least one .onnx file or tfjs model folder (or --predicted-labels FILE to score a labels file)');
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
}

/** The files the command writes: --json, and for one model the report with its pictures (each unless given explicitly) and the training run it reads. */
interface OutputPlan {
  reportBase?: string;
  montage?: string;
  testMontage?: string;
  run: TrainingRunFiles;
  planned: PlannedOutput[];
}

function planOutputs(options: EvaluateOptions): OutputPlan {
  const reportBase = options.report ? options.report.replace(/\.md$/i, '') : undefined;
  const montage = options.montage ?? (reportBase ? `${reportBase}.validation.png` : undefined);
  const testMontage = options.testMontage ?? (reportBase ? `${reportBase}.test.png` : undefined);
  const run: TrainingRunFiles = options.report ? findTrainingRun(options.models[0]!, options.run) : {};
  const planned: PlannedOutput[] = [
    ...(options.json ? [{ path: options.json, flag: '--json' }] : []),
    ...(options.report ? [{ path: options.report, flag: '--report' }] : []),
    ...(montage ? [{ path: montage, flag: options.montage ? '--montage' : '--report (its validation montage)' }] : []),
    ...(testMontage ? [{ path: testMontage, flag: options.testMontage ? '--test-montage' : '--report (its test montage)' }] : []),
    ...(reportBase && run.log ? [{ path: curvePathFor(reportBase), flag: '--report (its training curve)' }] : []),
  ];
  return { ...(reportBase ? { reportBase } : {}), ...(montage ? { montage } : {}), ...(testMontage ? { testMontage } : {}), run, planned };
}

/** The unlabelled stack and slices of the test montage, read only when one is written. */
interface TestStack {
  path: string;
  images?: ImageStack;
  slices: number[];
}

async function readTestStack(options: EvaluateOptions, plan: OutputPlan): Promise<TestStack> {
  const path = options.testImages ?? DEFAULT_TEST_IMAGES;
  if (!plan.testMontage) return { path, slices: [] };
  const images = await readImageFile(path);
  return { path, images, slices: parseSliceList(options.testSlices ?? DEFAULT_TEST_SLICES, images.pages.length, '--test-slices') };
}

/** What every model of a run shares. */
interface RunContext {
  options: EvaluateOptions;
  io: EvaluateIO;
  data: LabelledData;
  record: EvaluationRecord;
  reported: LabelledSlice[];
  selecting: LabelledSlice[] | undefined;
  inputs: string[];
  plan: OutputPlan;
  test: TestStack;
}

/** Runs the evaluation; returns each model's figures in the order given (none when a labels file was scored). */
export async function runEvaluation(options: EvaluateOptions, io: EvaluateIO = processIO): Promise<ModelFigures[]> {
  const { predictedLabels } = options;
  if (predictedLabels !== undefined) {
    await runLabelFileEvaluation({ ...options, predictedLabels }, io);
    return [];
  }
  checkArguments(options);
  const { models } = options;
  const imagesPath = options.images ?? DEFAULT_EVALUATION_IMAGES;
  const labelsPath = options.labels ?? DEFAULT_EVALUATION_LABELS;
  const ignore = options.ignore ?? null;
  const invert = options.invert === true;
  const data = await readLabelledData(imagesPath, labelsPath, { ignore });
  const choice = chooseSlices({ images: imagesPath, pageCount: data.images.pages.length, ...definedFields({ slices: options.slices, selectSlices: options.selectSlices }) });
  if (choice.note) io.stderr(`${choice.note}\n`);
  const { slices, selectSlices } = choice;
  const plan = planOutputs(options);
  const test = await readTestStack(options, plan);
  const inputs = [...models, imagesPath, labelsPath, ...(test.images ? [test.path] : [])];
  for (const output of plan.planned) await assertNotAnInput(output.path, inputs);
  await refuseExistingOutputs(plan.planned, options.force === true);

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
  const context: RunContext = { options, io, data, record, reported, selecting, inputs, plan, test };
  const figures: ModelFigures[] = [];
  for (const path of models) figures.push(await evaluateModel(path, context));
  if (models.length > 1) {
    io.stdout(comparisonText(figures, slices, selectSlices));
    if (options.json) await writeFileAtomic(options.json, `${JSON.stringify(comparisonJson(figures, record), null, 2)}\n`, { inputs });
  }
  for (const output of [options.json, options.report, plan.montage, plan.testMontage]) if (output) io.stderr(`wrote ${output}\n`);
  return figures;
}

/** One model: opened, its pixel size chosen, scored, and closed; with one model its table is printed at once and its files written. */
async function evaluateModel(path: string, context: RunContext): Promise<ModelFigures> {
  const { options, io, data, record } = context;
  const single = options.models.length === 1;
  const model = await openEvaluationModel(path, { backend: options.backend ?? 'auto', ...definedFields({ providers: options.providers }) });
  try {
    const { slices, selectSlices } = record;
    io.stderr(
      `evaluating ${path} (${model.kind}) on ${basename(record.images)} slices ${formatSliceList(slices)}${selectSlices ? ` (threshold chosen on slices ${formatSliceList(selectSlices)})` : ''}${options.tta ? ', with and without TTA' : ''}\n`,
    );
    const pixel = choosePixelSize({ override: options.pixelSize, stated: data.images.pixelSize, trainingPixelSize: model.trainingPixelSize, name: basename(record.images) });
    io.stderr(`${pixel.line}\n`);
    const scoring = scoringOptions(options, io, { reported: context.reported, selecting: context.selecting, ignore: record.ignore, pixel, invert: record.invert });
    const scores = await scoreSlices(model, scoring);
    if (single) io.stdout(singleModelTable(scores, slices, selectSlices));
    const cellLabels = options.cellLabels === false ? undefined : scoreCellLabels(model, scores, scoring);
    if (single && cellLabels) io.stdout(formatCellLabelsText(cellLabels));
    const shiftSuite = options.shift ? await scoreShiftSuite(model, scores, scoring) : undefined;
    if (single && shiftSuite) io.stdout(singleModelShiftTable(shiftSuite, slices, scores.protocol !== undefined));
    const figures: ModelFigures = {
      model: path,
      modelKind: model.kind,
      ...(statSync(path).isFile() ? { sha256: sha256(path) } : {}),
      scores,
      ...(cellLabels ? { cellLabels } : {}),
      ...(shiftSuite ? { shiftSuite } : {}),
      pixel,
    };
    if (single) {
      if (options.json) await writeFileAtomic(options.json, `${JSON.stringify(modelEvaluationJson(figures, record), null, 2)}\n`, { inputs: context.inputs });
      await writeOneModelFiles(context, model, figures, scoring);
    }
    return figures;
  } finally {
    await model.dispose();
  }
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

/** The montages and the report of one model. Montage rows use the best variant run (TTA when asked), masks at the figures' threshold. */
async function writeOneModelFiles(context: RunContext, model: EvaluationModel, figures: ModelFigures, scoring: ScoringOptions): Promise<void> {
  const { options, io, record, plan, test, inputs } = context;
  const shrink = options.shrink ?? DEFAULT_MONTAGE_SHRINK;
  const { result, threshold, protocol } = figures.scores;
  if (plan.montage) {
    const shown = result.probabilities.tta ?? result.probabilities.plain!;
    await writeValidationMontage(plan.montage, { images: context.data.images, labels: context.data.labels, slices: record.slices, probabilities: shown, threshold, shrink, inputs });
  }
  if (plan.testMontage && test.images) {
    const predictors = slicePredictors(model, scoring);
    await writeTestMontage(plan.testMontage, { images: test.images, slices: test.slices, predict: predictors.tta ?? predictors.plain, threshold, shrink, inputs });
  }
  if (options.report && plan.reportBase) {
    await writeReport({
      report: options.report,
      reportBase: plan.reportBase,
      modelPath: figures.model,
      model,
      ...(figures.sha256 ? { modelSha: figures.sha256 } : {}),
      imagesPath: record.images,
      labelsPath: record.labels,
      slices: record.slices,
      result,
      command: record.command,
      machine: record.machine,
      date: record.date,
      ...(plan.montage ? { montagePath: plan.montage } : {}),
      ...(plan.testMontage ? { testMontagePath: plan.testMontage } : {}),
      testImagesPath: test.path,
      testSlices: test.slices,
      run: plan.run,
      inputs,
      ...(record.selectSlices ? { selectSlices: record.selectSlices, chosenThreshold: threshold } : {}),
      ...(protocol ? { reasons: protocol.choice.reasons } : {}),
      ...(figures.shiftSuite ? { shiftSuite: figures.shiftSuite } : {}),
      ...(figures.cellLabels ? { cellLabels: figures.cellLabels } : {}),
      onWrite: (path) => io.stderr(`wrote ${path}\n`),
    });
  }
}
