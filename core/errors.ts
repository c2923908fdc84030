/**
 * The one error type of the project. Every problem a user can cause (a missing file, a file that
 * is not an image, mismatched stacks, a bad option) is an EmsegError with a stable code and a
 * one-line message naming the thing and the problem. The CLI prints the message without a stack
 * trace; the server maps the code to an HTTP status.
 */
export type EmsegErrorCode =
  | 'E_NOT_FOUND' // a file or folder does not exist
  | 'E_NOT_AN_IMAGE' // the bytes are no image format we know
  | 'E_UNSUPPORTED' // a known format in a variant we do not handle (e.g. a TIFF compression)
  | 'E_CORRUPT' // a known format, but truncated or inconsistent
  | 'E_SIZE_MISMATCH' // two inputs that must agree in size do not
  | 'E_TOO_LARGE' // over a configured limit (pixels, pages, bytes)
  | 'E_BAD_ARGUMENT' // an option or argument out of range or of the wrong kind
  | 'E_OUTPUT_EXISTS' // refusing to overwrite something
  | 'E_WRITE_FAILED' // an output could not be written (disk full, read-only, permission, folder gone)
  | 'E_MODEL' // a model file that cannot be used
  | 'E_BACKEND' // no compute backend or execution provider could be had
  | 'E_INTERRUPTED'; // the user stopped a long job

export class EmsegError extends Error {
  override readonly name = 'EmsegError';
  readonly code: EmsegErrorCode;

  constructor(code: EmsegErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

export function isEmsegError(value: unknown): value is EmsegError {
  return value instanceof EmsegError;
}
