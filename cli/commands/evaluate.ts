/**
 * `emseg evaluate <model>`: runs a model (an .onnx file, or a tfjs Layers model folder such as
 * `runs/x/model`) on labelled slices and prints the metrics table (core/evaluation.ts); writes
 * JSON, a Markdown report with montages and the training curve. A thin shell: opening the model
 * is cli/evaluate-model.ts, scoring core/evaluation.ts, the report core/evaluation-report.ts.
 *
 *   emseg evaluate models/isbi2012-unet.onnx --tta --report models/isbi2012-unet.report.md
 *
 * With --report, the montages and the curve are written beside the report
 * (`<report>.validation.png`, `<report>.test.png`, `<report>.curve.svg`) unless given explicitly.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { defineCommand } from 'citty';
import { EmsegError } from '../../core/errors.ts';
import type { GreyImage, ImageStack } from '../../core/image.ts';
import { makeImage } from '../../core/image.ts';
import { renderMontage } from '../../core/montage.ts';
import { errorMap } from '../../core/overlay.ts';
import { formatSliceList, parseSliceList } from '../../core/slice-list.ts';
import { sliceMontageSpec } from '../../core/slice-montage.ts';
import { thresholdProbability } from '../../core/threshold.ts';
import { evaluateSlices, formatMetricsText, type EvaluationResult } from '../../core/evaluation.ts';
import { selectThenTest, type SelectThenTestResult } from '../../core/evaluation-protocol.ts';
import { renderEvaluationReport, type TrainingSummary } from '../../core/evaluation-report.ts';
import { formatShiftSuiteMarkdown, formatShiftSuiteText, runShiftSuite, type ShiftSuiteResult } from '../../core/shift-suite.ts';
import { writeFileAtomic } from '../../node/atomic-write.ts';
import { readImageFile } from '../../node/image-files.ts';
import { encodePng } from '../../node/png.ts';

import { BACKEND_CHOICES } from '../../train/backend.ts';
import { normalizeValidationLine, type ValidationLogLine } from '../../train/log.ts';
import { machineDescription } from '../../train/machine.ts';
import { enumArg, numberOption, thresholdOption } from '../options.ts';
import { ISBI_TEST_IMAGES, ISBI_TRAIN_IMAGES, ISBI_TRAIN_LABELS, ISBI_VALIDATION_SLICES } from '../../core/isbi-data.ts';
import { commandLine } from '../command-line.ts';

const DEFAULT_IMAGES = ISBI_TRAIN_IMAGES;
const DEFAULT_LABELS = ISBI_TRAIN_LABELS;
const DEFAULT_TEST_IMAGES = ISBI_TEST_IMAGES;
const DEFAULT_TEST_SLICES = '0,10,20,29';

export const evaluateArgs = {
  model: { type: 'positional', required: true, description: 'An .onnx model, or a tfjs Layers model folder (with model.json)' },
  images: { type: 'string', description: `Image stack. Default ${DEFAULT_IMAGES}` },
  labels: { type: 'string', description: `Label stack (255 = cell interior). Default ${DEFAULT_LABELS}` },
  slices: { type: 'string', description: `Slices to evaluate (with --select-slices: the test slices, reported only). Default ${ISBI_VALIDATION_SLICES} (the validation split)` },
  'select-slices': {
    type: 'string',
    description: 'Choose the threshold and plain or TTA on these slices (0.5 unless another wins by a margin: core/serving-choice.ts), then report --slices at it: nothing is chosen on the reported slices',
  },
  ignore: { type: 'string', description: 'Label value of unlabelled pixels (1-254), counted in no figure. Default none' },
  tta: { type: 'boolean', description: 'Also evaluate with 8-fold flip/rotation test-time augmentation' },
  shift: {
    type: 'boolean',
    description: 'Also run the shift suite (core/shift-suite.ts): the slices at 4.6 and 6 nm, gamma, contrast, noise, blur, JPEG; with --select-slices it runs on both, and the selection run takes part in the choice',
  },
  threshold: { type: 'string', description: "Threshold for pixel error, Dice, IoU. Default the model card's, else 0.5" },
  json: { type: 'string', description: 'Write the metrics as JSON to this file' },
  report: { type: 'string', description: 'Write a Markdown report (with montages and training curve beside it)' },
  montage: { type: 'string', description: 'Write the validation montage (image, label, prediction, errors) PNG' },
  'test-montage': { type: 'string', description: 'Write a montage of test-volume slices with predictions (PNG)' },
  'test-images': { type: 'string', description: `Unlabelled stack for --test-montage. Default ${DEFAULT_TEST_IMAGES}` },
  'test-slices': { type: 'string', description: `Slices of the test stack. Default ${DEFAULT_TEST_SLICES}` },
  run: { type: 'string', description: "Training run folder (config.json, train.log.jsonl) for the report; default: found beside the model" },
  shrink: { type: 'string', description: 'Shrink factor of the montage pictures. Default 2' },
  backend: enumArg(BACKEND_CHOICES, { description: 'tfjs backend for a tfjs model folder: auto, gpu, native, wasm, cpu. Default auto' }),
  ep: {
    type: 'string',
    alias: 'providers',
    description: 'onnxruntime execution providers for an .onnx model, in order, e.g. cpu or cuda,cpu (--providers: the same, older spelling). Default EMSEG_EP, else auto (cuda if it starts, else cpu, without a warning)',
  },
} as const;

type Args = Record<string, string | boolean | undefined>;

function sha256(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

const toMask = (p: Float32Array, width: number, height: number, threshold: number): GreyImage<Uint8Array> =>
  thresholdProbability(makeImage(width, height, p), threshold);

/** The training run that made the model: `--run`, else the folder above a tfjs model, else `<name>.*` files beside an ONNX file. */
export function findTrainingRun(model: string, run?: string): { config?: string; log?: string } {
  const candidates: Array<{ config: string; log: string }> = [];
  if (run) candidates.push({ config: join(run, 'config.json'), log: join(run, 'train.log.jsonl') });
  else if (model.endsWith('.onnx')) {
    const base = model.slice(0, -'.onnx'.length);
    candidates.push({ config: `${base}.train-config.json`, log: `${base}.train.log.jsonl` });
  } else {
    candidates.push({ config: join(dirname(resolve(model)), 'config.json'), log: join(dirname(resolve(model)), 'train.log.jsonl') });
  }
  for (const c of candidates) {
    if (existsSync(c.config) || existsSync(c.log)) {
      return { ...(existsSync(c.config) ? { config: c.config } : {}), ...(existsSync(c.log) ? { log: c.log } : {}) };
    }
  }
  if (run) throw new EmsegError('E_NOT_FOUND', `--run ${run}: no config.json or train.log.jsonl in it`);
  return {};
}

function trainingSummary(configPath: string | undefined): TrainingSummary | undefined {
  if (!configPath) return undefined;
  try {
    const saved = JSON.parse(readFileSync(configPath, 'utf8'));
    const c = saved.config ?? {};
    const best = saved.best ? normalizeValidationLine(saved.best as ValidationLogLine) : undefined;
    return {
      command: saved.command ?? null,
      ...(Array.isArray(saved.invocations) ? { invocations: saved.invocations } : {}),
      status: saved.status,
      steps: saved.stepsDone,
      totalSteps: c.steps,
      cropsSeen: saved.cropsSeen,
      wallTimeSeconds: saved.wallTimeSeconds,
      backend: saved.backend,
      cropSize: c.cropSize,
      batchSize: c.batchSize,
      architecture: c.model
        ? `U-Net depth ${c.model.depth}, ${c.model.baseFilters} base filters, batch norm ${c.model.batchNorm ? 'on' : 'off'}, dropout ${c.model.dropout}`
        : undefined,
      split: saved.split,
      best: best ? { step: best.step, vRandBest: best.vRandBest, bestThreshold: best.bestThreshold } : null,
    };
  } catch {
    return undefined;
  }
}

const command = defineCommand({
  meta: { name: 'evaluate', description: 'Score a model (ONNX file or tfjs folder) on labelled slices: V_rand, V_info, pixel error, Dice, IoU.' },
  args: evaluateArgs,
  async run({ args: parsed, rawArgs }) {
    const args = parsed as Args;
    const modelPath = String(args.model);
    if (!existsSync(modelPath)) throw new EmsegError('E_NOT_FOUND', `<model> ${modelPath}: no such file or folder`);
    const imagesPath = (args.images as string | undefined) ?? DEFAULT_IMAGES;
    const labelsPath = (args.labels as string | undefined) ?? DEFAULT_LABELS;
    const shrink = numberOption(args.shrink, '--shrink', { integer: true, min: 1, max: 16 }) ?? 2;
    const threshold = thresholdOption(args.threshold);
    const report = args.report as string | undefined;
    const reportBase = report ? report.replace(/\.md$/i, '') : undefined;
    const montagePath = (args.montage as string | undefined) ?? (reportBase ? `${reportBase}.validation.png` : undefined);
    const testMontagePath = (args['test-montage'] as string | undefined) ?? (reportBase ? `${reportBase}.test.png` : undefined);
    const inputs = [modelPath, imagesPath, labelsPath];
    const outputs = [args.json, report, montagePath, testMontagePath].filter((x): x is string => typeof x === 'string');

    const [images, labels] = await Promise.all([readImageFile(imagesPath), readImageFile(labelsPath)]);
    if (images.pages.length !== labels.pages.length || images.width !== labels.width || images.height !== labels.height) {
      throw new EmsegError(
        'E_SIZE_MISMATCH',
        `--labels ${labelsPath}: ${labels.pages.length} pages of ${labels.width}x${labels.height} do not match --images ${imagesPath}: ${images.pages.length} pages of ${images.width}x${images.height}`,
      );
    }
    const slices = parseSliceList((args.slices as string | undefined) ?? ISBI_VALIDATION_SLICES, images.pages.length, '--slices');
    const selectSlices = typeof args['select-slices'] === 'string' ? parseSliceList(args['select-slices'], images.pages.length, '--select-slices') : undefined;
    if (selectSlices && threshold !== undefined) {
      throw new EmsegError('E_BAD_ARGUMENT', '--threshold: not together with --select-slices, which chooses the threshold');
    }
    const overlap = selectSlices?.filter((s) => slices.includes(s)) ?? [];
    if (overlap.length > 0) throw new EmsegError('E_BAD_ARGUMENT', `--select-slices: ${formatSliceList(overlap)} also in --slices; selection and test slices must not overlap`);
    const ignore = numberOption(args.ignore, '--ignore', { integer: true, min: 1, max: 254 }) ?? null;
    let testImages: ImageStack | undefined;
    let testSlices: number[] = [];
    const testImagesPath = (args['test-images'] as string | undefined) ?? DEFAULT_TEST_IMAGES;
    if (testMontagePath) {
      testImages = await readImageFile(testImagesPath);
      testSlices = parseSliceList((args['test-slices'] as string | undefined) ?? DEFAULT_TEST_SLICES, testImages.pages.length, '--test-slices');
      inputs.push(testImagesPath);
    }
    const { assertNotAnInput } = await import('../../node/atomic-write.ts');
    for (const output of outputs) await assertNotAnInput(output, inputs);

    const { openEvaluationModel } = await import('../evaluate-model.ts');
    const model = await openEvaluationModel(modelPath, {
      backend: (args.backend as string | undefined) ?? 'auto',
      ...(typeof args.ep === 'string' ? { providers: args.ep } : {}),
    });
    try {
      let thr = threshold ?? model.threshold;
      const labelledOf = (list: number[]) => list.map((index) => ({ index, image: images.pages[index]!, label: labels.pages[index]! }));
      const labelled = labelledOf(slices);
      process.stderr.write(
        `evaluating ${modelPath} (${model.kind}) on ${basename(imagesPath)} slices ${formatSliceList(slices)}${selectSlices ? ` (threshold chosen on slices ${formatSliceList(selectSlices)})` : ''}${args.tta ? ', with and without TTA' : ''}\n`,
      );
      const predictors = { plain: (image: GreyImage) => model.predictSlice(image, false), ...(args.tta ? { tta: (image: GreyImage) => model.predictSlice(image, true) } : {}) };
      const options = {
        threshold: thr,
        ignore,
        onSlice: (variant: string, done: number, total: number) => {
          if (process.stderr.isTTY) process.stderr.write(`\r${variant}: slice ${done}/${total}\x1b[K${done === total ? '\n' : ''}`);
          else if (done === total) process.stderr.write(`${variant}: ${total} slices done\n`);
        },
      };
      const shiftProgress = (where: string) => (shift: { name: string }, done: number, total: number) => process.stderr.write(`shift suite on the ${where} slices: ${shift.name} done (${done}/${total})\n`);
      let result: EvaluationResult;
      let protocol: SelectThenTestResult | undefined;
      let selectionShifts: ShiftSuiteResult | undefined;
      let shiftSuite: ShiftSuiteResult | undefined;
      if (selectSlices) {
        if (args.shift) {
          selectionShifts = await runShiftSuite(labelledOf(selectSlices), predictors, { threshold: thr, ignore, onShift: shiftProgress('selection') });
        }
        protocol = await selectThenTest(labelledOf(selectSlices), labelled, predictors, { ...options, ...(selectionShifts ? { selectionShifts } : {}) });
        result = protocol.test;
        thr = protocol.chosenThresholds[protocol.choice.variant]!;
        process.stdout.write(`selection slices ${formatSliceList(selectSlices)} (choose the threshold and plain or TTA):\n${formatMetricsText(protocol.selection)}`);
        if (selectionShifts) process.stdout.write(`shift suite on the selection slices ${formatSliceList(selectSlices)}:\n${formatShiftSuiteText(selectionShifts)}`);
        process.stdout.write(`${protocol.choice.reasons.map((r) => `choice: ${r}\n`).join('')}`);
        process.stdout.write(`test slices ${formatSliceList(slices)}, at the threshold chosen on the selection slices (columns thr, V_rand, V_info, ...; the "best" columns are chosen on the test slices themselves):\n`);
      } else {
        result = await evaluateSlices(labelled, predictors, options);
      }
      process.stdout.write(formatMetricsText(result));
      if (args.shift) {
        shiftSuite = await runShiftSuite(labelled, predictors, { threshold: thr, ...(protocol ? { variantThresholds: protocol.chosenThresholds } : {}), ignore, onShift: shiftProgress('reported') });
        process.stdout.write(`shift suite on slices ${formatSliceList(slices)}${protocol ? ' (at the chosen thresholds)' : ''}:\n${formatShiftSuiteText(shiftSuite)}`);
      }

      const command = commandLine(['emseg', 'evaluate', ...rawArgs]);
      const date = new Date().toISOString();
      const machine = machineDescription();
      const modelSha = statSync(modelPath).isFile() ? sha256(modelPath) : undefined;
      if (typeof args.json === 'string') {
        const selection = protocol
          ? {
              selection: {
                slices: selectSlices,
                chosenThresholds: protocol.chosenThresholds,
                served: protocol.choice.variant,
                reasons: protocol.choice.reasons,
                rows: protocol.selection.rows,
                ...(selectionShifts ? { shiftSuite: selectionShifts } : {}),
              },
              protocol: 'threshold and served variant chosen on the selection slices, test slices reported at it',
            }
          : {};
        const json = {
          model: modelPath,
          modelKind: model.kind,
          sha256: modelSha,
          images: imagesPath,
          labels: labelsPath,
          slices,
          threshold: thr,
          ...(ignore !== null ? { ignore } : {}),
          rows: result.rows,
          ...(shiftSuite ? { shiftSuite } : {}),
          ...selection,
          command,
          machine,
          date,
        };
        await writeFileAtomic(args.json, `${JSON.stringify(json, null, 2)}\n`, { inputs });
      }
      // Montage rows use the best variant run (TTA when asked), masks at the model's threshold.
      const shown = result.probabilities.tta ?? result.probabilities.plain!;
      if (montagePath) {
        const masks = new Map(slices.map((s, i) => [s, toMask(shown[i]!, images.width, images.height, thr)]));
        const spec = sliceMontageSpec({
          images,
          labels,
          slices,
          extraColumns: [
            { title: 'prediction', cell: (s) => masks.get(s) },
            { title: 'errors', cell: (s) => errorMap(masks.get(s)!, labels.pages[s]!) },
          ],
        });
        await writeFileAtomic(montagePath, await encodePng(renderMontage(spec, { shrink })), { inputs });
      }
      if (testMontagePath && testImages) {
        const masks = new Map<number, GreyImage>();
        for (const s of testSlices) {
          const p = await model.predictSlice(testImages.pages[s]!, !!args.tta);
          masks.set(s, toMask(p, testImages.width, testImages.height, thr));
        }
        const spec = sliceMontageSpec({ images: testImages, slices: testSlices, extraColumns: [{ title: 'prediction', cell: (s) => masks.get(s) }] });
        await writeFileAtomic(testMontagePath, await encodePng(renderMontage(spec, { shrink })), { inputs });
      }
      if (report) {
        await writeReport({
          report,
          reportBase: reportBase!,
          modelPath,
          model,
          modelSha,
          imagesPath,
          labelsPath,
          slices,
          result,
          command,
          machine,
          date,
          montagePath,
          testMontagePath,
          testImagesPath,
          testSlices,
          run: args.run as string | undefined,
          inputs,
          ...(selectSlices ? { selectSlices, chosenThreshold: thr } : {}),
          ...(protocol ? { reasons: protocol.choice.reasons } : {}),
          ...(shiftSuite ? { shiftSuite } : {}),
        });
      }
      for (const output of outputs) process.stderr.write(`wrote ${output}\n`);
    } finally {
      await model.dispose();
    }
  },
});
// Named first: tsc 5.9 does not rewrite `.ts` dynamic imports inside `export default <expression>`.
export default command;

/** The training facts a model card carries (convert/training-info.ts), when the run folder is not at hand. */
function trainingFromCard(training: Record<string, unknown> | undefined): TrainingSummary | undefined {
  if (!training) return undefined;
  const num = (v: unknown) => (typeof v === 'number' ? v : undefined);
  const split = training['split'] as { train?: number[]; validation?: number[] } | undefined;
  const summary: TrainingSummary = {};
  if (typeof training['command'] === 'string') summary.command = training['command'];
  if (num(training['steps']) !== undefined) summary.steps = num(training['steps'])!;
  if (num(training['cropsSeen']) !== undefined) summary.cropsSeen = num(training['cropsSeen'])!;
  if (num(training['wallTimeSeconds']) !== undefined) summary.wallTimeSeconds = num(training['wallTimeSeconds'])!;
  if (typeof training['backend'] === 'string') summary.backend = training['backend'];
  if (typeof training['status'] === 'string') summary.status = training['status'];
  if (split?.train && split.validation) summary.split = { train: formatSliceList(split.train), validation: formatSliceList(split.validation) };
  return Object.keys(summary).length > 0 ? summary : undefined;
}

interface ReportJob {
  report: string;
  reportBase: string;
  modelPath: string;
  model: { kind: string; card?: { training?: Record<string, unknown>; conversion?: { command?: string; parityMaxAbsDiff?: number } } };
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
  run?: string;
  inputs: string[];
  /** With --select-slices: the slices that chose the threshold, the threshold, and why. */
  selectSlices?: number[];
  chosenThreshold?: number;
  reasons?: string[];
  /** With --shift: the suite on the reported slices. */
  shiftSuite?: ShiftSuiteResult;
}

async function writeReport(job: ReportJob): Promise<void> {
  const reportDir = dirname(resolve(job.report));
  const rel = (p: string) => relative(reportDir, resolve(p)).split('\\').join('/');
  const run = findTrainingRun(job.modelPath, job.run);
  let curve: string | undefined;
  let lastValidation: ValidationLogLine | undefined;
  if (run.log) {
    const [{ readLog }, { renderCurveSvg }] = await Promise.all([import('../../train/log.ts'), import('../../train/curve.ts')]);
    const log = readLog(run.log);
    lastValidation = log.filter((line): line is ValidationLogLine => line.type === 'validation').at(-1);
    curve = `${job.reportBase}.curve.svg`;
    process.stderr.write(`wrote ${curve}\n`);
    await writeFileAtomic(curve, renderCurveSvg(log, { title: `training curve of ${basename(job.modelPath)}` }), { inputs: job.inputs });
  }
  const card = job.model.card;
  const training = trainingSummary(run.config) ?? trainingFromCard(card?.training);
  const otherCommands: Array<{ what: string; command: string }> = [];
  const cardTrainCommand = card?.training?.['command'];
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
  });
  await writeFileAtomic(job.report, markdown, { inputs: job.inputs });
}
