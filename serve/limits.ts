/**
 * Size limits of a segmentation request, enforced before any pixel is decoded: the body size while
 * it is read (Content-Length first, then the bytes as they stream), then pixels per image, pixels
 * per stack and pages per stack from the header alone (core/image-probe.ts), so a small file that
 * declares 100000x100000 pixels or 2000 pages is refused without allocating its pixels.
 */
import { bodyLimit } from 'hono/body-limit';
import type { MiddlewareHandler } from 'hono';
import { EmsegError } from '../core/errors.ts';
import { ProblemError, problemResponse } from './problem.ts';

export interface ImageLimits {
  /** Largest image (one page), in pixels. Default 64,000,000. */
  maxPixels: number;
  /** Largest stack (all pages together), in pixels. Default 128,000,000. */
  maxStackPixels: number;
  /** Most pages in one stack. Default 1000. */
  maxPages: number;
}

/**
 * Appended to every over-limit answer: large images go through the CLI, which streams them tile by
 * tile (README, "Large images").
 */
export const LARGE_IMAGE_HINT = 'for large images use the CLI, which streams them: emseg predict <image> -o out.ome.zarr (README, "Large images")';

export const DEFAULT_IMAGE_LIMITS: Readonly<ImageLimits> = {
  maxPixels: 64_000_000,
  maxStackPixels: 128_000_000,
  maxPages: 1000,
};

/** What the header of an image declares (the part of core/image-probe.ts's result the limits need). */
export interface DeclaredSize {
  width: number;
  height: number;
  pages: number;
  /** Pixels of all pages together; default width x height x pages. */
  totalPixels?: number;
}

/** Throws E_TOO_LARGE (413) naming `name`, the limit and the declared size when over a limit, pointing to the CLI. */
export function checkImageLimits(declared: DeclaredSize, limits: ImageLimits, name: string): void {
  const { width, height, pages } = declared;
  if (pages > limits.maxPages) {
    throw new EmsegError('E_TOO_LARGE', `${name}: declares ${pages} pages, the limit is ${limits.maxPages} pages per stack; ${LARGE_IMAGE_HINT}`);
  }
  const pixels = width * height;
  if (pixels > limits.maxPixels) {
    throw new EmsegError(
      'E_TOO_LARGE',
      `${name}: declares ${width}x${height} = ${pixels} pixels per image, the limit is ${limits.maxPixels}; ${LARGE_IMAGE_HINT}`,
    );
  }
  const total = declared.totalPixels ?? pixels * pages;
  if (total > limits.maxStackPixels) {
    throw new EmsegError(
      'E_TOO_LARGE',
      `${name}: declares ${pages} pages of ${total} pixels in all, the limit is ${limits.maxStackPixels} per stack; ${LARGE_IMAGE_HINT}`,
    );
  }
}

/**
 * Middleware refusing bodies over `maxBytes` with a 413 problem, from Content-Length when the
 * client sends one and while streaming otherwise (Hono's bodyLimit).
 */
export function requestBodyLimit(options: { maxBytes: number }): MiddlewareHandler {
  const { maxBytes } = options;
  return bodyLimit({
    maxSize: maxBytes,
    onError: () =>
      problemResponse(
        new ProblemError(413, `request body: larger than the limit of ${maxBytes} bytes; ${LARGE_IMAGE_HINT}`, { code: 'E_TOO_LARGE' }),
      ),
  });
}
