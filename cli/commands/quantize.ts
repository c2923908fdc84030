/**
 * `emseg quantize <model.onnx> -o models/<name>.int8.onnx`: a thin shell over quantizeModel
 * (convert/quantize/quantize-model.ts). Reads the calibration stack and the --calibration-slices
 * (quantizeModel's default: the card's training split, else 0-22), prints the comparison and the files.
 */
import { defineCommand } from 'citty';
import { ISBI_TRAIN_IMAGES } from '../../core/isbi-data.ts';
import { enumArg } from '../options.ts';
import { commandLine } from '../command-line.ts';

export const quantizeArgs = {
  model: { type: 'positional', required: true, description: 'Float ONNX model written by emseg convert, e.g. models/isbi2012-unet.onnx' },
  output: { type: 'string', alias: 'o', required: true, description: 'Output ONNX file, e.g. models/isbi2012-unet.int8.onnx (its model card goes beside it as .json)' },
  'calibration-images': { type: 'string', description: `Image stack whose slices calibrate the activation ranges. Default ${ISBI_TRAIN_IMAGES}` },
  'calibration-slices': {
    type: 'string',
    description: `Training slices of that stack, e.g. 0-22 (validation slices of the model card are refused). Default: the card's training split, else 0-22`,
  },
  activations: enumArg(['uint8', 'int8'] as const, { description: 'Activation type: uint8 (onnxruntime x86 fast path, uint8 x int8) or int8. Default uint8' }),
  'float-convs': { type: 'string', description: 'Conv / ConvTranspose node names kept in float, comma-separated (the first, on the image, and the head, before the sigmoid, always are). Default: none' },
  'depth-to-space': { type: 'boolean', description: 'Rewrite the up-sampling ConvTranspose (kernel = stride) as a 1x1 Conv + DepthToSpace, both int8 in onnxruntime (--no-depth-to-space: keep it). Default on' },
  'conv-transpose': { type: 'boolean', description: 'Quantize the up-sampling ConvTranspose too (--no-conv-transpose: keep it float). Default on' },
  name: { type: 'string', description: 'Model name in the card. Default: the output file name without .onnx' },
  check: { type: 'boolean', description: "Also run Python onnx's checker (full_check) on the written file, if python3-onnx is installed" },
  force: { type: 'boolean', description: 'Replace the output and its card if they exist (otherwise they are refused)' },
  quiet: { type: 'boolean', description: 'Print only the final line' },
} as const;

const command = defineCommand({
  meta: { name: 'quantize', description: 'Make the int8 (QDQ) variant of a float emseg model for CPU serving, calibrated on training slices' },
  args: quantizeArgs,
  async run({ args, rawArgs }) {
    const out = (line: string) => {
      if (!args.quiet) process.stderr.write(`${line}\n`);
    };
    const { EmsegError } = await import('../../core/errors.ts');
    const { parseSliceList } = await import('../../core/slice-list.ts');
    const { defaultParityImage } = await import('../../convert/isbi-slice.ts');
    const { stackSliceSource } = await import('../../convert/quantize/calibrate.ts');
    const { quantizeModel } = await import('../../convert/quantize/quantize-model.ts');
    const source = await stackSliceSource(args['calibration-images'] ?? defaultParityImage());
    const slices = args['calibration-slices'] !== undefined ? parseSliceList(args['calibration-slices'], source.pageCount, '--calibration-slices') : undefined;
    const floatConvs = args['float-convs'] ? args['float-convs'].split(',').map((name) => name.trim()).filter((name) => name.length > 0) : [];
    const result = await quantizeModel({
      model: args.model,
      output: args.output,
      source,
      ...(slices !== undefined ? { slices } : {}),
      ...(args.activations !== undefined ? { activations: args.activations } : {}),
      floatConvs,
      ...(args['depth-to-space'] !== undefined ? { depthToSpace: args['depth-to-space'] } : {}),
      ...(args['conv-transpose'] !== undefined ? { convTranspose: args['conv-transpose'] } : {}),
      ...(args.name !== undefined ? { name: args.name } : {}),
      command: commandLine(['emseg', 'quantize', ...rawArgs]),
      force: args.force === true,
      log: out,
    });
    if (args.check) {
      const { checkOnnxFile } = await import('../../convert/onnx-checker.ts');
      const check = checkOnnxFile(result.onnxPath);
      if (!check.available) out(`onnx checker not run: ${check.message}`);
      else if (!check.ok) throw new EmsegError('E_MODEL', `${result.onnxPath}: the ONNX checker rejects the file: ${check.message}`);
      else out(`onnx ${check.onnxVersion} checker (full_check): ok`);
    }
    const compared = result.card.quantization?.comparedWithParent;
    process.stdout.write(
      `${result.onnxPath}: int8 (${result.card.quantization?.int8Convs.length} convolutions), vs float on slice ${compared?.slice}: max |diff| ${compared?.maxAbsDiff.toExponential(2)}, mask agreement ${((compared?.maskAgreement ?? 0) * 100).toFixed(3)}%; sha256 ${result.sha256}; card ${result.cardPath}\n`,
    );
  },
});
// Named first: tsc 5.9 does not rewrite `.ts` dynamic imports inside `export default <expression>`.
export default command;
