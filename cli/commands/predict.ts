/**
 * `emseg predict <file|folder> -o <out>`: a thin shell over predictPaths (predict/predict.ts) with a
 * model from loadOnnxModel (node/load-onnx-model.ts). onnxruntime is loaded only when this command runs.
 */
import { defineCommand } from 'citty';
import { parseShard, type Shard } from '../../core/chunk-plan.ts';
import type { VolumeProgress } from '../../core/stream-inference.ts';
import { EmsegError } from '../../core/errors.ts';
import { OUTPUT_FORMATS, PREDICT_OUTPUT_KINDS, type PredictOutputKind } from '../../core/segmentation-output.ts';
import type { PredictProgress } from '../../predict/predict.ts';
import { formatDuration } from '../format-duration.ts';
import { stopOnSignals } from '../stop-signals.ts';
import { enumArg, numberOption, thresholdOption } from '../options.ts';
import { chooseModel, describeModelChoice } from '../../node/shipped-model.ts';


/** `[#####.....] 12/30 pages (2/5 files) file.tif`, for stacks and folders. */
export function predictProgressLine(progress: PredictProgress, width = 24): string {
  const tileFraction = progress.tiles > 0 ? progress.tilesDone / progress.tiles : 0;
  const pageFraction = Math.min(1, (progress.pagesDone + tileFraction) / progress.pages);
  const fraction = (progress.fileIndex + pageFraction) / progress.files;
  const filled = Math.round(fraction * width);
  const files = progress.files > 1 ? ` (file ${progress.fileIndex + 1}/${progress.files})` : '';
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${progress.pagesDone}/${progress.pages} pages${files} ${progress.file}`;
}

/** `[#####.....] 120/900 tiles, 3.4 tiles/s, ETA 3m 49s, chunks 30/220 (12 done before)`, for large images. */
export function volumeProgressLine(progress: VolumeProgress, elapsedSeconds: number, width = 24): string {
  const { tilesDone, tiles, chunksDone, chunks, chunksSkipped } = progress;
  const fraction = tiles > 0 ? tilesDone / tiles : 1;
  const filled = Math.round(fraction * width);
  const rate = elapsedSeconds > 0 ? tilesDone / elapsedSeconds : 0;
  const eta = rate > 0 ? `ETA ${formatDuration((tiles - tilesDone) / rate)}` : 'ETA -';
  const skipped = chunksSkipped > 0 ? ` (${chunksSkipped} done before)` : '';
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${tilesDone}/${tiles} tiles, ${rate.toFixed(1)} tiles/s, ${eta}, chunks ${chunksDone}/${chunks}${skipped}`;
}

const command = defineCommand({
  meta: {
    name: 'predict',
    description: 'Segment PNG, JPEG or TIFF images (a file or a folder) with an ONNX model: masks, probability maps or overlays.',
  },
  args: {
    input: { type: 'positional', description: 'Image file (PNG, JPEG, TIFF/BigTIFF with one or many pages), an OME-Zarr store, or a folder of images', required: true },
    out: { type: 'string', alias: 'o', description: 'Output file (.png, .tif) for one input, an OME-Zarr store (.zarr, .ome.zarr) for large images, else an output folder', required: true },
    model: { type: 'string', description: 'ONNX model following the emseg contract. Default: models/isbi2012-unet.onnx in the current folder, else the one shipped in the emseg package' },
    output: enumArg(PREDICT_OUTPUT_KINDS, { description: 'What to write: mask (0/255), probability (float32 TIFF), overlay (RGB PNG) or labels (cells, 0 = boundary: a uint32 TIFF, or for large images an OME-Zarr labels group or a tiled BigTIFF)', default: 'mask' }),
    cells: { type: 'string', description: 'Also write one CSV row per cell (label, slice, area, centroid, bounding box, equivalent diameter, border membrane probability) to this file (large images: with --output labels)' },
    'link-sections': { type: 'string', description: "Link the cells of consecutive pages of a stack into 3D objects (ids consistent through z, in the labels and a cell table's object_id column): a cell continues the previous page's cell it overlaps most when each is the other's best match and they share at least this fraction of the smaller one's area, e.g. 0.5 (with --output labels or --cells; not for large images)" },
    format: enumArg(OUTPUT_FORMATS, { description: 'png or tiff (default: from -o, else png for one-page masks and overlays, tiff for stacks, TIFF inputs, probabilities and labels)' }),
    threshold: { type: 'string', description: "Mask threshold 0..1 (default: the model card's)" },
    tta: { type: 'boolean', description: "8-fold flip/rotation test-time augmentation (8x slower; --no-tta: off whatever the card says). Default: the model card's tta, else off" },
    tile: { type: 'string', description: "Tile size, a multiple of the model's size multiple (default: the model card's (512))" },
    halo: { type: 'string', description: "Overlap margin between tiles in pixels (default: the model card's (32))" },
    'tile-batch': { type: 'string', description: 'Tiles per model call (default 4)' },
    'pixel-size': { type: 'string', description: "Pixel size of the inputs in nm: rescaled to the model card's trainingPixelSize and back (default: the size the file states (TIFF/ImageJ/OME-XML/OME-Zarr), else no rescaling)" },
    invert: { type: 'boolean', description: 'Invert the contrast first: for images with bright membranes (e.g. block-face SEM); the model was trained on dark membranes' },
    force: { type: 'boolean', description: 'Replace outputs that exist already (otherwise they are refused)' },
    ep: { type: 'string', description: 'Execution providers in order of preference, e.g. cuda,cpu (default: EMSEG_EP, else auto (cuda if it starts, else cpu, without a warning))' },
    quiet: { type: 'boolean', description: 'No progress bar' },
    shard: { type: 'string', description: 'Large images: compute only share i of N of the output chunks (i/N, e.g. 0/4) into one shared OME-Zarr store; the last shard to finish writes the final levels' },
    finalize: { type: 'boolean', description: 'Large images: only the final step of a sharded job (check every chunk is written, write the downsampled levels and metadata)' },
    level: { type: 'string', description: 'OME-Zarr input: the resolution level to segment, 0 = the full resolution (default 0)' },
  },
  async run({ args }) {
    const { output, format } = args;
    const threshold = thresholdOption(args.threshold);
    const tile = numberOption(args.tile, '--tile', { integer: true, min: 1 });
    const halo = numberOption(args.halo, '--halo', { integer: true, min: 0 });
    const tileBatch = numberOption(args['tile-batch'], '--tile-batch', { integer: true, min: 1 });
    const pixelSize = numberOption(args['pixel-size'], '--pixel-size', { min: 0, minExclusive: true });
    const shard = args.shard === undefined ? undefined : parseShard(String(args.shard));
    const level = numberOption(args.level, '--level', { integer: true, min: 0 });
    const linkSections = numberOption(args['link-sections'], '--link-sections', { min: 0, minExclusive: true, max: 1 });
    const { checkLargeCellTable, largePredictionReason, refuseLargeLinking } = await import('../../predict/predict-large.ts');
    const invert = args.invert === true;
    const force = args.force === true;
    const largeReason = await largePredictionReason(String(args.input), String(args.out), { ...(shard ? { shard } : {}), finalize: args.finalize === true });
    if (largeReason) {
      const cells = args.cells === undefined ? undefined : String(args.cells);
      refuseLargeLinking(linkSections, largeReason); // before the model loads
      checkLargeCellTable(output, cells);
      await runLarge(args, { output, cells, threshold, tile, halo, tileBatch, shard, level, pixelSize, invert, force });
      return;
    }
    const { planPrediction, predictPaths } = await import('../../predict/predict.ts');
    // Argument and path mistakes fail before the model loads.
    const cells = args.cells === undefined ? undefined : String(args.cells);
    await planPrediction(String(args.input), String(args.out), { output, force, ...(format === undefined ? {} : { format }), ...(cells === undefined ? {} : { cells }), ...(linkSections === undefined ? {} : { linkSections }) });
    const choice = chooseModel(args.model);
    const { loadOnnxModel } = await import('../../node/load-onnx-model.ts');
    const model = await loadOnnxModel(choice.path, {
      ...(args.ep === undefined ? {} : { providers: String(args.ep) }),
      log: (message) => process.stderr.write(`emseg: warning: ${message}\n`),
    });
    const tty = process.stderr.isTTY === true && args.quiet !== true;
    let lastDraw = 0;
    let drawn = false;
    try {
      process.stderr.write(`model ${model.card.name}@${model.card.version} on ${model.provider}: ${describeModelChoice(choice)}\n`);
      await predictPaths(String(args.input), String(args.out), model, {
        output,
        ...(format === undefined ? {} : { format }),
        ...(cells === undefined ? {} : { cells }),
        ...(linkSections === undefined ? {} : { linkSections }),
        ...(threshold === undefined ? {} : { threshold }),
        ...(args.tta === undefined ? {} : { tta: args.tta === true }),
        ...(tile === undefined ? {} : { tile }),
        ...(halo === undefined ? {} : { halo }),
        ...(tileBatch === undefined ? {} : { tileBatch }),
        ...(pixelSize === undefined ? {} : { pixelSize }),
        invert,
        force,
        onNotice: (line, kind) => {
          if (drawn) process.stderr.write('\r\x1b[K');
          process.stderr.write(`${kind === 'warning' ? 'emseg: warning: ' : ''}${line}\n`);
        },
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

interface LargeRunOptions {
  output: PredictOutputKind;
  cells: string | undefined;
  threshold: number | undefined;
  tile: number | undefined;
  halo: number | undefined;
  tileBatch: number | undefined;
  shard: Shard | undefined;
  level: number | undefined;
  pixelSize: number | undefined;
  invert: boolean;
  force: boolean;
}

/** The large-image path (predict/predict-large.ts): streamed, resumable, shardable; progress with tiles/s and ETA. */
async function runLarge(args: Record<string, unknown>, options: LargeRunOptions): Promise<void> {
  const choice = chooseModel(args.model === undefined ? undefined : String(args.model));
  const modelPath = choice.path;
  const { fileSha256, predictLarge } = await import('../../predict/predict-large.ts');
  // In worker threads: onnxruntime-node's session.run blocks its thread, and reading, blending
  // and writing the chunks overlap with the inference only when that thread is not this one.
  const { loadBatchModel } = await import('../../node/batch-model.ts');
  const model = await loadBatchModel(modelPath, {
    ...(args.ep === undefined ? {} : { providers: String(args.ep) }),
    log: (message) => process.stderr.write(`emseg: warning: ${message}\n`),
  });
  const quiet = args.quiet === true;
  const tty = process.stderr.isTTY === true && !quiet;
  const started = Date.now();
  let lastDraw = 0;
  let drawn = false;
  // Ctrl-C or SIGTERM: the run stops at its next tile or chunk and leaves through its clean-up (the
  // tile spill and the labelling worker go; every chunk written stays for the resume); a second
  // signal ends the process at once.
  const stop = stopOnSignals(['SIGINT', 'SIGTERM'], (signal) => {
    if (!quiet) process.stderr.write(`${drawn ? '\n' : ''}${signal}: stopping (again to quit at once)\n`);
    drawn = false;
    return new EmsegError('E_INTERRUPTED', `${String(args.out)}: stopped by ${signal}; the chunks written are kept: run the same command again to go on`);
  });
  try {
    const tileBatch = options.tileBatch ?? model.tileBatch;
    const sessions = model.sessions > 1 ? ` (${model.sessions} sessions of ${model.intraOpThreads || 'default'} thread${model.intraOpThreads === 1 ? '' : 's'}, ${tileBatch} tile${tileBatch === 1 ? '' : 's'} per call)` : '';
    if (!quiet) process.stderr.write(`model ${model.card.name}@${model.card.version} on ${model.provider}${sessions}: ${describeModelChoice(choice)}\n`);
    const result = await predictLarge(String(args.input), String(args.out), model, {
      output: options.output,
      ...(options.cells === undefined ? {} : { cells: options.cells }),
      modelSha256: await fileSha256(modelPath),
      ...(options.threshold === undefined ? {} : { threshold: options.threshold }),
      ...(args.tta === undefined ? {} : { tta: args.tta === true }),
      ...(options.tile === undefined ? {} : { tile: options.tile }),
      ...(options.halo === undefined ? {} : { halo: options.halo }),
      tileBatch,
      ...(options.shard === undefined ? {} : { shard: options.shard }),
      ...(options.level === undefined ? {} : { level: options.level }),
      ...(options.pixelSize === undefined ? {} : { pixelSize: options.pixelSize }),
      invert: options.invert,
      force: options.force,
      signal: stop.signal,
      onNotice: (line, kind) => {
        if (drawn) process.stderr.write('\r\x1b[K');
        drawn = false;
        process.stderr.write(`${kind === 'warning' ? 'emseg: warning: ' : ''}${line}\n`);
      },
      finalize: args.finalize === true,
      onProgress: (progress) => {
        if (quiet) return;
        const now = Date.now();
        const done = progress.tilesDone === progress.tiles;
        // A bar on a terminal; a plain line a minute in logs (Kubernetes, CI).
        if (tty ? now - lastDraw < 200 && !done : now - lastDraw < 60_000 && !done) return;
        lastDraw = now;
        const line = volumeProgressLine(progress, (now - started) / 1000);
        if (tty) {
          drawn = true;
          process.stderr.write(`\r${line}\x1b[K`);
        } else process.stderr.write(`${line}\n`);
      },
    });
    if (drawn) process.stderr.write('\r\x1b[K');
    drawn = false;
    const shard = options.shard && options.shard.count > 1 ? ` (shard ${options.shard.index}/${options.shard.count})` : '';
    const state = result.finalized
      ? 'complete'
      : result.chunksMissing > 0
        ? `${result.chunksMissing} chunks of other shards missing; the last shard to finish completes the store (or run the same command with --finalize)`
        : 'every chunk written; another process runs the final step (if none does, run the same command with --finalize)';
    const size = `${result.depth > 1 ? `${result.depth} slices of ` : ''}${result.width}x${result.height}`;
    // --finalize writes no chunk: it checks them all and writes the levels and metadata.
    const work = args.finalize === true
      ? `finalized: all ${result.chunks} chunks present, downsampled levels and metadata written`
      : `${result.chunksWritten} chunks written, ${result.chunksSkipped} already done; ${state}`;
    process.stdout.write(`${result.input} -> ${result.output}${shard} (${size}; ${work})\n`);
  } finally {
    stop.release();
    if (drawn) process.stderr.write('\r\x1b[K');
    await model.close();
  }
}

// Named first: tsc 5.9 does not rewrite `.ts` dynamic imports inside `export default <expression>`.
export default command;
