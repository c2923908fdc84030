/** The sha256 of bytes as 64 lowercase hex digits (the form model cards and manifests record). */
import { createHash } from 'node:crypto';

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}
