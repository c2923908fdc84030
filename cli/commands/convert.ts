/**
 * `emseg convert <tfjs model dir> -o models/<name>.onnx`: a thin shell over convertModel
 * (convert/convert-model.ts). Chooses the tfjs backend for the parity oracle, loads the real
 * ISBI slice for the parity check, prints the parity figures and the files written.
 */
import { defineCommand } from 'citty';
import { EmsegError } from '../../core/errors.ts';
import { BACKEND_CHOICES } from '../../train/backend.ts';
import { enumArg, numberOption, thresholdOption } from '../options.ts';
import { ISBI_TRAIN_IMAGES } from '../../core/isbi-data.ts';
import { commandLine } from '../command-line.ts';

export const convertArgs = {
  model: { type: 'positional', required: true, description: 'tfjs Layers model folder (model.json + weights), e.g. runs/isbi2012-unet/model' },
  output: { type: 'string', alias: 'o', required: true, description: 'Output ONNX file, e.g. models/isbi2012-unet.onnx (the model card goes beside it as .json)' },
  name: { type: 'string', description: 'Model name in the card. Default: the output file name without .onnx' },
  threshold: { type: 'string', description: "Mask threshold stored in the card. Default: the one --metrics chose on its selection slices, else the one the run's kept validation supports (0.5 unless its best threshold beats 0.5 by 0.005 in V_rand), else 0.5" },
  tta: { type: 'boolean', description: 'Card default: serve, predict and the web demo use 8-fold test-time augmentation unless told otherwise (--no-tta: off). Default: not set (off)' },
  metrics: { type: 'string', description: 'JSON written by `emseg evaluate` whose figures go into the card' },
  cells: {
    type: 'string',
    description: "JSON whose `cells` field (as `npm run bench:seeds -- --json` writes it), or the file itself, is the card's cells section: seed rule, thresholds, size filters (core/cells/cell-params.ts). Default: none (predict uses the built-in defaults)",
  },
  'training-config': { type: 'string', description: "The training run's config.json. Default: found next to the model folder" },
  'parity-image': { type: 'string', description: `Image stack for the real-data parity check. Default ${ISBI_TRAIN_IMAGES}` },
  'parity-slice': { type: 'string', description: 'Slice of --parity-image used. Default 0' },
  'random-only': { type: 'boolean', description: 'Check parity on random inputs only (when the ISBI data is not at hand)' },
  tolerance: { type: 'string', description: 'Largest allowed |tfjs - onnxruntime|. Default 1e-4' },
  backend: enumArg(BACKEND_CHOICES, { description: 'tfjs backend of the parity oracle: auto (gpu, then native, then wasm, then cpu), gpu, native, wasm or cpu. Default auto' }),
  'model-version': { type: 'string', description: "Version in the card. Default '0.1.0'" },
  check: { type: 'boolean', description: "Also run Python onnx's checker (full_check) on the written file, if python3-onnx is installed" },
  force: { type: 'boolean', description: "Replace the output, its card and the copies of the run's config and log if they exist (otherwise they are refused)" },
  quiet: { type: 'boolean', description: 'Print only the final line' },
} as const;


const command = defineCommand({
  meta: { name: 'convert', description: 'Convert a tfjs Layers model to ONNX (IR 8, opset 17, NCHW) with a parity check and a model card' },
  args: convertArgs,
  async run({ args, rawArgs }) {
    const threshold = thresholdOption(args.threshold);
    const tolerance = numberOption(args.tolerance, '--tolerance', { min: 0, minExclusive: true });
    const sliceIndex = numberOption(args['parity-slice'], '--parity-slice', { integer: true, min: 0 }) ?? 0;
    const out = (line: string) => {
      if (!args.quiet) process.stderr.write(`${line}\n`);
    };

    const { modelJsonPath } = await import('../../convert/tfjs-model-dir.ts');
    modelJsonPath(args.model); // a missing model folder or a bad --cells file is reported before anything slow starts
    if (args.cells !== undefined) (await import('../../convert/training-info.ts')).readCellsSection(args.cells);
    const tf = await (await import('../../node/tfjs.ts')).importTfjs();
    const { selectBackend } = await import('../../train/backend.ts');
    const backend = await selectBackend(tf, args.backend ?? 'auto', out);
    const { convertModel } = await import('../../convert/convert-model.ts');
    const { isbiParityInput, defaultParityImage } = await import('../../convert/isbi-slice.ts');
    const realInputs = args['random-only'] ? [] : [await isbiParityInput(args['parity-image'] ?? defaultParityImage(), sliceIndex)];

    const result = await convertModel({
      tf,
      modelDir: args.model,
      output: args.output,
      ...(args.name !== undefined ? { name: args.name } : {}),
      ...(threshold !== undefined ? { threshold } : {}),
      ...(tolerance !== undefined ? { tolerance } : {}),
      ...(args.tta !== undefined ? { tta: args.tta } : {}),
      ...(args.metrics !== undefined ? { metricsPath: args.metrics } : {}),
      ...(args.cells !== undefined ? { cellsPath: args.cells } : {}),
      ...(args['training-config'] !== undefined ? { trainingConfigPath: args['training-config'] } : {}),
      ...(args['model-version'] !== undefined ? { version: args['model-version'] } : {}),
      realInputs,
      command: commandLine(['emseg', 'convert', ...rawArgs]),
      force: args.force === true,
      backendName: backend.name,
      log: out,
    });
    if (args.check) {
      const { checkOnnxFile } = await import('../../convert/onnx-checker.ts');
      const check = checkOnnxFile(result.onnxPath);
      if (!check.available) out(`onnx checker not run: ${check.message}`);
      else if (!check.ok) throw new EmsegError('E_MODEL', `${result.onnxPath}: the ONNX checker rejects the file: ${check.message}`);
      else out(`onnx ${check.onnxVersion} checker (full_check): ok`);
    }
    process.stdout.write(
      `${result.onnxPath}: parity max |tfjs - onnxruntime| = ${result.parity.maxAbsDiff.toExponential(2)}, sha256 ${result.sha256}; card ${result.cardPath}\n`,
    );
  },
});
// Named first: tsc 5.9 does not rewrite `.ts` dynamic imports inside `export default <expression>`.
export default command;
