/**
 * `emseg evaluate <model> [<model> ...]`: a thin shell over runEvaluation (evaluate/run-evaluation.ts):
 * parses the flags and runs it. One model prints its metrics table and may write JSON, a Markdown
 * report and montages; several are scored on the same slices and printed side by side (one JSON
 * entry per model).
 *
 *   emseg evaluate models/isbi2012-unet.onnx --tta --report models/isbi2012-unet.report.md
 *   emseg evaluate runs/lab/parent.onnx runs/lab/fine-tuned.onnx --images lab/images --labels lab/labels
 *   emseg evaluate --predicted-labels predicted-labels.tif --slices 27-29   # a labels file, no model
 *
 * With --report, the montages and the curve are written beside the report
 * (`<report>.validation.png`, `<report>.test.png`, `<report>.curve.svg`) unless given explicitly.
 */
import { defineCommand } from 'citty';
import { definedFields } from '../../core/defined.ts';
import { ISBI_VALIDATION_SLICES } from '../../core/isbi-data.ts';
import { DEFAULT_EVALUATION_IMAGES, DEFAULT_EVALUATION_LABELS, DEFAULT_MONTAGE_SHRINK, DEFAULT_TEST_IMAGES, DEFAULT_TEST_SLICES } from '../../evaluate/defaults.ts';
import { BACKEND_CHOICES } from '../../train/backend.ts';
import { commandLine } from '../command-line.ts';
import { enumArg, numberOption, thresholdOption } from '../options.ts';

export const evaluateArgs = {
  model: {
    type: 'positional',
    required: false,
    description: 'An .onnx model, or a tfjs Layers model folder (with model.json); several (e.g. a parent and its fine-tuned child) are scored on the same slices and printed side by side. Required unless --predicted-labels',
  },
  images: { type: 'string', description: `Labelled images: a TIFF stack or a folder of PNG/TIFF images, or a comma-separated list of them (as emseg train --images). Default ${DEFAULT_EVALUATION_IMAGES}` },
  labels: { type: 'string', description: `Labels of each --images entry (stack or folder, files matched by name), 255 = cell interior. Default ${DEFAULT_EVALUATION_LABELS}` },
  slices: {
    type: 'string',
    description: `Slices to evaluate (with --select-slices: the test slices, reported only). Default: ${ISBI_VALIDATION_SLICES} (the validation split) on the ISBI training stack, all slices of any other; without the --select-slices`,
  },
  'select-slices': {
    type: 'string',
    description: 'Choose the threshold and plain or TTA on these slices (0.5 unless another wins by a margin: core/serving-choice.ts), then report --slices at it: nothing is chosen on the reported slices',
  },
  ignore: { type: 'string', description: 'Label value of unlabelled pixels (1-254), counted in no figure. Default none' },
  tta: { type: 'boolean', description: 'Also evaluate with 8-fold flip/rotation test-time augmentation' },
  'cell-labels': {
    type: 'boolean',
    default: true,
    description: "Also label each variant's probability maps with the model card's cells parameters (core/cells) and score the labels beside the mask (--no-cell-labels: skip)",
  },
  'predicted-labels': {
    type: 'string',
    description: 'Score this labels file (e.g. the uint32 TIFF of emseg predict --output labels) against --labels, without a model: its pages are the slices of --labels, or one per --slices',
  },
  shift: {
    type: 'boolean',
    description: 'Also run the shift suite (core/shift-suite.ts): the slices at 4.6 and 6 nm, gamma, contrast, noise, blur, JPEG; with --select-slices it runs on both, and the selection run takes part in the choice',
  },
  threshold: { type: 'string', description: "Threshold for pixel error, Dice, IoU. Default the model card's, else 0.5" },
  'pixel-size': {
    type: 'string',
    description: "Pixel size of the images in nm: rescaled to each model's training pixel size (card, or the run's config.json) and the probabilities back (default: the size the files state, else no rescaling)",
  },
  invert: { type: 'boolean', description: 'Invert the images\' contrast first: for images with bright membranes (the models were trained on dark membranes)' },
  json: { type: 'string', description: 'Write the metrics as JSON to this file (several models: one entry per model)' },
  report: { type: 'string', description: 'Write a Markdown report (with montages and training curve beside it); one model only' },
  montage: { type: 'string', description: 'Write the validation montage (image, label, prediction, errors) PNG; one model only' },
  'test-montage': { type: 'string', description: 'Write a montage of test-volume slices with predictions (PNG); one model only' },
  'test-images': { type: 'string', description: `Unlabelled stack for --test-montage. Default ${DEFAULT_TEST_IMAGES}` },
  'test-slices': { type: 'string', description: `Slices of the test stack. Default ${DEFAULT_TEST_SLICES}` },
  run: { type: 'string', description: "Training run folder (config.json, train.log.jsonl) for the report; default: found beside the model" },
  shrink: { type: 'string', description: `Shrink factor of the montage pictures. Default ${DEFAULT_MONTAGE_SHRINK}` },
  backend: enumArg(BACKEND_CHOICES, { description: 'tfjs backend for a tfjs model folder: auto, gpu, native, wasm, cpu. Default auto' }),
  ep: {
    type: 'string',
    alias: 'providers',
    description: 'onnxruntime execution providers for an .onnx model, in order, e.g. cpu or cuda,cpu (--providers: the same, older spelling). Default EMSEG_EP, else auto (cuda if it starts, else cpu, without a warning)',
  },
  force: { type: 'boolean', description: 'Replace outputs (--json, --report and its pictures, montages) that exist (default: refuse them)' },
} as const;

type Args = Record<string, string | boolean | string[] | undefined>;

const text = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

const command = defineCommand({
  meta: { name: 'evaluate', description: 'Score models (ONNX files or tfjs folders) on labelled slices, side by side: V_rand, V_info, pixel error, Dice, IoU; and their cell labels, or a labels file.' },
  args: evaluateArgs,
  async run({ args: parsed, rawArgs }) {
    const args = parsed as Args;
    const { runEvaluation } = await import('../../evaluate/run-evaluation.ts');
    const models = Array.isArray(args._) && args._.length > 0 ? args._.map(String) : typeof args.model === 'string' ? [args.model] : [];
    const threshold = thresholdOption(args.threshold);
    const ignore = numberOption(args.ignore, '--ignore', { integer: true, min: 1, max: 254 }) ?? null;
    const pixelSize = numberOption(args['pixel-size'], '--pixel-size', { min: 0, minExclusive: true });
    const shrink = numberOption(args.shrink, '--shrink', { integer: true, min: 1, max: 16 });
    const paths = definedFields({
      images: text(args.images),
      labels: text(args.labels),
      slices: text(args.slices),
      selectSlices: text(args['select-slices']),
      json: text(args.json),
      report: text(args.report),
      montage: text(args.montage),
      testMontage: text(args['test-montage']),
      testImages: text(args['test-images']),
      testSlices: text(args['test-slices']),
      run: text(args.run),
      backend: text(args.backend),
      providers: text(args.ep),
      predictedLabels: text(args['predicted-labels']),
    });
    await runEvaluation({
      models,
      ...paths,
      ignore,
      tta: args.tta === true,
      shift: args.shift === true,
      cellLabels: args['cell-labels'] !== false,
      ...(threshold !== undefined ? { threshold } : {}),
      ...(pixelSize !== undefined ? { pixelSize } : {}),
      invert: args.invert === true,
      ...(shrink !== undefined ? { shrink } : {}),
      force: args.force === true,
      command: commandLine(['emseg', 'evaluate', ...rawArgs]),
    });
  },
});
// Named first: tsc 5.9 does not rewrite `.ts` dynamic imports inside `export default <expression>`.
export default command;
