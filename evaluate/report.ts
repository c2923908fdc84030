/**
 * The pictures and the Markdown report of `emseg evaluate` for one model: the validation montage
 * (image, label, prediction, errors per reported slice), the test-volume montage (image and
 * prediction), the training curve (from the run's log), and the report (core/evaluation-report.ts)
 * with the training run's summary, the protocol's notes and the commands. Every file is written
 * atomically and never onto an input.
 */
import { basename, dirname, relative, resolve } from 'node:path';
import type { CellLabelEvaluation } from '../core/cells/cell-evaluation.ts';
import type { ModelCard } from '../core/contract.ts';
import type { EvaluationResult } from '../core/evaluation.ts';
import { renderEvaluationReport } from '../core/evaluation-report.ts';
import type { GreyImage, ImageStack } from '../core/image.ts';
import { makeImage } from '../core/image.ts';
import { renderMontage } from '../core/montage.ts';
import { errorMap } from '../core/overlay.ts';
import type { ShiftSuiteResult } from '../core/shift-suite.ts';
import { formatSliceList } from '../core/slice-list.ts';
import { sliceMontageSpec } from '../core/slice-montage.ts';
import { thresholdProbability } from '../core/threshold.ts';
import { ancestryFromCard } from '../core/training-ancestry.ts';
import { writeFileAtomic } from '../node/atomic-write.ts';
import { encodePng } from '../node/png.ts';
import { readTrainingRun } from '../node/training-run-file.ts';
import type { ValidationLogLine } from '../train/log.ts';
import { trainingFromCard, trainingSummary, type TrainingRunFiles } from './training-run.ts';

const toMask = (p: Float32Array, width: number, height: number, threshold: number): GreyImage<Uint8Array> =>
  thresholdProbability(makeImage(width, height, p), threshold);

/** Writes the montage of the reported slices: image, label, prediction (mask at `threshold`) and errors per row. */
export async function writeValidationMontage(
  path: string,
  job: { images: ImageStack; labels: ImageStack; slices: readonly number[]; probabilities: readonly Float32Array[]; threshold: number; shrink: number; inputs: readonly string[] },
): Promise<void> {
  const { images, labels } = job;
  const masks = new Map(job.slices.map((s, i) => [s, toMask(job.probabilities[i]!, images.width, images.height, job.threshold)]));
  const spec = sliceMontageSpec({
    images,
    labels,
    slices: [...job.slices],
    extraColumns: [
      { title: 'prediction', cell: (s) => masks.get(s) },
      { title: 'errors', cell: (s) => errorMap(masks.get(s)!, labels.pages[s]!) },
    ],
  });
  await writeFileAtomic(path, await encodePng(renderMontage(spec, { shrink: job.shrink })), { inputs: job.inputs });
}

/** Writes the montage of unlabelled slices with their predictions (`predict`: the slice's probabilities). */
export async function writeTestMontage(
  path: string,
  job: { images: ImageStack; slices: readonly number[]; predict: (image: GreyImage) => Promise<Float32Array>; threshold: number; shrink: number; inputs: readonly string[] },
): Promise<void> {
  const { images } = job;
  const masks = new Map<number, GreyImage>();
  for (const s of job.slices) masks.set(s, toMask(await job.predict(images.pages[s]!), images.width, images.height, job.threshold));
  const spec = sliceMontageSpec({ images, slices: [...job.slices], extraColumns: [{ title: 'prediction', cell: (s) => masks.get(s) }] });
  await writeFileAtomic(path, await encodePng(renderMontage(spec, { shrink: job.shrink })), { inputs: job.inputs });
}

/** The training curve beside a report: `<report without .md>.curve.svg`. */
export const curvePathFor = (reportBase: string): string => `${reportBase}.curve.svg`;

export interface ReportJob {
  report: string;
  reportBase: string;
  modelPath: string;
  model: { kind: string; card?: ModelCard };
  modelSha?: string;
  imagesPath: string;
  labelsPath: string;
  slices: number[];
  result: EvaluationResult;
  command: string;
  machine: string;
  date: string;
  montagePath?: string;
  testMontagePath?: string;
  testImagesPath: string;
  testSlices: number[];
  /** The training run's files (evaluate/training-run.ts findTrainingRun). */
  run: TrainingRunFiles;
  inputs: string[];
  /** With --select-slices: the slices that chose the threshold, the threshold, and why. */
  selectSlices?: number[];
  chosenThreshold?: number;
  reasons?: string[];
  /** With --shift: the suite on the reported slices. */
  shiftSuite?: ShiftSuiteResult;
  /** The cell labels beside the masks (core/cells/cell-evaluation.ts). */
  cellLabels?: CellLabelEvaluation;
  /** Says which file was written (the curve). */
  onWrite?: (path: string) => void;
}

/** Writes the training curve (when the run's log is at hand) and the report. */
export async function writeReport(job: ReportJob): Promise<void> {
  const reportDir = dirname(resolve(job.report));
  const rel = (p: string) => relative(reportDir, resolve(p)).split('\\').join('/');
  const { run } = job;
  let curve: string | undefined;
  let lastValidation: ValidationLogLine | undefined;
  if (run.log) {
    const [{ readLog }, { renderCurveSvg }] = await Promise.all([import('../train/log.ts'), import('../train/curve.ts')]);
    const log = readLog(run.log);
    lastValidation = log.filter((line): line is ValidationLogLine => line.type === 'validation').at(-1);
    curve = curvePathFor(job.reportBase);
    job.onWrite?.(curve);
    await writeFileAtomic(curve, renderCurveSvg(log, { title: `training curve of ${basename(job.modelPath)}` }), { inputs: job.inputs });
  }
  const card = job.model.card;
  const ownTraining = (run.config ? trainingSummary(readTrainingRun(run.config)) : undefined) ?? trainingFromCard(card?.training);
  const training = ownTraining && { ...ownTraining, ...ancestryFromCard(card?.training) };
  const otherCommands: Array<{ what: string; command: string }> = [];
  const cardTrainCommand = card?.training?.command;
  if (!training?.command && typeof cardTrainCommand === 'string') otherCommands.push({ what: 'train', command: cardTrainCommand });
  if (card?.conversion?.command) otherCommands.push({ what: 'convert', command: card.conversion.command });
  const notes: string[] = [];
  if (card?.conversion?.parityMaxAbsDiff !== undefined) notes.push(`tfjs -> ONNX parity: largest absolute difference ${card.conversion.parityMaxAbsDiff.toExponential(2)}`);
  const sliceList = formatSliceList(job.slices);
  if (job.selectSlices) {
    notes.push(
      `Protocol: the threshold ${job.chosenThreshold} was chosen on slices ${formatSliceList(job.selectSlices)} (0.5 unless another wins by a margin, core/serving-choice.ts${job.reasons ? `: ${job.reasons.join('; ')}` : ''}); slices ${sliceList} chose nothing, and their figures at that threshold (columns thr, V_rand, V_info, pixel error, Dice, IoU) are the test figures. The "best" columns pick the threshold on the test slices themselves.`,
    );
  }
  if (training?.best && training.split?.validation === sliceList) {
    const last = lastValidation && lastValidation.step !== training.best.step ? `; the model of the last step (${lastValidation.step}) scored V_rand ${lastValidation.vRandBest.toFixed(4)} on them during training` : '';
    notes.push(
      `Slices ${sliceList} are the training run's validation slices: they chose the checkpoint kept (step ${training.best.step}) and any threshold picked on them, so these figures are somewhat optimistic for unseen images${last}.`,
    );
  }
  const markdown = renderEvaluationReport({
    title: `Evaluation of ${job.modelPath}`,
    model: job.modelPath,
    modelKind: job.model.kind,
    ...(job.modelSha ? { sha256: job.modelSha } : {}),
    images: job.imagesPath,
    labels: job.labelsPath,
    slices: sliceList,
    result: job.result,
    evaluateCommand: job.command,
    otherCommands,
    machine: job.machine,
    date: job.date,
    ...(job.montagePath ? { validationMontage: rel(job.montagePath) } : {}),
    ...(job.testMontagePath ? { testMontage: { path: rel(job.testMontagePath), images: job.testImagesPath, slices: formatSliceList(job.testSlices) } } : {}),
    ...(curve ? { curve: rel(curve) } : {}),
    ...(training ? { training } : {}),
    notes,
    ...(job.shiftSuite ? { shiftSuite: job.shiftSuite } : {}),
    ...(job.cellLabels ? { cellLabels: job.cellLabels } : {}),
  });
  await writeFileAtomic(job.report, markdown, { inputs: job.inputs });
}
