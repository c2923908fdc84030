/**
 * POST /v1/segment: an image in, its mask, probability, overlay, cell labels or cell table out
 * (serve/segment.ts does the work). Before the handler, in order: the request counter (lone requests get all the cores), the
 * body budget (503 when the bodies in flight are at their cap) and the body limit (413). The
 * handler inspects the upload from its header, refuses work it cannot finish within the timeout at
 * once (serve/work-admission.ts), waits for a slot (serve/admission.ts) and answers with the
 * timings in Server-Timing; a client that hangs up takes its queued work with it.
 */
import type { AdmissionQueue } from '../admission.ts';
import type { BodyBudget } from '../body-budget.ts';
import type { DecodePool } from '../decode-pool.ts';
import { requestBodyLimit, type ImageLimits } from '../limits.ts';
import type { ServedModelState } from '../model-state.ts';
import { segmentRoute } from '../openapi.ts';
import { ProblemError } from '../problem.ts';
import type { RequestCounter } from '../request-counter.ts';
import { inspectUpload, segmentUpload } from '../segment.ts';
import { readUpload, uploadDecoder } from '../upload.ts';
import type { WorkAdmission } from '../work-admission.ts';
import { createRouter } from './router.ts';

export interface SegmentRouteOptions {
  model: ServedModelState;
  /** Counts the segmentation requests in the server (the model state reads it). */
  requests: RequestCounter;
  admission: AdmissionQueue;
  work: WorkAdmission;
  bodyBudget: BodyBudget;
  decodePool: DecodePool;
  limits: ImageLimits;
  maxBodyBytes: number;
  /** Time limit of one request, waiting included, in ms. */
  timeoutMs: number;
}

export function segmentRoutes(options: SegmentRouteOptions) {
  const { model: state, admission, work, limits, timeoutMs } = options;
  const decode = uploadDecoder(options.decodePool, limits);
  const router = createRouter();
  const path = segmentRoute.getRoutingPath();
  router.use(path, options.requests.middleware());
  router.use(path, options.bodyBudget.middleware());
  router.use(path, requestBodyLimit({ maxBytes: options.maxBodyBytes }));
  router.openapi(segmentRoute, async (c) => {
    const { model, batcher } = state.use();
    const query = c.req.valid('query');
    const readStarted = performance.now();
    const { bytes, name } = await readUpload(c);
    const plan = inspectUpload(bytes, name, query, limits, model.card);
    const readMs = performance.now() - readStarted;
    // Work this server cannot finish within the timeout is answered now, not after it (413/503).
    const releaseWork = work.admit({ ...plan, tta: plan.tta ?? model.card.tta ?? false }, model.card);
    let workEnded: Promise<unknown> = Promise.resolve();

    const controller = new AbortController();
    const timeoutError = new ProblemError(503, `the request took longer than the limit of ${timeoutMs} ms`, {
      code: 'E_TIMEOUT',
      headers: { 'Retry-After': String(admission.retryAfterSeconds()) },
    });
    const timer = setTimeout(() => controller.abort(timeoutError), timeoutMs);
    const clientGone = () => controller.abort(new ProblemError(503, 'the client closed the connection', { code: 'E_CLIENT_GONE' }));
    c.req.raw.signal?.addEventListener('abort', clientGone, { once: true });
    const queued = performance.now();
    try {
      const release = await admission.acquire(controller.signal);
      const queueMs = performance.now() - queued;
      const segmenting = segmentUpload(bytes, plan, {
        predictor: batcher.forSignal(controller.signal),
        card: model.card,
        signal: controller.signal,
        pagesAtOnce: Math.max(2, state.batching.maxBatch * state.batching.concurrentRuns),
        decode,
        limits,
      });
      void segmenting.then(release, release); // the slot is held until the work really ends
      workEnded = segmenting;
      const answer = await abortable(segmenting, controller.signal);
      const { decodeMs, inferMs, encodeMs } = answer.timings;
      return c.body(answer.body as Uint8Array<ArrayBuffer>, 200, {
        'Content-Type': answer.contentType,
        'Server-Timing': `read;dur=${readMs.toFixed(1)}, queue;dur=${queueMs.toFixed(1)}, decode;dur=${decodeMs.toFixed(1)}, infer;dur=${inferMs.toFixed(1)}, encode;dur=${encodeMs.toFixed(1)}`,
        'X-Emseg-Provider': model.provider,
        'X-Emseg-Pages': String(answer.pages),
        'X-Emseg-Model': `${model.card.name}@${model.card.version}`,
        'X-Emseg-Pixel-Size': headerText(answer.pixelSizeLine),
        ...(answer.warning ? { 'X-Emseg-Warning': headerText(answer.warning) } : {}),
      });
    } catch (error) {
      throw controller.signal.aborted && controller.signal.reason === timeoutError ? timeoutError : error;
    } finally {
      clearTimeout(timer);
      c.req.raw.signal?.removeEventListener('abort', clientGone);
      void workEnded.then(releaseWork, releaseWork);
    }
  });
  return router;
}

/** A line as an HTTP header value: printable ASCII only (an upload's file name may hold anything). */
function headerText(line: string): string {
  return line.replace(/[^\x20-\x7e]/g, '?');
}

/** Resolves with `work`, or rejects with the signal's reason as soon as it aborts. */
function abortable<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}
