/**
 * `emseg predict` as an importable function: segments image files (PNG, JPEG, single- and
 * multi-page TIFF) or every image in a folder with a loaded model, and writes masks, probability
 * maps or overlays. The CLI (cli/commands/predict.ts) only parses arguments and draws the progress.
 *
 * Where outputs go (`out`):
 * - one input file and `out` ending in .png, .tif or .tiff: that file (its extension sets the format);
 * - otherwise `out` is a folder (created if needed) and each input `<stem>.<ext>` gives
 *   `<out>/<stem>-<output>.<png|tif>`, e.g. `slice-07-mask.png`.
 * Formats: mask PNG (one page) or TIFF (any pages; the default for stacks and TIFF inputs);
 * probability float32 TIFF (or 8-bit PNG, round(p * 255), when asked); overlay RGB PNG of one page;
 * labels uint32 TIFF of instance labels, and with `cells` a CSV table of the cells (predict/predict-cells.ts);
 * with `linkSections` the cells of each stack's pages are linked into 3D objects.
 *
 * Safety: every output path is checked against every input before anything runs (an output that
 * is, or links to, an input is refused with E_OUTPUT_EXISTS), and an output that exists already is
 * refused unless `force` (E_OUTPUT_EXISTS); outputs are written atomically
 * (temp file + rename, node/atomic-write.ts). With a folder, a file that cannot be read is reported
 * and the others still run; the call then throws one EmsegError naming every file that failed.
 */
import { readdir, stat } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import type { ModelCard } from '../core/contract.ts';
import { EmsegError, isEmsegError, type EmsegErrorCode } from '../core/errors.ts';
import { segmentOptionsFromCard, trainingPixelSizeOf } from '../core/card-options.ts';
import { checkPolarity } from '../core/contrast-polarity.ts';
import { choosePixelSize, outputPixelSize } from '../core/pixel-size.ts';
import { segmentStack, type StackProgress } from '../core/inference.ts';
import { OUTPUT_FORMATS, PREDICT_OUTPUT_KINDS, defaultOutputFormat, type OutputFormat, type PredictOutputKind } from '../core/segmentation-output.ts';
import type { CellParams } from '../core/cells/cell-params.ts';
import { isMinOverlap } from '../core/cells/section-links.ts';
import { validateThreshold } from '../core/threshold.ts';
import { resolveTilingOptions, type TilePredictor } from '../core/tiling.ts';
import { assertNotAnInput, writeFileAtomic } from '../node/atomic-write.ts';
import { refuseExistingOutputs } from '../node/existing-outputs.ts';
import { asWriteFailure } from '../node/write-failure.ts';
import { createBatchingPredictor } from '../core/tile-batcher.ts';
import { readImageFile } from '../node/image-files.ts';
import { encodeSegmentation } from '../node/encode-segmentation.ts';
import { CellCollector, encodeCellLabels } from './predict-cells.ts';

/** File extensions read from a folder (case-insensitive). */
export const INPUT_EXTENSIONS = ['.png', '.jpg', '.jpeg', '.tif', '.tiff'];

/** What predict needs of a model: node/load-onnx-model.ts's loadOnnxModel result fits. */
export interface PredictModel {
  predictor: TilePredictor;
  card: ModelCard;
}

export interface PredictOptions {
  /** What to write. Default 'mask'. */
  output?: PredictOutputKind;
  /** Also write a CSV table of the cells of every input here (predict/predict-cells.ts). Default: none. */
  cells?: string;
  /** Cell parameters over the model card's (core/cells/cell-params.ts), for `labels` and `cells`. */
  cellParams?: Partial<CellParams>;
  /**
   * Link the cells of each stack's consecutive pages into 3D objects (core/cells/section-links.ts):
   * the minimum overlap of a link, a fraction of the smaller cell's area in (0, 1]. Needs `labels`
   * or `cells`. Default: not linked (labels numbered per page).
   */
  linkSections?: number;
  /** Output format. Default: the extension of `out` when it names a file; else png for a one-page mask or overlay, tiff otherwise. */
  format?: OutputFormat;
  /** Mask threshold 0..1. Default the model card's. */
  threshold?: number;
  /** 8-fold flip/rotation test-time augmentation. Default the model card's `tta`, else false. */
  tta?: boolean;
  /** Tile size and halo. Default the model card's (512 and 32 by the contract). */
  tile?: number;
  halo?: number;
  /** Tiles per model call. Default 4. */
  tileBatch?: number;
  /**
   * Pixel size of the inputs in nm; rescaled to the card's trainingPixelSize and back. Default: the
   * size each file states (TIFF resolution tags, ImageJ, OME-XML; core/pixel-size.ts
   * choosePixelSize), else no rescaling.
   */
  pixelSize?: number;
  /** Invert the contrast (bright membranes) before the model sees the images. Default false. */
  invert?: boolean;
  /** Replace outputs that exist already. Default false: an existing output is refused before anything runs. */
  force?: boolean;
  /** One line per file: which pixel size was used and from where ('info'), a contrast that looks inverted ('warning'). */
  onNotice?: (line: string, kind: 'info' | 'warning') => void;
  /**
   * Pages of a stack segmented at the same time, their tiles merged into shared model calls of at
   * most `tileBatch` tiles (core/tile-batcher.ts). Default: `tileBatch`. 1 turns merging off.
   */
  pagesAtOnce?: number;
  /** Called after every model call and every page. */
  onProgress?: (progress: PredictProgress) => void;
  /** Called when a file's output has been written. */
  onFile?: (file: PredictedFile) => void;
  signal?: AbortSignal;
}

export interface PredictProgress extends StackProgress {
  /** The file being segmented, its index, and the number of files. */
  file: string;
  fileIndex: number;
  files: number;
}

export interface PredictedFile {
  input: string;
  output: string;
  pages: number;
  width: number;
  height: number;
  /** Fraction of mask pixels that are cell interior (255), over all pages. */
  foreground: number;
}

export interface PredictFailure {
  input: string;
  code: EmsegErrorCode;
  message: string;
}

export interface PredictResult {
  files: PredictedFile[];
}

const TIFF_EXTENSIONS = ['.tif', '.tiff'];
/** Image extensions `-o` may carry by mistake: refused rather than taken as a folder name. */
const UNWRITABLE_EXTENSIONS = ['.jpg', '.jpeg', '.bmp', '.gif', '.webp'];

function formatOfPath(path: string): OutputFormat | undefined {
  const ext = extname(path).toLowerCase();
  if (ext === '.png') return 'png';
  if (TIFF_EXTENSIONS.includes(ext)) return 'tiff';
  return undefined;
}

/** The input files: the file itself, or the images directly inside a folder, sorted by name. */
export async function listInputs(input: string): Promise<{ files: string[]; folder: boolean }> {
  let info;
  try {
    info = await stat(input);
  } catch {
    throw new EmsegError('E_NOT_FOUND', `${input}: no such file or folder`);
  }
  if (!info.isDirectory()) return { files: [input], folder: false };
  const names = (await readdir(input, { withFileTypes: true }))
    .filter((entry) => entry.isFile() && INPUT_EXTENSIONS.includes(extname(entry.name).toLowerCase()) && !entry.name.startsWith('.'))
    .map((entry) => entry.name)
    .sort();
  if (names.length === 0) {
    throw new EmsegError('E_NOT_FOUND', `${input}: the folder has no PNG, JPEG or TIFF files (${INPUT_EXTENSIONS.join(' ')})`);
  }
  return { files: names.map((name) => join(input, name)), folder: true };
}

/** Where each input's output goes. */
export function planOutputs(inputs: readonly string[], folderInput: boolean, out: string, output: PredictOutputKind, format?: OutputFormat): string[] {
  const outFormat = formatOfPath(out);
  const outExt = extname(out).toLowerCase();
  if (!outFormat && UNWRITABLE_EXTENSIONS.includes(outExt)) {
    throw new EmsegError('E_BAD_ARGUMENT', `-o ${out}: predict writes PNG or TIFF (.png, .tif, .tiff), not ${outExt}; JPEG would blur a mask, use .png`);
  }
  if (outFormat && !folderInput && inputs.length === 1) {
    if (format && format !== outFormat) {
      throw new EmsegError('E_BAD_ARGUMENT', `--format ${format} does not match the output file ${out} (${outFormat}); change one of them`);
    }
    return [out];
  }
  if (outFormat && folderInput) {
    throw new EmsegError('E_BAD_ARGUMENT', `-o ${out}: looks like a file, but the input is a folder; give an output folder`);
  }
  return inputs.map((input) => {
    const stem = basename(input, extname(input));
    const inputIsTiff = TIFF_EXTENSIONS.includes(extname(input).toLowerCase());
    // overlay: always PNG; otherwise as asked, else the default rule (core/segmentation-output.ts).
    const chosen: OutputFormat = output === 'overlay' ? 'png' : format ?? defaultOutputFormat(output, { tiff: inputIsTiff, pages: 1 });
    return join(out, `${stem}-${output}.${chosen === 'tiff' ? 'tif' : 'png'}`);
  });
}

/** Writes atomically; file-system errors become one-line EmsegErrors naming the path (node/write-failure.ts). */
async function writeOutput(target: string, bytes: Uint8Array, inputs: readonly string[]): Promise<void> {
  try {
    await writeFileAtomic(target, bytes, { inputs });
  } catch (error) {
    if (isEmsegError(error)) throw error;
    const failure = asWriteFailure(error, target, 'nothing of it was written (outputs appear whole or not at all; an older file there is unchanged)');
    if (failure !== error) throw failure;
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    throw new EmsegError('E_WRITE_FAILED', `${target}: cannot be written (${code}: ${(error as Error).message.split('\n')[0]})`, { cause: error });
  }
}

function resolveFormat(output: PredictOutputKind, requested: OutputFormat | undefined, path: string, input: string, pages: number): OutputFormat {
  return formatOfPath(path) ?? requested ?? defaultOutputFormat(output, { tiff: formatOfPath(input) === 'tiff', pages });
}

export interface PredictionPlan {
  files: string[];
  folder: boolean;
  /** Output path of each file, in the same order. */
  outputs: string[];
}

/** `--link-sections`: a fraction in (0, 1], and cells to link (`--output labels` or `--cells`). */
function checkLinkSections(minOverlap: number, output: PredictOutputKind, cells: string | undefined): void {
  if (!isMinOverlap(minOverlap)) {
    throw new EmsegError('E_BAD_ARGUMENT', `--link-sections: expected the minimum overlap as a fraction of the smaller cell's area in (0, 1], e.g. 0.5, found ${minOverlap}`);
  }
  if (output !== 'labels' && cells === undefined) {
    throw new EmsegError('E_BAD_ARGUMENT', `--link-sections: links cells across pages; add --output labels or --cells <table.csv>`);
  }
}

/**
 * Checks the arguments and plans every output without loading a model or decoding an image: bad
 * option values, a missing input, an output that is an input, two inputs with one output. The CLI
 * calls it before loading the model, so mistakes fail at once.
 */
export async function planPrediction(input: string, out: string, options: Pick<PredictOptions, 'output' | 'format' | 'force' | 'cells' | 'linkSections'> = {}): Promise<PredictionPlan> {
  const output = options.output ?? 'mask';
  if (!PREDICT_OUTPUT_KINDS.includes(output)) {
    throw new EmsegError('E_BAD_ARGUMENT', `--output: expected one of ${PREDICT_OUTPUT_KINDS.join(', ')}, found ${JSON.stringify(output)}`);
  }
  if (options.format !== undefined && !OUTPUT_FORMATS.includes(options.format)) {
    throw new EmsegError('E_BAD_ARGUMENT', `--format: expected one of ${OUTPUT_FORMATS.join(', ')}, found ${JSON.stringify(options.format)}`);
  }
  if (output === 'overlay' && options.format === 'tiff') {
    throw new EmsegError('E_BAD_ARGUMENT', '--format tiff: an overlay is an RGB PNG; use --format png or --output mask');
  }
  if (output === 'labels' && options.format === 'png') {
    throw new EmsegError('E_BAD_ARGUMENT', '--format png: labels are a uint32 TIFF; use --format tiff or an output ending in .tif');
  }
  if (options.linkSections !== undefined) checkLinkSections(options.linkSections, output, options.cells);
  const { files, folder } = await listInputs(input);
  const outputs = planOutputs(files, folder, out, output, options.format);
  const outKind = await stat(out).then((info) => (info.isDirectory() ? 'folder' : 'file'), () => 'absent');
  const outIsFile = outputs.length === 1 && outputs[0] === out;
  if (outIsFile && outKind === 'folder') throw new EmsegError('E_BAD_ARGUMENT', `-o ${out}: is a folder, expected an output file name`);
  if (!outIsFile && outKind === 'file') throw new EmsegError('E_BAD_ARGUMENT', `-o ${out}: is a file, but the outputs go into a folder; give a folder path`);
  for (const path of outputs) await assertNotAnInput(path, files);
  if (options.cells !== undefined) {
    if (outputs.includes(options.cells)) throw new EmsegError('E_BAD_ARGUMENT', `--cells ${options.cells}: is also the output (-o); give the table its own file`);
    await assertNotAnInput(options.cells, files);
  }
  if (new Set(outputs).size !== outputs.length) {
    throw new EmsegError('E_BAD_ARGUMENT', `${input}: two inputs would write the same output (files with the same name and different extensions); move one away`);
  }
  // No run replaces a file without --force (node/existing-outputs.ts names the first and counts the rest).
  const planned = [...outputs.map((path) => ({ path, flag: '-o' })), ...(options.cells === undefined ? [] : [{ path: options.cells, flag: '--cells' }])];
  await refuseExistingOutputs(planned, options.force === true);
  return { files, folder, outputs };
}

/**
 * Segments `input` (a file or a folder of images) with `model` and writes the outputs under `out`.
 * Returns what was written; throws an EmsegError for bad arguments, or after the run when some
 * inputs failed (naming each).
 */
export async function predictPaths(input: string, out: string, model: PredictModel, options: PredictOptions = {}): Promise<PredictResult> {
  const output = options.output ?? 'mask';
  const threshold = validateThreshold(options.threshold ?? model.card.threshold, '--threshold');
  const { files, folder, outputs } = await planPrediction(input, out, options);

  const segmentOptions = segmentOptionsFromCard(model.card, {
    threshold,
    tta: options.tta,
    tile: options.tile,
    halo: options.halo,
    tileBatch: options.tileBatch,
    signal: options.signal,
    pixelSize: options.pixelSize, // a --pixel-size the card cannot use fails here, before any file is read
    invert: options.invert,
  });
  const trainingPixelSize = trainingPixelSizeOf(model.card);

  const { tileBatch } = resolveTilingOptions(segmentOptions); // bad --tile / --halo fail before any file is read
  const pagesAtOnce = options.pagesAtOnce ?? tileBatch;
  // The single tiles of several 512x512 slices share one model call (fills a GPU; on a CPU about even).
  const batching = createBatchingPredictor(model.predictor, { maxBatch: tileBatch, maxWaitMs: 5 });

  const cellsWanted = output === 'labels' || options.cells !== undefined;
  const cells = cellsWanted ? new CellCollector(model.card, options.cellParams, options.linkSections) : undefined;
  const written: PredictedFile[] = [];
  const failures: PredictFailure[] = [];
  for (const [fileIndex, file] of files.entries()) {
    const target = outputs[fileIndex]!;
    try {
      const stack = await readImageFile(file);
      const format = resolveFormat(output, options.format, target, file, stack.pages.length);
      if (output === 'overlay' && stack.pages.length > 1) {
        throw new EmsegError('E_BAD_ARGUMENT', `${file}: has ${stack.pages.length} pages, but an overlay is one RGB picture; use --output mask or probability for stacks`);
      }
      if (format === 'png' && stack.pages.length > 1) {
        throw new EmsegError('E_BAD_ARGUMENT', `${file}: has ${stack.pages.length} pages, but a PNG holds one; write a TIFF (--format tiff or an output ending in .tif)`);
      }
      const pixelSize = choosePixelSize({ override: options.pixelSize, stated: stack.pixelSize, trainingPixelSize, name: file });
      options.onNotice?.(pixelSize.line, 'info');
      const polarity = checkPolarity(stack.pages, file, { invert: options.invert === true });
      if (polarity.warning) options.onNotice?.(polarity.warning, 'warning');
      const result = await segmentStack(stack, batching.predict, {
        ...segmentOptions,
        scale: pixelSize.scale,
        pagesAtOnce,
        onProgress: (progress) => options.onProgress?.({ ...progress, file, fileIndex, files: files.length }),
      });
      const stated = outputPixelSize(pixelSize, stack.pixelSize);
      const found = cells?.add(file, result.probability, pixelSize.pixelSize);
      if (output === 'labels' && format !== 'tiff') throw new EmsegError('E_BAD_ARGUMENT', `${target}: labels are a uint32 TIFF, not ${format}`);
      const bytes = output === 'labels' ? encodeCellLabels(found!, stated) : await encodeSegmentation(stack, result, output, format, file, { pixelSize: stated });
      await writeOutput(target, bytes, files);
      let foreground = 0;
      for (const page of result.mask.pages) for (const v of page.data) if (v !== 0) foreground++;
      const done: PredictedFile = {
        input: file,
        output: target,
        pages: stack.pages.length,
        width: stack.width,
        height: stack.height,
        foreground: foreground / (stack.width * stack.height * stack.pages.length),
      };
      written.push(done);
      options.onFile?.(done);
    } catch (error) {
      if (!isEmsegError(error) || !folder) throw error;
      failures.push({ input: file, code: error.code, message: error.message });
    }
  }
  if (cells && options.cells !== undefined) await writeOutput(options.cells, new TextEncoder().encode(cells.csv()), files);
  if (failures.length > 0) {
    throw new EmsegError(
      failures[0]!.code,
      `${failures.length} of ${files.length} inputs failed (${written.length} written): ${failures.slice(0, 5).map((f) => f.message).join('; ')}${failures.length > 5 ? `; and ${failures.length - 5} more` : ''}`,
    );
  }
  return { files: written };
}
