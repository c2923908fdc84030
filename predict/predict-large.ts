/**
 * `emseg predict` for images and volumes too large for memory: the input is read region by
 * region (TIFF/BigTIFF through node/tiff-volume.ts, OME-Zarr through node/ome-zarr-source.ts),
 * segmented by the streaming tiler (core/stream-inference.ts) and written chunk by chunk (OME-Zarr
 * through node/ome-zarr-sink.ts, tiled BigTIFF through node/tiff-sink.ts). The CLI
 * (cli/commands/predict.ts) takes this path when `largePredictionReason` gives a reason; every
 * other input keeps the in-memory path of predict/predict.ts.
 *
 * - Resuming: the store records the job (input, model, options that change the pixels); the same
 *   command run again after a crash or kill skips the chunks already written.
 * - Sharding (`--shard i/N`, OME-Zarr only): each process writes its own chunks of one shared
 *   store (core/chunk-plan.ts). The process that finds every chunk written after its share runs
 *   the final step (downsampled levels, NGFF metadata); `--finalize` runs it alone. A single
 *   process (no --shard) finalizes at the end.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { rm, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { WHOLE_JOB, type Shard } from '../core/chunk-plan.ts';
import { EmsegError } from '../core/errors.ts';
import { encodeVolumeChunk, segmentVolume, type SegmentVolumeOptions, type VolumeOutput, type VolumeProgress } from '../core/stream-inference.ts';
import { resampledVolume } from '../core/resampled-volume.ts';
import { validateThreshold } from '../core/threshold.ts';
import { resolveTilingOptions } from '../core/tiling.ts';
import { segmentOptionsFromCard, trainingPixelSizeOf } from '../core/card-options.ts';
import { checkPolarity } from '../core/contrast-polarity.ts';
import { choosePixelSize, outputPixelSize, scaledSize } from '../core/pixel-size.ts';
import type { GreyImage } from '../core/image.ts';
import { allChunks, chunkBox, countMissingChunks, type ChunkIndex, type VolumeSampleType, type VolumeSink, type VolumeSource } from '../core/volume.ts';
import { openVolume, openVolumeSink, volumeOutputFormat } from '../node/open-volume.ts';
import { asWriteFailure } from '../node/write-failure.ts';
import type { PredictOutputKind } from '../core/segmentation-output.ts';
import { cellParamsFrom, type CellParams } from '../core/cells/cell-params.ts';
import { assertNotAnInput } from '../node/atomic-write.ts';
import { scratchPathBeside } from '../node/scratch-paths.ts';
import { openTileSpill, type FileTileSpill } from '../node/tile-spill.ts';
import { predictLargeLabels, type LargeLabelsJob } from './predict-large-labels.ts';
import type { PredictModel } from './predict.ts';

/** An image side above this many pixels takes the large path (and a .tif output becomes a tiled BigTIFF). */
export const LARGE_SIDE = 8192;
/** So does an input of more pixels than this in all (1 GiB of float32 probabilities). */
export const LARGE_PIXELS = 2 ** 28;

export interface LargePathQuestion {
  shard?: Shard;
  finalize?: boolean;
}

/**
 * Why `emseg predict input -o out` takes the large path, or undefined for the in-memory path:
 * an OME-Zarr output or input, --shard or --finalize, a BigTIFF input, or a TIFF input with a side
 * over LARGE_SIDE or more than LARGE_PIXELS pixels in all. Reads at most the TIFF's headers.
 */
export async function largePredictionReason(input: string, out: string, question: LargePathQuestion = {}): Promise<string | undefined> {
  if (question.shard && question.shard.count > 1) return '--shard';
  if (question.finalize) return '--finalize';
  if (volumeOutputFormat(out) === 'ome-zarr') return 'an OME-Zarr output';
  const info = await stat(input).catch(() => undefined);
  if (info?.isDirectory() && volumeOutputFormat(input) === 'ome-zarr') return 'an OME-Zarr input';
  if (!info?.isFile() || volumeOutputFormat(input) !== 'bigtiff') return undefined;
  const header = Buffer.alloc(4);
  const handle = await (await import('node:fs/promises')).open(input, 'r');
  try {
    await handle.read(header, 0, 4, 0);
  } finally {
    await handle.close();
  }
  const littleEndian = header[0] === 0x49 && header[1] === 0x49;
  const bigEndian = header[0] === 0x4d && header[1] === 0x4d;
  if (!littleEndian && !bigEndian) return undefined; // not a TIFF: the in-memory path reports it
  const version = littleEndian ? header.readUInt16LE(2) : header.readUInt16BE(2);
  if (version === 43) return 'a BigTIFF input';
  const source = await openVolume(input).catch(() => undefined); // a broken TIFF: the in-memory path reports it
  if (!source) return undefined;
  try {
    if (source.width > LARGE_SIDE || source.height > LARGE_SIDE) return `a ${source.width}x${source.height} input`;
    if (source.width * source.height * source.depth > LARGE_PIXELS) return `an input of ${source.width * source.height * source.depth} pixels`;
  } finally {
    await source.close();
  }
  return undefined;
}

export interface LargePredictOptions {
  /** mask (uint8 0/255), probability, or labels (uint32 cells, predict/predict-large-labels.ts). Default 'mask'. */
  output?: PredictOutputKind;
  /** Also write a CSV table of the cells here (core/cells/cell-table.ts). Default: none. */
  cells?: string;
  /** Cell parameters over the model card's (core/cells/cell-params.ts), for labels and the cell table. */
  cellParams?: Partial<CellParams>;
  /** Probabilities as float32 (default) or uint8, round(p * 255). */
  probabilityType?: VolumeSampleType;
  threshold?: number;
  tta?: boolean;
  tile?: number;
  halo?: number;
  tileBatch?: number;
  /**
   * Width of the stripes the chunks are computed in (core/stream-inference.ts `stripeWidth`,
   * default 16384 pixels); the tiles on each stripe border wait in a tile spill beside the output.
   */
  stripeWidth?: number;
  /** This process's share of the chunks (OME-Zarr output only). Default the whole job. */
  shard?: Shard;
  /** Only the final step: check every chunk is written, then write the downsampled levels and metadata. */
  finalize?: boolean;
  /** OME-Zarr input: the resolution level read (0, the full resolution, by default). */
  level?: number;
  /** Pixel size of the input in nm (--pixel-size). Default: the size the input states (TIFF tags, OME-XML, NGFF scale of the level read). */
  pixelSize?: number;
  /** Invert the contrast before the model sees the image. Default false. */
  invert?: boolean;
  /** Replace a BigTIFF output that exists already. Default false (refused). An OME-Zarr store of the same job is resumed, another job's refused. */
  force?: boolean;
  /** The pixel-size line ('info') and a contrast that looks inverted ('warning'). */
  onNotice?: (line: string, kind: 'info' | 'warning') => void;
  /** Output chunks (and BigTIFF tiles) are chunkSize x chunkSize. Default 512. */
  chunkSize?: number;
  /** sha256 of the model file, recorded in the job identity (the card's when absent). */
  modelSha256?: string;
  onProgress?: (progress: VolumeProgress) => void;
  signal?: AbortSignal;
}

export interface LargePredictResult {
  input: string;
  output: string;
  width: number;
  height: number;
  depth: number;
  chunks: number;
  chunksWritten: number;
  chunksSkipped: number;
  tilesPredicted: number;
  /** True when this run wrote the final levels and metadata. */
  finalized: boolean;
  /** Chunks of the whole job still missing (other shards not done yet). */
  chunksMissing: number;
}

/**
 * On the large-image path the cell table comes with the labels (the cells are labelled from the
 * whole job's probabilities, predict/predict-large-labels.ts): `--cells` without `--output labels`
 * is refused (E_BAD_ARGUMENT), by the CLI before the model loads.
 */
export function checkLargeCellTable(output: PredictOutputKind, cells: string | undefined): void {
  if (cells !== undefined && output !== 'labels') {
    throw new EmsegError('E_BAD_ARGUMENT', `--cells ${cells}: on the large-image path the cell table comes with the labels; add --output labels`);
  }
}

/**
 * `--link-sections` (cells linked across sections, core/cells/section-links.ts) is done on the
 * in-memory path only: on the large-image path, taken for `reason` (largePredictionReason), it is
 * refused (E_BAD_ARGUMENT), by the CLI before the model loads, rather than left unused.
 */
export function refuseLargeLinking(linkSections: number | undefined, reason: string): void {
  if (linkSections === undefined) return;
  throw new EmsegError(
    'E_BAD_ARGUMENT',
    `--link-sections: cells are linked across sections only for stacks that fit in memory, not on the large-image path (taken for ${reason}); write a TIFF stack of at most ${LARGE_SIDE} pixels a side and ${LARGE_PIXELS} pixels in all to a .tif, or leave --link-sections out`,
  );
}

/** sha256 of a file, streamed. */
export async function fileSha256(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const piece of createReadStream(path)) hash.update(piece as Buffer);
  return hash.digest('hex');
}

/** The middle of slice 0, at most 2048 x 2048 pixels: what the contrast check looks at. */
async function centralRegion(source: VolumeSource): Promise<GreyImage> {
  const width = Math.min(2048, source.width);
  const height = Math.min(2048, source.height);
  return source.readRegion(0, { x: Math.floor((source.width - width) / 2), y: Math.floor((source.height - height) / 2), width, height });
}

/** Where the model-scale probabilities of a rescaled job are kept until the output is written: beside it, hidden. */
export function modelScaleStorePath(out: string): string {
  return scratchPathBeside(out, 'model-scale.zarr');
}

/**
 * The rescaled job's second step: the model-scale probabilities (an OME-Zarr store) resampled back
 * to the input's grid chunk by chunk, exactly as segmentImage resamples them in memory, then
 * thresholded or quantized as the sink takes them. Chunks already complete are skipped.
 */
async function writeBackToInputGrid(store: string, sink: VolumeSink, output: VolumeOutput, threshold: number, onChunk: (done: number, todo: number) => void): Promise<number> {
  const probabilities = await openVolume(store);
  const back = resampledVolume(probabilities, sink.width, sink.height);
  try {
    const todo: ChunkIndex[] = [];
    for (const chunk of allChunks(sink)) if (!(await sink.isChunkComplete(chunk))) todo.push(chunk);
    for (const [i, chunk] of todo.entries()) {
      const box = chunkBox(sink, chunk);
      const probability = (await back.readRegion(chunk.z, box)) as GreyImage<Float32Array>;
      await sink.writeChunk(chunk, encodeVolumeChunk(probability, output, threshold, sink.sampleType));
      onChunk(i + 1, todo.length);
    }
    return todo.length;
  } finally {
    await back.close();
  }
}

/** Segments a large `input` into `out` (see the module comment). */
export async function predictLarge(input: string, out: string, model: PredictModel, options: LargePredictOptions = {}): Promise<LargePredictResult> {
  const output = options.output ?? 'mask';
  if (output === 'overlay') {
    throw new EmsegError('E_BAD_ARGUMENT', `--output overlay: an overlay is an RGB picture of a small image; for large images use --output mask, probability or labels`);
  }
  checkLargeCellTable(output, options.cells);
  const cellsWanted = output === 'labels';
  const shard = options.shard ?? WHOLE_JOB;
  const outputFormat = volumeOutputFormat(out);
  if (!outputFormat) {
    throw new EmsegError('E_BAD_ARGUMENT', `-o ${out}: a large image is written as OME-Zarr (.zarr, .ome.zarr) or tiled BigTIFF (.tif, .tiff)`);
  }
  const zarr = outputFormat === 'ome-zarr';
  if (!zarr && (shard.count > 1 || options.finalize)) {
    throw new EmsegError('E_BAD_ARGUMENT', `-o ${out}: --shard and --finalize write one shared OME-Zarr store; use an output ending in .zarr or .ome.zarr`);
  }
  if (resolve(input) === resolve(out)) throw new EmsegError('E_OUTPUT_EXISTS', `-o ${out}: is the input; refusing to overwrite it`);
  const fromCard = segmentOptionsFromCard(model.card, {
    ...(options.threshold !== undefined ? { threshold: validateThreshold(options.threshold, '--threshold') } : {}),
    ...(options.tta !== undefined ? { tta: options.tta } : {}),
    ...(options.tile !== undefined ? { tile: options.tile } : {}),
    ...(options.halo !== undefined ? { halo: options.halo } : {}),
    ...(options.tileBatch !== undefined ? { tileBatch: options.tileBatch } : {}),
  });
  const tiling = resolveTilingOptions(fromCard); // bad --tile / --halo fail before the input is opened
  const threshold = fromCard.threshold!;
  const tta = fromCard.tta === true;
  const sampleType: VolumeSampleType = output === 'mask' ? 'uint8' : output === 'labels' ? 'uint32' : options.probabilityType ?? 'float32';
  const chunkSize = options.chunkSize ?? 512;
  const cellParams = cellsWanted ? cellParamsFrom(model.card.cells, options.cellParams) : undefined;
  if (cellParams && cellParams.chunkSize % chunkSize !== 0) {
    throw new EmsegError('E_BAD_ARGUMENT', `cell parameters: chunkSize: expected a multiple of the output chunk size ${chunkSize}, found ${cellParams.chunkSize}`);
  }
  if (options.cells !== undefined) {
    if (resolve(options.cells) === resolve(out)) throw new EmsegError('E_BAD_ARGUMENT', `--cells ${options.cells}: is also the output (-o); give the table its own file`);
    await assertNotAnInput(options.cells, [input]);
    if (!options.force && !options.finalize && (await stat(options.cells).then(() => true, () => false))) {
      throw new EmsegError('E_OUTPUT_EXISTS', `--cells ${options.cells}: exists; pass --force to replace it, or choose another file`);
    }
  }

  if (options.level && !(await stat(input).then((info) => info.isDirectory(), () => false))) {
    throw new EmsegError('E_BAD_ARGUMENT', `--level ${options.level}: only an OME-Zarr input has resolution levels; ${input} is a file`);
  }
  if (!zarr && !options.force && !options.finalize && (await stat(out).then(() => true, () => false))) {
    throw new EmsegError('E_OUTPUT_EXISTS', `-o ${out}: exists; pass --force to replace it, or choose another -o`);
  }
  const source = await openVolume(input, options.level ? { level: options.level } : {});
  let sink: VolumeSink | undefined;
  let spill: FileTileSpill | undefined;
  let failed = false;
  // A full disk, a read-only or forbidden folder, a folder removed while writing: one line naming
  // what stays for a resume (node/write-failure.ts), never a stack trace.
  const writeFailure = (error: unknown) =>
    asWriteFailure(error, out, sink || (error as NodeJS.ErrnoException).code === 'ENOENT' ? keptForResume(error, out, zarr) : undefined);
  try {
    const pixelSize = choosePixelSize({ override: options.pixelSize, stated: source.pixelSize, trainingPixelSize: trainingPixelSizeOf(model.card), name: input });
    const rescale = pixelSize.scale !== 1;
    if (rescale && (shard.count > 1 || options.finalize)) {
      throw new EmsegError('E_UNSUPPORTED', `${input}: ${pixelSize.line}; a rescaled job runs in one process (--shard and --finalize are not supported with rescaling yet): run it without --shard, or with --pixel-size equal to the model's to segment it as it is`);
    }
    // What decides the output's pixels: a store holding another job's output is refused.
    const job = {
      command: 'emseg predict',
      input: resolve(input),
      inputShape: [source.depth, source.height, source.width],
      ...(options.level ? { level: options.level } : {}),
      model: { name: model.card.name, version: model.card.version, sha256: options.modelSha256 ?? model.card.sha256 ?? null },
      output,
      sampleType,
      ...(output === 'mask' ? { threshold } : {}),
      ...(output === 'labels' ? { cells: cellParams } : {}),
      tta,
      tile: tiling.tile,
      halo: tiling.halo,
      blending: tiling.blending,
      ...(options.invert ? { invert: true } : {}),
      ...(rescale ? { pixelSize: pixelSize.pixelSize, trainingPixelSize: trainingPixelSizeOf(model.card) } : {}),
    };
    const outputSize = outputPixelSize(pixelSize, source.pixelSize);
    const geometry = {
      width: source.width,
      height: source.height,
      depth: source.depth,
      chunkSize,
      sampleType,
      kind: output,
      job,
      inputs: [input],
      ...(outputSize ? { pixelSize: outputSize } : {}),
    };
    sink = await openVolumeSink(out, geometry);
    const base = { input, output: out, width: source.width, height: source.height, depth: source.depth };
    const labelsJob = (segmentOptions: SegmentVolumeOptions): LargeLabelsJob => ({
      input, out, source, sink: sink!, job, params: cellParams!, shard, finalize: options.finalize === true, predictor: model.predictor, segmentOptions,
      ...(options.cells !== undefined ? { table: { path: options.cells, pixelSize: pixelSize.pixelSize } } : {}),
      ...(options.onNotice ? { onNotice: options.onNotice } : {}),
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    });
    if (options.finalize && output === 'labels') {
      const result = await predictLargeLabels(labelsJob(fromCard));
      return { ...base, ...result, chunks: [...allChunks(sink)].length };
    }
    if (options.finalize) {
      await sink.finalize(); // refuses a store with chunks missing, naming the first
      const chunks = [...allChunks(sink)].length;
      return { ...base, chunks, chunksWritten: 0, chunksSkipped: chunks, tilesPredicted: 0, finalized: true, chunksMissing: 0 };
    }
    // Said once the job is accepted (a refused store or bad option gives its one line alone).
    options.onNotice?.(pixelSize.line, 'info');
    const polarity = checkPolarity([await centralRegion(source)], input, { invert: options.invert === true });
    if (polarity.warning) options.onNotice?.(polarity.warning, 'warning');
    // The tiles on a stripe's border wait in files beside the output until the next stripe (node/tile-spill.ts).
    spill = await openTileSpill(out);
    const segmentOptions = {
      ...fromCard,
      tileSpill: spill,
      ...(options.stripeWidth !== undefined ? { stripeWidth: options.stripeWidth } : {}),
      invert: options.invert === true,
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    };
    if (rescale) {
      // Two steps, each resumable: the model-scale probabilities into a hidden store beside the
      // output (the input resampled on the fly, core/resampled-volume.ts), then back to the input's
      // grid into the output; the store is removed at the end.
      const store = modelScaleStorePath(out);
      const modelSource = resampledVolume(source, scaledSize(source.width, pixelSize.scale), scaledSize(source.height, pixelSize.scale));
      const modelSink = await openVolumeSink(store, {
        width: modelSource.width, height: modelSource.height, depth: source.depth, chunkSize: geometry.chunkSize,
        sampleType: 'float32', kind: 'probability', job: { ...job, step: 'model-scale probabilities' }, inputs: [input], levels: 0,
      });
      let first;
      try {
        first = await segmentVolume(modelSource, modelSink, model.predictor, { ...segmentOptions, output: 'probability' });
        await modelSink.finalize();
      } finally {
        await modelSink.close();
      }
      const tiles = first.tilesPredicted;
      if (output === 'labels') {
        // The cells are labelled on the input's grid, from the probabilities resampled back to it.
        const back = resampledVolume(await openVolume(store), sink.width, sink.height);
        let result;
        try {
          result = await predictLargeLabels({ ...labelsJob(segmentOptions), rescaled: { probability: back, tilesPredicted: tiles } });
        } finally {
          await back.close();
        }
        await rm(store, { recursive: true, force: true });
        return { ...base, ...result, chunks: [...allChunks(sink)].length };
      }
      const written = await writeBackToInputGrid(store, sink, output, threshold, (chunksDone, chunks) =>
        options.onProgress?.({ tilesDone: tiles, tiles, chunksDone, chunks, chunksSkipped: 0 }));
      await sink.finalize();
      await rm(store, { recursive: true, force: true });
      const chunks = [...allChunks(sink)].length;
      return { ...base, chunks, chunksWritten: written, chunksSkipped: chunks - written, tilesPredicted: tiles, finalized: true, chunksMissing: 0 };
    }
    if (output === 'labels') {
      const result = await predictLargeLabels(labelsJob(segmentOptions));
      return { ...base, ...result };
    }
    const result = await segmentVolume(source, sink, model.predictor, { ...segmentOptions, output, shard });
    // The last shard to finish (or the only process) writes the final levels and metadata.
    const chunksMissing = shard.count === 1 ? 0 : await countMissingChunks(sink);
    if (chunksMissing === 0) await sink.finalize();
    return { ...base, ...result, finalized: chunksMissing === 0, chunksMissing };
  } catch (error) {
    failed = true;
    throw writeFailure(error);
  } finally {
    // Closing after a failed write may fail too (a journal that cannot be flushed): the first error is the one to report.
    // nothing in the spill is needed again; a folder that cannot be removed must not hide the job's own error
    await spill?.close().catch(() => {});
    await sink?.close().catch((error: unknown) => {
      if (!failed) throw writeFailure(error);
    });
    await source.close();
  }
}

/** What a failed large prediction leaves for a resume, in words. */
function keptForResume(error: unknown, out: string, zarr: boolean): string {
  if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'what was written so far is gone with it; run the same command again to start over';
  if (zarr) return `the chunks written so far stay in ${out}; fix the cause and run the same command again to resume`;
  const hidden = join(dirname(out), `.${basename(out)}`);
  return `the tiles written so far stay in ${hidden}.partial and ${hidden}.journal; fix the cause and run the same command again to resume`;
}
