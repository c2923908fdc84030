/**
 * The route table of the HTTP API: every route's method, path, parameters and responses, defined
 * once with @hono/zod-openapi. The route groups (serve/routes/*.ts) register their handlers against
 * these definitions and `/openapi.json` is generated from the same registry, so the document cannot
 * drift from the routes.
 * The query of /v1/segment is validated by these schemas (a bad value answers 400 naming it); the
 * image body is declared but read by the handler itself (sniffed from its bytes).
 */
import { createRoute, z } from '@hono/zod-openapi';
import { DECIMAL_NUMBER_TEXT, describeNumberRule } from '../core/number-text.ts';
import { MAX_PIXEL_SCALE } from '../core/pixel-size.ts';
import { THRESHOLD_RULE } from '../core/threshold.ts';
import { SERVED_FORMATS, SERVED_OUTPUT_KINDS } from '../core/segmentation-output.ts';
import { CELL_TABLE_COLUMNS } from '../core/cells/cell-table.ts';

export const ProblemSchema = z
  .object({
    type: z.literal('about:blank'),
    title: z.string().openapi({ example: 'Content Too Large' }),
    status: z.number().int().openapi({ example: 413 }),
    detail: z.string().openapi({ example: 'upload.tif: declares 100000x100000 = 10000000000 pixels per image, the limit is 64000000' }),
    code: z.string().openapi({ example: 'E_TOO_LARGE' }),
  })
  .openapi('Problem');

const problem = (description: string) => ({
  description,
  content: { 'application/problem+json': { schema: ProblemSchema } },
});

const binary = { type: 'string' as const, format: 'binary' };

/** The rule of the linkSections query value, in each of its refusals. */
const LINK_SECTIONS_RULE = "expected the minimum overlap, a fraction of the smaller cell's area in (0, 1], such as 0.5";

export const SegmentQuerySchema = z.object({
  output: z
    .enum(SERVED_OUTPUT_KINDS)
    .default('mask')
    .openapi({
      description:
        "mask: 0/255 8-bit; probability: float32 cell-interior probability; overlay: RGB picture of the mask over the image; labels: instance labels (0 = boundary, 1.. = cell, numbered per page, or 3D object ids with linkSections) by the model card's cell parameters, as `emseg predict --output labels`; cells: the table of those cells, as `emseg predict --cells`",
    }),
  format: z
    .enum(SERVED_FORMATS)
    .optional()
    .openapi({
      description:
        'png or tiff for images: default tiff for TIFF input, probability and labels (uint32), png otherwise; a stack of several pages needs tiff; labels as png are 16-bit, for up to 65535 cells. json (default) or csv for output=cells',
    }),
  // Decimal text only, as every number typed by people (core/number-text.ts): '' (an empty value)
  // or '0x1' must not be read as 0 or 1, as Number() would.
  threshold: z
    .string()
    .regex(DECIMAL_NUMBER_TEXT, { message: `expected ${describeNumberRule(THRESHOLD_RULE)}, such as 0.5` })
    .transform(Number)
    .pipe(z.number().min(0).max(1))
    .optional()
    .openapi({ description: "mask threshold on the probability; default: the model card's", example: 0.5 }),
  tta: z
    .enum(['true', 'false', '1', '0'])
    .optional()
    .openapi({ description: "8-fold flip/rotation test-time augmentation; default: the model card's" }),
  pixelSize: z
    .string()
    .regex(DECIMAL_NUMBER_TEXT, { message: 'expected a size in nm, a decimal number greater than 0, such as 4' })
    .transform(Number)
    .pipe(z.number().positive())
    .optional()
    .openapi({
      description: `pixel size of the image in nm: resampled to the model card's trainingPixelSize and the answer back to the image's size; from 1/${MAX_PIXEL_SCALE} to ${MAX_PIXEL_SCALE} times trainingPixelSize; the pixel limits apply to the rescaled image; default: the size the TIFF states (resolution tags, ImageJ, OME-XML), else no rescaling`,
      example: 4,
    }),
  invert: z
    .enum(['true', 'false', '1', '0'])
    .optional()
    .openapi({ description: 'invert the contrast first (bright membranes, e.g. block-face SEM; the model was trained on dark membranes); default false' }),
  linkSections: z
    .string()
    .regex(DECIMAL_NUMBER_TEXT, { message: LINK_SECTIONS_RULE })
    .transform(Number)
    .pipe(z.number().gt(0, { message: LINK_SECTIONS_RULE }).max(1, { message: LINK_SECTIONS_RULE }))
    .optional()
    .openapi({
      description:
        "with output=labels or output=cells: link the cells of consecutive pages into 3D objects, as emseg predict --link-sections (core/cells/section-links.ts): a cell continues the previous page's cell it overlaps most when each is the other's best match and they share at least this fraction of the smaller one's area; the labels then hold object ids, the table gets an object_id column. Default: not linked (labels numbered per page)",
      example: 0.5,
    }),
});

export type SegmentQuery = z.infer<typeof SegmentQuerySchema>;

const CellSchema = z
  .object({
    ...Object.fromEntries(CELL_TABLE_COLUMNS.map((column) => [column, z.union([z.string(), z.number(), z.null()])])),
    object_id: z.number().int().optional().openapi({ description: 'with linkSections: the 3D object the cell belongs to (its value in the linked labels)' }),
  })
  .openapi('Cell', { description: 'one cell: the columns of `emseg predict --cells` (core/cells/cell-table.ts); null where the CSV field is empty (no pixel size, no border)' });

const CellTableSchema = z
  .object({
    image: z.string().openapi({ description: 'the upload\'s name' }),
    pixelSize: z.number().nullable().openapi({ description: 'pixel size in nm used for the physical columns, null when unknown' }),
    count: z.number().int().openapi({ description: 'cells in all pages' }),
    cells: z.array(CellSchema),
  })
  .openapi('CellTable', { description: 'output=cells (format=json)' });

const TIMING_HEADERS = {
  'Server-Timing': { description: 'read (the upload), queue, decode, infer and encode durations in ms', schema: { type: 'string' as const } },
  'X-Emseg-Provider': { description: 'execution provider that ran the model', schema: { type: 'string' as const } },
  'X-Emseg-Pages': { description: 'pages segmented', schema: { type: 'integer' as const } },
  'X-Emseg-Pixel-Size': { description: "which pixel size was used and from where, and the rescaling to the model's, in one line (core/pixel-size.ts)", schema: { type: 'string' as const } },
  'X-Emseg-Warning': { description: 'present when the contrast looks inverted relative to the training data (core/contrast-polarity.ts): one line, naming invert=true', schema: { type: 'string' as const } },
};

export const segmentRoute = createRoute({
  method: 'post',
  path: '/v1/segment',
  summary: 'Segment an image or a stack',
  description:
    'The body is the image (PNG, JPEG, TIFF; single or multi-page; grey, RGB or 16-bit/float grey) or a multipart form with a `file` field. A multi-page TIFF gives a multi-page TIFF back. Sizes are checked from the header before decoding.',
  request: {
    query: SegmentQuerySchema,
    body: {
      required: true,
      content: {
        'image/png': { schema: binary },
        'image/jpeg': { schema: binary },
        'image/tiff': { schema: binary },
        'application/octet-stream': { schema: binary },
        'multipart/form-data': { schema: { type: 'object', properties: { file: binary }, required: ['file'] } },
      },
    },
  },
  responses: {
    200: {
      description: 'the segmentation, same size (and page count) as the input; for output=cells the cell table',
      headers: TIMING_HEADERS,
      content: {
        'image/png': { schema: binary },
        'image/tiff': { schema: binary },
        'application/json': { schema: CellTableSchema },
        'text/csv': { schema: { type: 'string' as const, description: `output=cells&format=csv: the columns ${CELL_TABLE_COLUMNS.join(', ')}` } },
      },
    },
    400: problem('empty body, bad query parameter, output/format combination, or labels as png with more than 65535 cells (use format=tiff)'),
    413: problem('body, pixels or pages over a limit (after pixelSize rescaling too), a multipart form of too many parts, a TIFF whose decoding needs more than its work budget, or more work than the server can finish within its time limit (E_TOO_MUCH_WORK, naming the emseg predict command)'),
    415: problem('not an image, or an image variant the server does not decode'),
    422: problem('a truncated or inconsistent image'),
    500: problem('unexpected server error (details only in the server log)'),
    503: problem('queue full, work admitted ahead too long to finish this one in time (E_WORK_FULL), bodies in flight at their cap, timed out, model not loaded yet, or shutting down (Retry-After)'),
  },
});

const ModelInfoSchema = z
  .object({
    provider: z.string().openapi({ example: 'cpu' }),
    card: z.record(z.string(), z.unknown()).openapi({ description: 'the model card (see CONVENTIONS.md)' }),
    batching: z.object({
      maxBatch: z.number().int().openapi({ description: 'most tiles per session call' }),
      maxWaitMs: z.number(),
      concurrentRuns: z.number().int().openapi({ description: 'session calls running at once (inference workers)' }),
    }),
    limits: z.object({
      maxBodyBytes: z.number().int(),
      maxBodiesBytes: z.number().int().openapi({ description: 'bytes of request bodies held at once' }),
      maxPixels: z.number().int(),
      maxStackPixels: z.number().int(),
      maxPages: z.number().int(),
      timeoutMs: z.number().int(),
    }),
  })
  .openapi('ModelInfo');

export const modelRoute = createRoute({
  method: 'get',
  path: '/v1/model',
  summary: 'The model card and the execution provider in use',
  responses: {
    200: { description: 'model card, provider, batching and limits', content: { 'application/json': { schema: ModelInfoSchema } } },
    503: problem('model not loaded yet'),
  },
});

export const healthRoute = createRoute({
  method: 'get',
  path: '/healthz',
  summary: 'Liveness: the process answers',
  responses: {
    200: { description: 'alive', content: { 'application/json': { schema: z.object({ status: z.literal('ok') }) } } },
  },
});

const ReadySchema = z.object({ status: z.literal('ready'), provider: z.string(), model: z.string() }).openapi('Ready');

export const readyRoute = createRoute({
  method: 'get',
  path: '/readyz',
  summary: 'Readiness: the model is loaded and the server is not shutting down',
  responses: {
    200: { description: 'ready, with the provider in use', content: { 'application/json': { schema: ReadySchema } } },
    503: problem('model loading, failed to load, or shutting down'),
  },
});

export const metricsRoute = createRoute({
  method: 'get',
  path: '/metrics',
  summary: 'Prometheus metrics',
  responses: {
    200: { description: 'Prometheus text exposition format', content: { 'text/plain': { schema: z.string() } } },
  },
});

export const openapiRoute = createRoute({
  method: 'get',
  path: '/openapi.json',
  summary: 'This document',
  responses: {
    200: { description: 'OpenAPI 3.1 document of the API', content: { 'application/json': { schema: z.record(z.string(), z.unknown()) } } },
  },
});

/** Every route of the API, in the order of the document. */
export const API_ROUTES = [healthRoute, readyRoute, modelRoute, metricsRoute, openapiRoute, segmentRoute] as const;

export const OPENAPI_INFO = {
  openapi: '3.1.0',
  info: {
    title: 'emseg segmentation server',
    version: '1',
    description:
      'Segments electron-microscopy images of neural tissue with a U-Net (ONNX). Errors are RFC 9457 problem details.',
  },
};
