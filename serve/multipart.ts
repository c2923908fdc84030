/**
 * The image file of a `multipart/form-data` upload, found with bounded work: the parts are walked
 * with `Buffer.indexOf` (native, no per-field objects) and the walk stops at `maxParts` parts, so a
 * 90 MB body of 1.5 million tiny fields costs no more than 16 parts (a general form parser, such as
 * `Request.formData()`, builds every field on the event loop first: 5.9 s of a stalled /healthz,
 * issue 26). A part's headers and a text field's value are bounded too; the file's bytes are a view
 * of the body, not a copy.
 */
import { EmsegError } from '../core/errors.ts';

export interface MultipartLimits {
  /** Most parts (fields and files) walked before giving up. */
  maxParts: number;
  /** Largest header block of one part, in bytes. */
  maxHeaderBytes: number;
  /** Largest value of a text field (a part without a filename), in bytes. */
  maxFieldBytes: number;
}

export const MULTIPART_LIMITS: Readonly<MultipartLimits> = { maxParts: 16, maxHeaderBytes: 8192, maxFieldBytes: 65536 };

/** The `boundary` parameter of a multipart Content-Type, or undefined. */
export function multipartBoundary(contentType: string): string | undefined {
  const match = /;\s*boundary=(?:"([^"]{1,70})"|([^\s;]{1,70}))/i.exec(contentType);
  return match?.[1] ?? match?.[2];
}

interface PartHeaders {
  field: string | undefined;
  filename: string | undefined;
}

function partHeaders(text: string): PartHeaders {
  const disposition = text.split('\r\n').find((line) => /^content-disposition\s*:/i.test(line)) ?? '';
  const param = (key: string) => new RegExp(`;\\s*${key}="([^"]*)"`, 'i').exec(disposition)?.[1] ?? new RegExp(`;\\s*${key}=([^\\s;"]+)`, 'i').exec(disposition)?.[1];
  return { field: param('name'), filename: param('filename') };
}

const bad = (detail: string) => new EmsegError('E_BAD_ARGUMENT', `multipart body: ${detail}`);

/**
 * The file of the form: the part named `file` with a filename, else the first part with a
 * filename. E_BAD_ARGUMENT (400) for a body that is not multipart as declared or has no file,
 * E_TOO_LARGE (413) for more parts than `maxParts` before the file, a header block or a text field
 * over its limit.
 */
export function multipartFile(body: Uint8Array, contentType: string, limits: MultipartLimits = MULTIPART_LIMITS): { bytes: Uint8Array; name: string } {
  const boundary = multipartBoundary(contentType);
  if (!boundary) throw bad('the Content-Type names no boundary; send the form as multipart/form-data with a boundary');
  const buffer = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  const delimiter = Buffer.from(`--${boundary}`, 'latin1');
  const nextDelimiter = Buffer.from(`\r\n--${boundary}`, 'latin1');
  let at = buffer.indexOf(delimiter);
  if (at < 0) throw bad(`no part starts with the declared boundary ${JSON.stringify(boundary)}`);
  let firstFile: { bytes: Uint8Array; name: string } | undefined;
  for (let parts = 0; ; parts += 1) {
    at += delimiter.length;
    if (buffer[at] === 0x2d && buffer[at + 1] === 0x2d) break; // "--": the closing delimiter
    if (parts >= limits.maxParts) {
      if (firstFile) return firstFile;
      throw new EmsegError('E_TOO_LARGE', `multipart body: more than ${limits.maxParts} parts before the file; send the image as the 'file' field of a small form, or the image bytes alone`);
    }
    const headersStart = buffer.indexOf('\r\n', at) + 2;
    const headersEnd = buffer.indexOf('\r\n\r\n', headersStart);
    if (headersStart < 2 || headersEnd < 0) throw bad('a part has no header block; the body is cut short or not multipart');
    if (headersEnd - headersStart > limits.maxHeaderBytes) {
      throw new EmsegError('E_TOO_LARGE', `multipart body: a part's headers are over ${limits.maxHeaderBytes} bytes`);
    }
    const { field, filename } = partHeaders(buffer.toString('latin1', headersStart, headersEnd));
    const contentStart = headersEnd + 4;
    const contentEnd = buffer.indexOf(nextDelimiter, contentStart);
    if (contentEnd < 0) throw bad('a part does not end with the boundary; the body is cut short');
    if (filename === undefined && contentEnd - contentStart > limits.maxFieldBytes) {
      throw new EmsegError('E_TOO_LARGE', `multipart body: field ${JSON.stringify(field ?? '')} is over ${limits.maxFieldBytes} bytes; send the image as a file field`);
    }
    if (filename !== undefined) {
      const file = { bytes: body.subarray(contentStart, contentEnd), name: filename || 'file' };
      if (field === 'file') return file;
      firstFile ??= file;
    }
    at = contentEnd + 2;
  }
  if (firstFile) return firstFile;
  throw bad("no file field; send the image as the 'file' field");
}
