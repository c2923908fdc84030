/**
 * `emseg export-package <model.onnx> --bioimageio <dir> --triton <dir>`: a thin shell over
 * exportPackages (convert/export-package.ts).
 */
import { defineCommand } from 'citty';
import { enumArg, numberOption } from '../options.ts';
import { ISBI_SAMPLE_SLICE, ISBI_TRAIN_IMAGES } from '../../core/isbi-data.ts';

// No KIND_AUTO: on a GPU node whose GPU Triton cannot use, it silently serves on the CPU.
const INSTANCE_KINDS = ['KIND_GPU', 'KIND_CPU'] as const;

export const exportPackageArgs = {
  model: { type: 'positional', required: true, description: 'ONNX file written by emseg convert, e.g. models/isbi2012-unet.onnx' },
  bioimageio: { type: 'string', description: 'Write a BioImage Model Zoo package (rdf.yaml 0.5) into this folder' },
  triton: { type: 'string', description: 'Write a Triton model repository (<name>/config.pbtxt, <name>/1/model.onnx) into this folder' },
  zip: { type: 'boolean', description: 'Also write the bioimage.io package as <dir>.zip (for deepImageJ install and the zoo upload)' },
  card: { type: 'string', description: 'Model card JSON. Default: the .json beside the ONNX file, else the ONNX metadata' },
  'test-image': { type: 'string', description: `Image stack or slice for the bioimage.io test tensors. Default: ${ISBI_TRAIN_IMAGES} in the current folder or the checkout, else ${ISBI_SAMPLE_SLICE} (its slice 0) shipped in the package` },
  'test-slice': { type: 'string', description: 'Slice of --test-image. Default 0' },
  author: { type: 'string', description: "bioimage.io author name(s), comma-separated. Default 'emseg contributors'" },
  maintainer: { type: 'string', description: 'bioimage.io maintainer GitHub account(s), comma-separated (the zoo asks for at least one). Default: none' },
  'git-repo': { type: 'string', description: 'bioimage.io git_repo: URL of the repository the model comes from. Default: none' },
  name: { type: 'string', description: "Triton model name. Default: the card's name" },
  'max-batch-size': { type: 'string', description: 'Triton max_batch_size. Default 8' },
  'queue-delay-us': { type: 'string', description: 'Triton dynamic batching max_queue_delay_microseconds. Default 2000' },
  'instance-kind': enumArg(INSTANCE_KINDS, { description: 'Triton instance_group kind: KIND_GPU (fails to load without a GPU) or KIND_CPU. Default KIND_GPU' }),
  force: { type: 'boolean', description: 'Replace files of the packages that exist already (otherwise they are refused)' },
} as const;

const command = defineCommand({
  meta: { name: 'export-package', description: 'Package an emseg ONNX model for the BioImage Model Zoo (deepImageJ, ilastik) and Triton Inference Server' },
  args: exportPackageArgs,
  async run({ args }) {
    const maxBatchSize = numberOption(args['max-batch-size'], '--max-batch-size', { integer: true, min: 1 });
    const delay = numberOption(args['queue-delay-us'], '--queue-delay-us', { integer: true, min: 0 });
    const testSlice = numberOption(args['test-slice'], '--test-slice', { integer: true, min: 0 });
    const kind = args['instance-kind'];
    const { exportPackages } = await import('../../convert/export-package.ts');
    const result = await exportPackages({
      onnxPath: args.model,
      ...(args.bioimageio !== undefined ? { bioimageioDir: args.bioimageio } : {}),
      ...(args.triton !== undefined ? { tritonDir: args.triton } : {}),
      ...(args.card !== undefined ? { cardPath: args.card } : {}),
      ...(args.zip ? { zip: true } : {}),
      ...(args['test-image'] !== undefined ? { testImage: args['test-image'] } : {}),
      ...(testSlice !== undefined ? { testSlice } : {}),
      ...(args.author !== undefined ? { authors: args.author.split(',').map((name) => ({ name: name.trim() })).filter((a) => a.name) } : {}),
      ...(args.maintainer !== undefined ? { maintainers: args.maintainer.split(',').map((user) => ({ github_user: user.trim() })).filter((m) => m.github_user) } : {}),
      ...(args['git-repo'] !== undefined ? { gitRepo: args['git-repo'] } : {}),
      ...(args.name !== undefined ? { tritonName: args.name } : {}),
      force: args.force === true,
      triton: {
        ...(maxBatchSize !== undefined ? { maxBatchSize } : {}),
        ...(delay !== undefined ? { maxQueueDelayMicroseconds: delay } : {}),
        ...(kind !== undefined ? { instanceKind: kind } : {}),
      },
    });
    if (result.bioimageio) {
      process.stdout.write(
        `bioimage.io package: ${result.bioimageio.rdfPath}${result.bioimageio.zipPath ? ` and ${result.bioimageio.zipPath}` : ''} (test tensors reproduce to ${result.bioimageio.reproduceMaxAbsDiff.toExponential(2)})\n`,
      );
    }
    if (result.triton) process.stdout.write(`Triton model repository: ${result.triton.configPath}, ${result.triton.modelPath}\n`);
  },
});
// Named first: tsc 5.9 does not rewrite `.ts` dynamic imports inside `export default <expression>`.
export default command;
