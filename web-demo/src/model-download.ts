/**
 * Downloads the model with progress: reads the response body chunk by chunk and reports bytes
 * received against Content-Length (or the size from demo.json when the server compresses and
 * sends no usable length).
 */
import { EmsegError } from '../../core/errors.ts';
import { concatBytes } from '../../core/bytes.ts';

export interface DownloadProgress {
  loaded: number;
  /** Undefined when neither the header nor the caller knows the size. */
  total: number | undefined;
}

export interface DownloadOptions {
  /** Size to assume when the response has no Content-Length. */
  expectedBytes?: number;
  onProgress?: (progress: DownloadProgress) => void;
  signal?: AbortSignal;
}

export async function downloadWithProgress(url: string, options: DownloadOptions = {}): Promise<Uint8Array> {
  let response: Response;
  try {
    response = await fetch(url, { signal: options.signal ?? null });
  } catch (error) {
    throw new EmsegError('E_NOT_FOUND', `${url}: download failed (${(error as Error).message})`, { cause: error });
  }
  if (!response.ok) throw new EmsegError('E_NOT_FOUND', `${url}: the server answered ${response.status} ${response.statusText}`);
  const header = Number(response.headers.get('content-length'));
  const encoded = (response.headers.get('content-encoding') ?? 'identity') !== 'identity';
  const total = Number.isFinite(header) && header > 0 && !encoded ? header : options.expectedBytes;
  const report = options.onProgress ?? (() => undefined);
  if (!response.body) {
    const bytes = new Uint8Array(await response.arrayBuffer());
    report({ loaded: bytes.byteLength, total: bytes.byteLength });
    return bytes;
  }
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let loaded = 0;
  report({ loaded, total });
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    loaded += value.byteLength;
    report({ loaded, total });
  }
  return concatBytes(chunks);
}
