/**
 * The upload of a segmentation request: its bytes and a name for messages (`readUpload`), and how
 * they are decoded (`uploadDecoder`): TIFF in the decode pool with its work budget
 * (serve/decode-pool.ts), PNG and JPEG through sharp, whose libvips threads do not block the loop.
 */
import type { Context } from 'hono';
import type { ImageStack } from '../core/image.ts';
import { decodeImageBytes } from '../node/image-files.ts';
import type { DecodePool } from './decode-pool.ts';
import type { ImageLimits } from './limits.ts';
import { multipartFile } from './multipart.ts';
import { ProblemError } from './problem.ts';
import type { UploadPlan } from './segment.ts';

const IMAGE_TYPES = new Set(['image/png', 'image/jpeg', 'image/tiff', 'image/tif', 'application/octet-stream']);

/**
 * The uploaded bytes and a name for messages. A raw body must be declared as an image type or
 * application/octet-stream (or not declared at all); a multipart form carries the file in `file`
 * (or its first file field), found within MULTIPART_LIMITS. The format itself is sniffed from the bytes.
 */
export async function readUpload(c: Context): Promise<{ bytes: Uint8Array; name: string }> {
  const declared = (c.req.header('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
  if (declared === 'multipart/form-data') {
    // Bounded walk over the parts (serve/multipart.ts), not a general form parser on the event loop.
    return multipartFile(new Uint8Array(await c.req.arrayBuffer()), c.req.header('content-type') ?? '');
  }
  if (declared !== '' && !IMAGE_TYPES.has(declared)) {
    throw new ProblemError(
      415,
      `Content-Type ${declared}: expected image/png, image/jpeg, image/tiff, application/octet-stream or multipart/form-data`,
      { code: 'E_UNSUPPORTED_MEDIA_TYPE' },
    );
  }
  return { bytes: new Uint8Array(await c.req.arrayBuffer()), name: 'request body' };
}

/** Decodes an upload as its plan says: TIFF in `pool` within the stack limits, PNG and JPEG through sharp. */
export function uploadDecoder(pool: DecodePool, limits: ImageLimits) {
  return (bytes: Uint8Array, plan: UploadPlan, signal: AbortSignal | undefined): Promise<ImageStack> =>
    plan.format === 'tiff'
      ? pool.decode({
          bytes,
          name: plan.name,
          declaredPixels: plan.declaredPixels,
          maxPages: limits.maxPages,
          maxTotalSamples: limits.maxStackPixels * 4,
          ...(signal ? { signal } : {}),
        })
      : decodeImageBytes(bytes, plan.name);
}
