/**
 * `emseg evaluate --predicted-labels labels.tif`: instance labels scored against the ground truth
 * without a model, e.g. the uint32 TIFF `emseg predict --output labels` writes:
 *
 *   emseg evaluate --predicted-labels predicted-labels.tif --labels data/isbi2012/train-labels.tif --slices 27-29
 *
 * The ground truth (`--labels`, default the ISBI training labels) is one stack, checked like every
 * label (core/labels.ts: 0, 255 and the --ignore value). The labels file is read by
 * node/label-stack-file.ts (the uint32 TIFF exactly, or an 8/16-bit label image; every pixel a
 * whole label, else one line naming the page and pixel). Its
 * pages are the ground truth's slices one for one when it has as many; otherwise it must have one
 * page per reported slice, in the order of `--slices`. Scored by core/cells/cell-evaluation.ts
 * like the labels `emseg evaluate` makes from a model: V_rand and V_info of the labels as segments,
 * cells per slice against the ground truth's regions. Prints the table; `--json` writes
 * `{ predictedLabels, sha256, labels, slices, pages, ignore?, cellLabels, command, machine, date }`.
 */
import { readFileSync, statSync } from 'node:fs';
import { scoreCellLabelSlices, formatCellLabelsText, type CellLabelEvaluation } from '../core/cells/cell-evaluation.ts';
import { EmsegError } from '../core/errors.ts';
import { prepareLabel } from '../core/labels.ts';
import type { LabelImage } from '../core/metrics/label-score.ts';
import { formatSliceList } from '../core/slice-list.ts';
import { assertNotAnInput, writeFileAtomic } from '../node/atomic-write.ts';
import { refuseExistingOutputs } from '../node/existing-outputs.ts';
import { readImageFile } from '../node/image-files.ts';
import { readLabelStack } from '../node/label-stack-file.ts';
import { sha256Hex } from '../node/sha256.ts';
import { machineDescription } from '../train/machine.ts';
import { DEFAULT_EVALUATION_LABELS } from './defaults.ts';
import { chooseSlices } from './labelled-slices.ts';
import type { EvaluateIO, EvaluateOptions } from './evaluate-options.ts';

/** The options that need a model, by flag; none may be given with a labels file. */
function modelOnlyFlags(options: EvaluateOptions): string[] {
  const given: Array<[boolean, string]> = [
    [options.models.length > 0, '<model>'],
    [options.images !== undefined, '--images'],
    [options.selectSlices !== undefined, '--select-slices'],
    [options.tta === true, '--tta'],
    [options.shift === true, '--shift'],
    [options.cellLabels === false, '--no-cell-labels'],
    [options.threshold !== undefined, '--threshold'],
    [options.pixelSize !== undefined, '--pixel-size'],
    [options.invert === true, '--invert'],
    [options.report !== undefined, '--report'],
    [options.montage !== undefined, '--montage'],
    [options.testMontage !== undefined, '--test-montage'],
    [options.testImages !== undefined, '--test-images'],
    [options.testSlices !== undefined, '--test-slices'],
    [options.run !== undefined, '--run'],
    [options.shrink !== undefined, '--shrink'],
    [options.backend !== undefined, '--backend'],
    [options.providers !== undefined, '--ep'],
  ];
  return given.filter(([is]) => is).map(([, flag]) => flag);
}

/** Scores the labels file of `options.predictedLabels`; prints the table, writes the JSON when asked. */
export async function runLabelFileEvaluation(options: EvaluateOptions & { predictedLabels: string }, io: EvaluateIO): Promise<CellLabelEvaluation> {
  const path = options.predictedLabels;
  const refused = modelOnlyFlags(options);
  if (refused.length > 0) {
    throw new EmsegError('E_BAD_ARGUMENT', `--predicted-labels: scores a labels file without a model; ${refused.join(', ')} ${refused.length === 1 ? 'needs' : 'need'} a model`);
  }
  const labelsPath = options.labels ?? DEFAULT_EVALUATION_LABELS;
  const ignore = options.ignore ?? null;
  let isFolder = false;
  try {
    isFolder = statSync(labelsPath).isDirectory();
  } catch {
    throw new EmsegError('E_NOT_FOUND', `--labels ${labelsPath}: no such file`);
  }
  if (isFolder || labelsPath.includes(',')) throw new EmsegError('E_BAD_ARGUMENT', `--labels ${labelsPath}: with --predicted-labels, expected the ground truth as one stack (a TIFF file), found ${isFolder ? 'a folder' : 'a list'}`);
  const inputs = [path, labelsPath];
  if (options.json) {
    await assertNotAnInput(options.json, inputs);
    await refuseExistingOutputs([{ path: options.json, flag: '--json' }], options.force === true);
  }

  const truth = await readImageFile(labelsPath);
  const choice = chooseSlices({ images: labelsPath, pageCount: truth.pages.length, ...(options.slices !== undefined ? { slices: options.slices } : {}) });
  if (choice.note) io.stderr(`${choice.note}\n`);
  const { slices } = choice;
  // One reader of label files (node/label-stack-file.ts): uint32 TIFFs exactly, 8/16-bit label
  // images too, every pixel checked to be a whole label.
  const predicted = await readLabelStack(path);
  if (predicted.width !== truth.width || predicted.height !== truth.height) {
    throw new EmsegError('E_SIZE_MISMATCH', `--predicted-labels ${path}: ${predicted.width}x${predicted.height}, but the ground truth ${labelsPath} is ${truth.width}x${truth.height}; expected the same size`);
  }
  const depth = predicted.pages.length;
  let pages: number[];
  if (depth === truth.pages.length) pages = slices;
  else if (depth === slices.length) pages = slices.map((_, k) => k);
  else {
    throw new EmsegError(
      'E_SIZE_MISMATCH',
      `--predicted-labels ${path}: ${depth} pages; expected ${truth.pages.length} (one per slice of ${labelsPath}) or ${slices.length} (one per slice of --slices ${formatSliceList(slices)})`,
    );
  }
  if (depth !== truth.pages.length) io.stderr(`pages 0-${depth - 1} of ${path} are slices ${formatSliceList(slices)}, in that order\n`);
  const proposals: LabelImage[] = pages.map((z) => ({ width: predicted.width, height: predicted.height, labels: predicted.pages[z]!.data }));
  const start = performance.now();
  const truths = slices.map((s) => ({ index: s, label: prepareLabel(truth.pages[s]!, { ignore }, `${labelsPath}#${s}`) }));
  const scored = scoreCellLabelSlices(truths, proposals, { ignore });
  const evaluation: CellLabelEvaluation = { slices, rows: [{ source: 'file', ...scored, seconds: (performance.now() - start) / 1000 }] };
  io.stdout(formatCellLabelsText(evaluation));
  if (options.json) {
    const doc = {
      predictedLabels: path,
      ...(statSync(path).isFile() ? { sha256: sha256Hex(readFileSync(path)) } : {}),
      labels: labelsPath,
      slices,
      pages,
      ...(ignore !== null ? { ignore } : {}),
      cellLabels: evaluation,
      command: options.command,
      machine: machineDescription(),
      date: new Date().toISOString(),
    };
    await writeFileAtomic(options.json, `${JSON.stringify(doc, null, 2)}\n`, { inputs });
    io.stderr(`wrote ${options.json}\n`);
  }
  return evaluation;
}
