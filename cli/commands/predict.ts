/**
 * `emseg predict <file|folder> -o <out>`: a thin shell over predictPaths (serve/predict.ts) with a
 * model from loadOnnxModel (serve/session.ts). onnxruntime is loaded only when this command runs.
 */
import { existsSync } from 'node:fs';
import { defineCommand } from 'citty';
import { EmsegError } from '../../core/errors.ts';
import { OUTPUT_FORMATS, OUTPUT_KINDS } from '../../core/segmentation-output.ts';
import type { PredictProgress } from '../../serve/predict.ts';
import { enumArg, numberOption, thresholdOption } from '../options.ts';

export const DEFAULT_MODEL = 'models/isbi2012-unet.onnx';

/** `[#####.....] 12/30 pages (2/5 files) file.tif`, for stacks and folders. */
export function predictProgressLine(progress: PredictProgress, width = 24): string {
  const tileFraction = progress.tiles > 0 ? progress.tilesDone / progress.tiles : 0;
  const pageFraction = Math.min(1, (progress.pagesDone + tileFraction) / progress.pages);
  const fraction = (progress.fileIndex + pageFraction) / progress.files;
  const filled = Math.round(fraction * width);
  const files = progress.files > 1 ? ` (file ${progress.fileIndex + 1}/${progress.files})` : '';
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${progress.pagesDone}/${progress.pages} pages${files} ${progress.file}`;
}

const command = defineCommand({
  meta: {
    name: 'predict',
    description: 'Segment PNG, JPEG or TIFF images (a file or a folder) with an ONNX model: masks, probability maps or overlays.',
  },
  args: {
    input: { type: 'positional', description: 'Image file (PNG, JPEG, TIFF with one or many pages) or a folder of them', required: true },
    out: { type: 'string', alias: 'o', description: 'Output file (.png, .tif) for one input, else an output folder', required: true },
    model: { type: 'string', description: 'ONNX model following the emseg contract', default: DEFAULT_MODEL },
    output: enumArg(OUTPUT_KINDS, { description: 'What to write: mask (0/255), probability (float32 TIFF) or overlay (RGB PNG)', default: 'mask' }),
    format: enumArg(OUTPUT_FORMATS, { description: 'png or tiff (default: from -o, else png for one-page masks and overlays, tiff for stacks and probabilities)' }),
    threshold: { type: 'string', description: "Mask threshold 0..1 (default: the model card's)" },
    tta: { type: 'boolean', description: '8-fold flip/rotation test-time augmentation (8x slower)' },
    tile: { type: 'string', description: "Tile size, a multiple of the model's size multiple (default: the model card's, 512)" },
    halo: { type: 'string', description: "Overlap margin between tiles in pixels (default: the model card's, 32)" },
    'tile-batch': { type: 'string', description: 'Tiles per model call (default 4)' },
    ep: { type: 'string', description: 'Execution providers in order of preference, e.g. cuda,cpu (default: env EMSEG_EP, else cuda,cpu)' },
    quiet: { type: 'boolean', description: 'No progress bar' },
  },
  async run({ args }) {
    const { output, format } = args;
    const threshold = thresholdOption(args.threshold);
    const tile = numberOption(args.tile, '--tile', { integer: true, min: 1 });
    const halo = numberOption(args.halo, '--halo', { integer: true, min: 0 });
    const tileBatch = numberOption(args['tile-batch'], '--tile-batch', { integer: true, min: 1 });
    const { planPrediction, predictPaths } = await import('../../serve/predict.ts');
    // Argument and path mistakes fail before the model loads.
    await planPrediction(String(args.input), String(args.out), { output, ...(format === undefined ? {} : { format }) });
    if (args.model === DEFAULT_MODEL && !existsSync(DEFAULT_MODEL)) {
      throw new EmsegError('E_NOT_FOUND', `--model ${DEFAULT_MODEL}: no such file; train and convert a model (emseg train, emseg convert) or pass --model <file.onnx>`);
    }
    const { loadOnnxModel } = await import('../../serve/session.ts');
    const model = await loadOnnxModel(String(args.model), {
      ...(args.ep === undefined ? {} : { providers: String(args.ep) }),
      log: (message) => process.stderr.write(`emseg: warning: ${message}\n`),
    });
    const tty = process.stderr.isTTY === true && args.quiet !== true;
    let lastDraw = 0;
    let drawn = false;
    try {
      process.stderr.write(`model ${model.card.name}@${model.card.version} on ${model.provider}\n`);
      await predictPaths(String(args.input), String(args.out), model, {
        output,
        ...(format === undefined ? {} : { format }),
        ...(threshold === undefined ? {} : { threshold }),
        ...(args.tta === undefined ? {} : { tta: args.tta === true }),
        ...(tile === undefined ? {} : { tile }),
        ...(halo === undefined ? {} : { halo }),
        ...(tileBatch === undefined ? {} : { tileBatch }),
        onProgress: (progress) => {
          if (!tty || (progress.pages === 1 && progress.files === 1)) return;
          const now = Date.now();
          if (now - lastDraw < 100 && progress.tiles > 0) return;
          lastDraw = now;
          drawn = true;
          process.stderr.write(`\r${predictProgressLine(progress)}\x1b[K`);
        },
        onFile: (file) => {
          if (drawn) process.stderr.write('\r\x1b[K');
          process.stdout.write(
            `${file.input} -> ${file.output} (${file.pages} page${file.pages > 1 ? 's' : ''} ${file.width}x${file.height}, ${(file.foreground * 100).toFixed(1)}% cell interior)\n`,
          );
        },
      });
    } finally {
      if (drawn) process.stderr.write('\r\x1b[K');
      await model.close();
    }
  },
});
// Named first: tsc 5.9 does not rewrite `.ts` dynamic imports inside `export default <expression>`.
export default command;
