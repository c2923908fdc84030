/**
 * Admission by estimated cost: a segmentation request is answered at once when this server cannot
 * finish its work within the request timeout, instead of holding a slot until its 503 E_TIMEOUT
 * (issue 26: a 62 KB PNG of 8000x8000 ran 120 s and timed out; four of them held every slot for
 * two minutes).
 *
 * - The work of a request is counted in model pixels: the tiles of the image as the model sees it
 *   (after `pixelSize` rescaling; core/tiling.ts's planTiles), times its pages, times 8 with TTA;
 *   plus the server's own work per image pixel (decode, normalization, blending, encoding), more
 *   for a float32 probability answer.
 * - The speed is the model's own on this server: measured at start-up (`measure`) and tracked from
 *   every completed session call of full-size tiles (small tiles are mostly per-call overhead), as
 *   seconds per model pixel. The calls of a request are counted one after the other: on the CPU a
 *   lone request runs on one session with all the cores, and side-by-side sessions each take
 *   about as much longer per call as there are of them, so the throughput is about the same
 *   (node/session-scheduler.ts); counting them as parallel admitted an 8000x8000 upload on the
 *   loaded project machine that then timed out.
 * - A request whose work alone would take longer than `share` of the timeout gets 413 E_TOO_MUCH_WORK;
 *   one that would fit alone but not behind the work already admitted gets 503 E_WORK_FULL with
 *   Retry-After. Both name the `emseg predict` command that does the same job without a time limit.
 * Until a speed is known every request is admitted.
 */
import { planTiles } from '../core/tiling.ts';
import type { ModelCard } from '../core/contract.ts';
import type { ServedOutputKind } from '../core/segmentation-output.ts';
import { LARGE_SIDE } from '../predict/predict-large.ts';
import { ProblemError } from './problem.ts';
import type { BatchReport } from '../core/tile-batcher.ts';

/** What the estimate needs of a request (serve/segment.ts's UploadPlan has it). */
export interface WorkRequest {
  /** A page as the model sees it, after rescaling. */
  workWidth: number;
  workHeight: number;
  /** A page as uploaded (decoded, and answered, at this size). */
  width: number;
  height: number;
  pages: number;
  output: ServedOutputKind;
  tta: boolean;
  threshold?: number | undefined;
  pixelSize?: number | undefined;
  /** Cells linked across pages with this minimum overlap (output=labels or cells). */
  linkSections?: number | undefined;
}

/** The server's own work per image pixel and page (decode, normalize, blend, threshold, encode), in seconds. */
export const HOST_SECONDS_PER_PIXEL = 1e-7;
/**
 * ... and how much more a float32 probability answer costs than a mask. Labels and the cell table
 * add the seeded watershed and the measurements (core/cells): 1.0-1.3 s for a 512x512 slice
 * under `nice -n 19` on the loaded 2-core project machine (load average 6.7, 2026-12-06), about
 * 20 times the mask's whole host work there; counted as 20.
 */
const OUTPUT_COST: Readonly<Record<ServedOutputKind, number>> = { mask: 1, overlay: 1.5, probability: 2, labels: 20, cells: 20 };

/** Model pixels of a request: tiles per page x tile area x pages x 8 with TTA. */
export function modelPixelsOf(request: WorkRequest, card: ModelCard): number {
  const plan = planTiles(request.workWidth, request.workHeight, { tile: card.tile, halo: card.halo, sizeMultiple: card.contract.input.sizeMultiple });
  return plan.xs.length * plan.ys.length * plan.tileWidth * plan.tileHeight * request.pages * (request.tta ? 8 : 1);
}

/**
 * The `emseg predict` command that does the job of a request without the server's time limit.
 * Labels and the cell table are made on the in-memory path only (a TIFF, not OME-Zarr).
 */
export function predictCommandFor(request: WorkRequest): string {
  const cellular = request.output === 'labels' || request.output === 'cells';
  const large = !cellular && (request.width > LARGE_SIDE || request.height > LARGE_SIDE);
  const kind = request.output === 'cells' ? 'mask' : request.output;
  const out = large ? 'out.ome.zarr' : request.pages > 1 || kind === 'probability' || kind === 'labels' ? `${kind}.tif` : `${kind}.png`;
  const flags = [
    kind !== 'mask' ? `--output ${kind}` : '',
    request.output === 'cells' ? '--cells cells.csv' : '',
    request.linkSections !== undefined && cellular ? `--link-sections ${request.linkSections}` : '',
    request.tta ? '--tta' : '',
    request.threshold !== undefined && !cellular ? `--threshold ${request.threshold}` : '',
    request.pixelSize !== undefined && !large ? `--pixel-size ${request.pixelSize}` : '',
  ].filter(Boolean);
  return `emseg predict <image> -o ${out}${flags.length ? ` ${flags.join(' ')}` : ''}`;
}

export interface WorkAdmissionOptions {
  /** The request timeout, in ms. */
  timeoutMs: number;
  /** Share of the timeout the estimated work may fill (the estimate is rough). Default 0.8. */
  share?: number;
  /** A known speed in seconds per model pixel (tests, or a measurement done elsewhere). Default: unknown until measured. */
  secondsPerModelPixel?: number;
  /** Smallest tile, in pixels, whose session calls teach the speed. Default 256 x 256. */
  minLearningTilePixels?: number;
}

/** Releases the work of an admitted request; calling it again does nothing. */
export type WorkRelease = () => void;

export class WorkAdmission {
  readonly #timeoutSeconds: number;
  readonly #share: number;
  readonly #minLearningTilePixels: number;
  #secondsPerModelPixel: number | undefined;
  /** Estimated seconds of the requests admitted and not finished. */
  #ahead = 0;

  constructor(options: WorkAdmissionOptions) {
    this.#timeoutSeconds = options.timeoutMs / 1000;
    this.#share = options.share ?? 0.8;
    this.#minLearningTilePixels = options.minLearningTilePixels ?? 256 * 256;
    this.#secondsPerModelPixel = options.secondsPerModelPixel;
  }

  /** Seconds per model pixel of one session call, or undefined before the first measurement. */
  get secondsPerModelPixel(): number | undefined {
    return this.#secondsPerModelPixel;
  }

  /** Estimated seconds of the work admitted and not finished. */
  get secondsAhead(): number {
    return this.#ahead;
  }

  /** Learns from one completed session call (the batcher's report); small tiles teach nothing. */
  observe(batch: BatchReport): void {
    if (batch.tiles < 1 || batch.height * batch.width < this.#minLearningTilePixels || !(batch.seconds > 0)) return;
    const sample = batch.seconds / (batch.tiles * batch.height * batch.width);
    this.#secondsPerModelPixel = this.#secondsPerModelPixel === undefined ? sample : 0.8 * this.#secondsPerModelPixel + 0.2 * sample;
  }

  /**
   * Measures the model at start-up: one call of one tile of the card's size to warm it up, then
   * `calls` more, timed. The model is called directly, not through the batcher.
   */
  async measure(predict: (tiles: Float32Array, n: number, height: number, width: number) => Promise<Float32Array>, tile: number, calls = 2): Promise<number> {
    const input = new Float32Array(tile * tile);
    await predict(input, 1, tile, tile);
    const started = performance.now();
    for (let i = 0; i < calls; i += 1) await predict(input, 1, tile, tile);
    const seconds = (performance.now() - started) / 1000 / calls;
    this.#secondsPerModelPixel = seconds / (tile * tile);
    return this.#secondsPerModelPixel;
  }

  /** Estimated seconds of a request on this server alone, or undefined while the speed is unknown. */
  estimateSeconds(request: WorkRequest, card: ModelCard): number | undefined {
    if (this.#secondsPerModelPixel === undefined) return undefined;
    const model = modelPixelsOf(request, card) * this.#secondsPerModelPixel;
    const host = request.width * request.height * request.pages * HOST_SECONDS_PER_PIXEL * OUTPUT_COST[request.output];
    return model + host;
  }

  /**
   * Admits a request's work or throws the 413/503 problem (see the module comment). The release
   * must be called when the work has really stopped.
   */
  admit(request: WorkRequest, card: ModelCard): WorkRelease {
    const seconds = this.estimateSeconds(request, card);
    if (seconds === undefined) return () => {};
    const budget = this.#timeoutSeconds * this.#share;
    const command = predictCommandFor(request);
    if (seconds > budget) {
      throw new ProblemError(
        413,
        `this request is about ${Math.ceil(seconds)} s of work on this server (${request.pages} page(s) of ${request.workWidth}x${request.workHeight} for the model${request.tta ? ', TTA x8' : ''}), more than it can finish within its time limit of ${this.#timeoutSeconds} s; run it with the CLI, which has no time limit: ${command}`,
        { code: 'E_TOO_MUCH_WORK' },
      );
    }
    if (this.#ahead + seconds > budget) {
      const retry = Math.min(120, Math.max(1, Math.ceil(this.#ahead + seconds - budget)));
      throw new ProblemError(
        503,
        `the server has about ${Math.ceil(this.#ahead)} s of work admitted; this request's ${Math.ceil(seconds)} s would not finish within the time limit of ${this.#timeoutSeconds} s behind it; retry in ${retry} s, or run it with the CLI: ${command}`,
        { code: 'E_WORK_FULL', headers: { 'Retry-After': String(retry) } },
      );
    }
    this.#ahead += seconds;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#ahead = Math.max(0, this.#ahead - seconds);
    };
  }
}
