/**
 * One segmentation request, from uploaded bytes to encoded answer, in three steps the handler
 * calls in order:
 *
 * 1. `inspectUpload`: reads the header only (core/image-probe.ts), enforces the size limits (on
 *    the upload and on the image the model sees after `pixelSize` rescaling) and settles the
 *    output format, before any slot is taken or any pixel decoded;
 * 2. `segmentUpload`: decodes, runs core/inference.ts's segmentStack on every page (through the
 *    request's predictor, i.e. the shared dynamic batcher) and encodes the answer the same way
 *    `emseg predict` does (node/encode-segmentation.ts; for `labels` and `cells`, the instance
 *    labels of core/cells with the card's cell parameters, node/encode-cells.ts);
 * 3. the handler sends the bytes with the content type and timings returned.
 *
 * Which inputs are accepted (see serve/README.md, "Inputs"): PNG, JPEG, TIFF (one or many pages);
 * grey, grey+alpha, RGB and RGBA (converted to grey with BT.601 weights by the decoder); 8-bit,
 * 16-bit and float32 samples (the contract normalizes every slice to zero mean and unit variance,
 * so the bit depth does not change the prediction of the same picture).
 */
import { EmsegError } from '../core/errors.ts';
import type { ImageStack } from '../core/image.ts';
import type { ModelCard } from '../core/contract.ts';
import { probeImage } from '../core/image-probe.ts';
import { segmentOptionsFromCard, trainingPixelSizeOf } from '../core/card-options.ts';
import { checkPolarity } from '../core/contrast-polarity.ts';
import { choosePixelSize, outputPixelSize, scaledSize, segmentationPixelScale } from '../core/pixel-size.ts';
import { segmentStack } from '../core/inference.ts';
import { defaultOutputFormat, type ServedFormat, type ServedOutputKind } from '../core/segmentation-output.ts';
import { cellParamsFrom } from '../core/cells/cell-params.ts';
import { labelStackCells } from '../core/cells/stack-cells.ts';
import type { TilePredictor } from '../core/tiling.ts';
import { decodeImageBytes } from '../node/image-files.ts';
import { CONTENT_TYPES, encodeSegmentation } from '../node/encode-segmentation.ts';
import { encodeCellTable, encodeLabels, TABLE_CONTENT_TYPES } from '../node/encode-cells.ts';
import { checkImageLimits, type ImageLimits } from './limits.ts';
import type { SegmentQuery } from './openapi.ts';


export interface UploadPlan {
  name: string;
  format: string;
  width: number;
  height: number;
  pages: number;
  output: ServedOutputKind;
  outputFormat: ServedFormat;
  threshold: number | undefined;
  tta: boolean | undefined;
  /** Pixels of all pages as the header declares them (the decode work budget is derived from it). */
  declaredPixels: number;
  /** Pixel size of the upload in nm (core/pixel-size.ts), undefined = the one the file states, else none. */
  pixelSize?: number | undefined;
  /** The size of a page as the model sees it (after rescaling to the card's pixel size given in the query). */
  workWidth: number;
  workHeight: number;
  /** Invert the contrast before the model sees the image. */
  invert: boolean;
  /** Link the cells of consecutive pages into 3D objects with this minimum overlap (output=labels or cells); undefined = not linked. */
  linkSections?: number | undefined;
}

function parseFlag(value: SegmentQuery['tta']): boolean | undefined {
  if (value === undefined) return undefined;
  return value === 'true' || value === '1';
}

/**
 * Checks an upload from its header: known format, limits, and an output/format combination that
 * can hold the answer. Throws EmsegErrors (415/422 for the bytes, 413 for limits, 400 for the query).
 */
export function inspectUpload(bytes: Uint8Array, name: string, query: SegmentQuery, limits: ImageLimits, card: ModelCard): UploadPlan {
  if (bytes.length === 0) throw new EmsegError('E_BAD_ARGUMENT', `${name}: the request body is empty; send the image bytes`);
  const probe = probeImage(bytes, name, { maxPages: limits.maxPages });
  checkImageLimits(probe, limits, name);
  // The model works on the rescaled image: the limits hold for it too, before anything is allocated.
  const scale = query.pixelSize === undefined ? 1 : segmentationPixelScale(query.pixelSize, trainingPixelSizeOf(card), `the card of ${card.name}`, 'pixelSize');
  const work = { width: scaledSize(probe.width, scale), height: scaledSize(probe.height, scale), pages: probe.pages };
  if (scale !== 1) checkImageLimits(work, limits, `${name} rescaled from ${query.pixelSize} nm to the model's ${trainingPixelSizeOf(card)} nm (${work.width}x${work.height})`);
  const output = query.output;
  const isTiff = probe.format === 'tiff';
  if (output === 'overlay' && (probe.pages > 1 || query.format === 'tiff')) {
    throw new EmsegError(
      'E_BAD_ARGUMENT',
      `output: overlay is one RGB PNG picture of one page, but ${name} has ${probe.pages} page(s) and format=${query.format ?? 'png'} was asked; ask for output=mask or send one page`,
    );
  }
  const outputFormat = query.format ?? (output === 'cells' ? 'json' : defaultOutputFormat(output, { tiff: isTiff, pages: probe.pages }));
  const isTable = outputFormat === 'json' || outputFormat === 'csv';
  if ((output === 'cells') !== isTable) {
    throw new EmsegError(
      'E_BAD_ARGUMENT',
      output === 'cells'
        ? `format: output=cells is a table, json (the default) or csv, not ${outputFormat}; ask for output=labels for the label image`
        : `format: ${outputFormat} is for output=cells (the cell table), but output=${output} is an image; use format=png or format=tiff`,
    );
  }
  if (query.linkSections !== undefined && output !== 'labels' && output !== 'cells') {
    throw new EmsegError('E_BAD_ARGUMENT', `linkSections: links cells across pages; ask for output=labels or output=cells, not output=${output}`);
  }
  if (outputFormat === 'png' && probe.pages > 1) {
    throw new EmsegError(
      'E_BAD_ARGUMENT',
      `format: png holds one page but ${name} has ${probe.pages} pages; use format=tiff (the default for stacks)`,
    );
  }
  return {
    name,
    format: probe.format,
    width: probe.width,
    height: probe.height,
    pages: probe.pages,
    output,
    outputFormat,
    threshold: query.threshold,
    tta: parseFlag(query.tta),
    invert: parseFlag(query.invert) === true,
    linkSections: query.linkSections,
    declaredPixels: probe.totalPixels,
    pixelSize: query.pixelSize,
    workWidth: work.width,
    workHeight: work.height,
  };
}

export interface SegmentTimings {
  decodeMs: number;
  inferMs: number;
  encodeMs: number;
}

export interface SegmentAnswer {
  body: Uint8Array;
  contentType: string;
  pages: number;
  timings: SegmentTimings;
  /** Which pixel size was used and from where (core/pixel-size.ts choosePixelSize), for the X-Emseg-Pixel-Size header. */
  pixelSizeLine: string;
  /** A contrast that looks inverted (core/contrast-polarity.ts), for the X-Emseg-Warning header. */
  warning: string | undefined;
}

export interface SegmentDeps {
  /** The predictor of this request (the batcher bound to the request's signal). */
  predictor: TilePredictor;
  card: ModelCard;
  signal?: AbortSignal;
  /** Pages of a stack segmented at the same time. Default 4. */
  pagesAtOnce?: number;
  /**
   * The pixel limits, applied again to the image the model sees when the file's own pixel size
   * rescales it (the query's pixelSize was checked from the header, before decoding). Default none.
   */
  limits?: ImageLimits;
  /** Decodes the upload (the server's decode pool). Default: node/image-files.ts in this thread. */
  decode?: (bytes: Uint8Array, plan: UploadPlan, signal: AbortSignal | undefined) => Promise<ImageStack>;
}

/** Decodes, segments every page and encodes the answer the plan asks for. */
export async function segmentUpload(bytes: Uint8Array, plan: UploadPlan, deps: SegmentDeps): Promise<SegmentAnswer> {
  let mark = performance.now();
  const lap = () => {
    const now = performance.now();
    const elapsed = now - mark;
    mark = now;
    return elapsed;
  };
  const stack: ImageStack = deps.decode ? await deps.decode(bytes, plan, deps.signal) : await decodeImageBytes(bytes, plan.name);
  const decodeMs = lap();
  deps.signal?.throwIfAborted();

  // The query's pixelSize, else the file's (an upload's own calibration), else none; the same rule as emseg predict.
  const pixelSize = choosePixelSize({ override: plan.pixelSize, stated: stack.pixelSize, trainingPixelSize: trainingPixelSizeOf(deps.card), name: plan.name, option: 'pixelSize' });
  if (deps.limits && pixelSize.source === 'file' && pixelSize.scale !== 1) {
    const work = { width: scaledSize(stack.width, pixelSize.scale), height: scaledSize(stack.height, pixelSize.scale), pages: stack.pages.length };
    checkImageLimits(work, deps.limits, `${plan.name} rescaled from the ${pixelSize.pixelSize} nm it states to the model's ${trainingPixelSizeOf(deps.card)} nm (${work.width}x${work.height}; pixelSize=<nm> overrides)`);
  }
  const polarity = checkPolarity(stack.pages, plan.name, { invert: plan.invert, option: 'invert=true' });
  // Several pages at once, so that their tiles meet in the batcher and fill its session calls.
  const result = await segmentStack(stack, deps.predictor, {
    ...segmentOptionsFromCard(deps.card, { threshold: plan.threshold, tta: plan.tta, signal: deps.signal, pixelSize: plan.pixelSize, invert: plan.invert }),
    scale: pixelSize.scale,
    pagesAtOnce: deps.pagesAtOnce ?? 4,
  });
  const inferMs = lap();
  // zlib level 1: an answer's PNG is written for one client, once; its encoding is on every request's latency.
  const statedPixelSize = outputPixelSize(pixelSize, stack.pixelSize);
  let body: Uint8Array;
  if (plan.output === 'labels' || plan.output === 'cells') {
    // Instance labels of the probability with the card's cell parameters, as `emseg predict --output labels --cells` makes them.
    const found = labelStackCells(result.probability, cellParamsFrom(deps.card.cells), { linkSections: plan.linkSections });
    deps.signal?.throwIfAborted();
    body =
      plan.outputFormat === 'json' || plan.outputFormat === 'csv'
        ? encodeCellTable({ image: plan.name, cells: found.cells, pixelSize: pixelSize.pixelSize }, plan.outputFormat, { linked: plan.linkSections !== undefined })
        : await encodeLabels(found, plan.outputFormat, plan.name, { compressionLevel: 1, pixelSize: statedPixelSize });
  } else {
    if (plan.outputFormat === 'json' || plan.outputFormat === 'csv') throw new RangeError(`plan.outputFormat: expected png or tiff for output=${plan.output}, found ${plan.outputFormat}`);
    body = await encodeSegmentation(stack, result, plan.output, plan.outputFormat, plan.name, { pngCompressionLevel: 1, pixelSize: statedPixelSize });
  }
  const encodeMs = lap();
  return {
    body,
    contentType: plan.outputFormat === 'json' || plan.outputFormat === 'csv' ? TABLE_CONTENT_TYPES[plan.outputFormat] : CONTENT_TYPES[plan.outputFormat],
    pages: stack.pages.length,
    timings: { decodeMs, inferMs, encodeMs },
    pixelSizeLine: pixelSize.line,
    warning: polarity.warning,
  };
}
