/**
 * Problem details (RFC 9457) for every error the server answers with. One error class,
 * `ProblemError`, carries an HTTP status, a one-line detail and optional headers (Retry-After);
 * `problemFrom` turns anything thrown into one:
 *
 * - an EmsegError (a user-caused problem) keeps its message as `detail` and its code as `code`,
 *   with the status from `STATUS_FOR_CODE`;
 * - a Hono HTTPException below 500 (e.g. the 415 of a media-type gate) keeps its message;
 * - anything else becomes a 500 whose detail says nothing internal; the caller logs the original.
 */
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { isEmsegError, type EmsegErrorCode } from '../core/errors.ts';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/** The JSON body of a problem response. `type` stays `about:blank`, so `title` is the status phrase. */
export interface ProblemBody {
  type: 'about:blank';
  title: string;
  status: number;
  detail: string;
  /** The EmsegError code or a server code such as `E_QUEUE_FULL`, stable for clients to branch on. */
  code: string;
}

/**
 * How each EmsegError code answers over HTTP (see serve/README.md, "Errors"):
 * - the body is no image we know (text, zero bytes handled earlier as 400): 415;
 * - a known format in a variant we do not decode (a TIFF compression, a sample format): 415;
 * - a known format that is truncated or inconsistent, pages of different sizes: 422;
 * - over a configured limit (bytes, pixels, pages): 413;
 * - a bad query parameter: 400;
 * - problems of the server itself (model, backend, output files): 500, detail hidden.
 */
export const STATUS_FOR_CODE: Readonly<Record<EmsegErrorCode, ContentfulStatusCode>> = {
  E_NOT_FOUND: 404,
  E_NOT_AN_IMAGE: 415,
  E_UNSUPPORTED: 415,
  E_CORRUPT: 422,
  E_SIZE_MISMATCH: 422,
  E_TOO_LARGE: 413,
  E_BAD_ARGUMENT: 400,
  E_OUTPUT_EXISTS: 500,
  E_WRITE_FAILED: 500,
  E_MODEL: 500,
  E_BACKEND: 500,
  E_INTERRUPTED: 503,
};

const TITLES: Readonly<Record<number, string>> = {
  400: 'Bad Request',
  404: 'Not Found',
  405: 'Method Not Allowed',
  408: 'Request Timeout',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  431: 'Request Header Fields Too Large',
  422: 'Unprocessable Content',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

export const GENERIC_500_DETAIL = 'the server could not complete the request; the error is in the server log';

export interface ProblemOptions {
  /** Stable machine-readable code (default `E_HTTP_<status>`). */
  code?: string;
  /** Extra response headers, e.g. `{ 'Retry-After': '2' }`. */
  headers?: Record<string, string>;
  cause?: unknown;
}

/** The one HTTP error of the server: thrown anywhere, answered as problem+json by the app's error handler. */
export class ProblemError extends Error {
  override readonly name = 'ProblemError';
  readonly status: ContentfulStatusCode;
  readonly code: string;
  readonly headers: Readonly<Record<string, string>>;

  constructor(status: ContentfulStatusCode, detail: string, options: ProblemOptions = {}) {
    super(detail, options.cause === undefined ? undefined : { cause: options.cause });
    this.status = status;
    this.code = options.code ?? `E_HTTP_${status}`;
    this.headers = options.headers ?? {};
  }

  get body(): ProblemBody {
    return {
      type: 'about:blank',
      title: TITLES[this.status] ?? `HTTP ${this.status}`,
      status: this.status,
      detail: this.message,
      code: this.code,
    };
  }
}

/**
 * Converts anything thrown into a ProblemError. `internal` is true when the original must be logged
 * because the answer hides it (a 500).
 */
export function problemFrom(error: unknown): { problem: ProblemError; internal: boolean } {
  if (error instanceof ProblemError) return { problem: error, internal: error.status >= 500 && error.code === 'E_INTERNAL' };
  if (isEmsegError(error)) {
    const status = STATUS_FOR_CODE[error.code];
    if (status >= 500 && error.code !== 'E_INTERRUPTED') {
      return { problem: new ProblemError(500, GENERIC_500_DETAIL, { code: 'E_INTERNAL' }), internal: true };
    }
    return { problem: new ProblemError(status, error.message, { code: error.code }), internal: false };
  }
  if (error instanceof HTTPException && error.status < 500) {
    const detail = error.message || TITLES[error.status] || `HTTP ${error.status}`;
    return { problem: new ProblemError(error.status as ContentfulStatusCode, detail), internal: false };
  }
  return { problem: new ProblemError(500, GENERIC_500_DETAIL, { code: 'E_INTERNAL' }), internal: true };
}

/** The Response for a problem, with its headers. */
export function problemResponse(problem: ProblemError, extraHeaders: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(problem.body), {
    status: problem.status,
    headers: { 'Content-Type': PROBLEM_CONTENT_TYPE, ...extraHeaders, ...problem.headers },
  });
}
