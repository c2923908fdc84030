/**
 * One segmentation request, from uploaded bytes to encoded answer, in three steps the handler
 * calls in order:
 *
 * 1. `inspectUpload`: reads the header only (core/image-probe.ts), enforces the size limits and
 *    settles the output format, before any slot is taken or any pixel decoded;
 * 2. `segmentUpload`: decodes, runs the inference core on every page (core/inference.ts, through
 *    the request's predictor, i.e. the shared dynamic batcher) and encodes the answer;
 * 3. the handler sends the bytes with the content type and timings returned.
 *
 * Which inputs are accepted (see serve/README.md, "Inputs"): PNG, JPEG, TIFF (one or many pages);
 * grey, grey+alpha, RGB and RGBA (converted to grey with BT.601 weights by the decoder); 8-bit,
 * 16-bit and float32 samples (the contract normalizes every slice to zero mean and unit variance,
 * so the bit depth does not change the prediction of the same picture).
 */
import { EmsegError } from '../core/errors.ts';
import type { ImageStack } from '../core/image.ts';
import { trainingPixelSizeOf, type ModelCard } from '../core/contract.ts';
import { pixelScale } from '../core/pixel-size.ts';
import { probeImage } from '../core/image-probe.ts';
import { segmentImage, type Segmentation } from '../core/inference.ts';
import type { TilePredictor } from '../core/tiling.ts';
import { MEMBRANE_OVERLAY, overlayMask } from '../core/overlay.ts';
import { encodeTiff } from '../core/tiff.ts';
import { decodeImageBytes } from '../node/image-files.ts';
import { encodePng } from '../node/png.ts';
import { checkImageLimits, type ImageLimits } from './limits.ts';
import type { SegmentQuery } from './openapi.ts';

export type OutputKind = 'mask' | 'probability' | 'overlay';
export type OutputFormat = 'png' | 'tiff';

export interface UploadPlan {
  name: string;
  format: string;
  width: number;
  height: number;
  pages: number;
  output: OutputKind;
  outputFormat: OutputFormat;
  threshold: number | undefined;
  tta: boolean | undefined;
  /** Pixel size of the upload in nm (core/pixel-size.ts), undefined = no rescaling. */
  pixelSize?: number | undefined;
}

const CONTENT_TYPES: Record<OutputFormat, string> = { png: 'image/png', tiff: 'image/tiff' };

function parseTta(value: SegmentQuery['tta']): boolean | undefined {
  if (value === undefined) return undefined;
  return value === 'true' || value === '1';
}

/**
 * Checks an upload from its header: known format, limits, and an output/format combination that
 * can hold the answer. Throws EmsegErrors (415/422 for the bytes, 413 for limits, 400 for the query).
 */
export function inspectUpload(bytes: Uint8Array, name: string, query: SegmentQuery, limits: ImageLimits): UploadPlan {
  if (bytes.length === 0) throw new EmsegError('E_BAD_ARGUMENT', `${name}: the request body is empty; send the image bytes`);
  const probe = probeImage(bytes, name);
  checkImageLimits(probe, limits, name);
  const output = query.output;
  const isTiff = probe.format === 'tiff';
  if (output === 'overlay' && (probe.pages > 1 || query.format === 'tiff')) {
    throw new EmsegError(
      'E_BAD_ARGUMENT',
      `output: overlay is one RGB PNG picture of one page, but ${name} has ${probe.pages} page(s) and format=${query.format ?? 'png'} was asked; ask for output=mask or send one page`,
    );
  }
  const outputFormat: OutputFormat =
    query.format ?? (output !== 'overlay' && (isTiff || output === 'probability' || probe.pages > 1) ? 'tiff' : 'png');
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
    tta: parseTta(query.tta),
    pixelSize: query.pixelSize,
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
}

export interface SegmentDeps {
  /** The predictor of this request (the batcher bound to the request's signal). */
  predictor: TilePredictor;
  card: ModelCard;
  signal?: AbortSignal;
  /** Pages of a stack segmented at the same time. Default 4. */
  pagesAtOnce?: number;
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
  const stack: ImageStack = await decodeImageBytes(bytes, plan.name);
  const decodeMs = lap();
  deps.signal?.throwIfAborted();

  const threshold = plan.threshold ?? deps.card.threshold;
  const tta = plan.tta ?? deps.card.tta ?? false;
  const scale = plan.pixelSize === undefined ? 1 : pixelScale(plan.pixelSize, trainingPixelSizeOf(deps.card), `the card of ${deps.card.name}`);
  // Several pages at once, so that their tiles meet in the batcher and fill its session calls.
  const results: Segmentation[] = new Array(stack.pages.length);
  let next = 0;
  const worker = async () => {
    while (next < stack.pages.length) {
      const index = next++;
      deps.signal?.throwIfAborted();
      results[index] = await segmentImage(stack.pages[index]!, deps.predictor, {
        threshold,
        tta,
        tile: deps.card.tile,
        halo: deps.card.halo,
        sizeMultiple: deps.card.contract.input.sizeMultiple,
        scale,
        ...(deps.signal ? { signal: deps.signal } : {}),
      });
    }
  };
  await Promise.all(Array.from({ length: Math.min(deps.pagesAtOnce ?? 4, stack.pages.length) }, worker));
  const inferMs = lap();

  let body: Uint8Array;
  if (plan.output === 'mask') {
    const pages = results.map((result) => result.mask);
    body = plan.outputFormat === 'png' ? await encodePng(pages[0]!) : encodeTiff({ width: stack.width, height: stack.height, pages });
  } else if (plan.output === 'probability') {
    const pages = results.map((result) => result.probability);
    body =
      plan.outputFormat === 'png'
        ? await encodePng(quantizeProbability(pages[0]!))
        : encodeTiff({ width: stack.width, height: stack.height, pages });
  } else {
    body = await encodePng(overlayMask(stack.pages[0]!, results[0]!.mask, MEMBRANE_OVERLAY));
  }
  const encodeMs = lap();
  return { body, contentType: CONTENT_TYPES[plan.outputFormat], pages: stack.pages.length, timings: { decodeMs, inferMs, encodeMs } };
}

/** A probability map as 8-bit (round(p * 255)) for format=png. */
function quantizeProbability(image: { width: number; height: number; data: Float32Array }) {
  const data = new Uint8Array(image.data.length);
  for (let i = 0; i < data.length; i += 1) data[i] = Math.round(image.data[i]! * 255);
  return { width: image.width, height: image.height, data };
}
