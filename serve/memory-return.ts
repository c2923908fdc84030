/**
 * Memory the server gives back after big requests. Two things keep it otherwise (measured with
 * `npm run bench:load`, serve/README.md#memory): onnxruntime's CPU memory arena keeps the buffers of
 * the largest session call for the next one, and glibc's malloc keeps freed buffers of up to 32 MB
 * in its heaps once its dynamic mmap threshold has risen. The server turns the arena off unless
 * EMSEG_MEMORY_ARENA=1; glibc reads MALLOC_MMAP_THRESHOLD_ when the process starts, so the image
 * (Dockerfile ENV) and bench:load set it, and the server says at start-up when it is missing.
 */
import type * as ort from 'onnxruntime-node';

/** glibc's setting that keeps buffers of 1 MiB and more out of its heaps (mmap, returned on free). */
export const GLIBC_MEMORY_RETURN_ENV: Readonly<Record<string, string>> = { MALLOC_MMAP_THRESHOLD_: '1048576' };

/** The session options of the server's sessions for its `memoryArena` setting (1 = keep the arena). */
export function sessionMemoryOptions(memoryArena: number): Pick<ort.InferenceSession.SessionOptions, 'enableCpuMemArena' | 'enableMemPattern'> {
  const keep = memoryArena === 1;
  return { enableCpuMemArena: keep, enableMemPattern: keep };
}

/** The start-up line about memory return, or undefined when there is nothing to say. */
export function memoryReturnNote(memoryArena: number, env: Record<string, string | undefined> = process.env, platform: string = process.platform): string | undefined {
  if (memoryArena === 1) return 'memory: onnxruntime memory arena on (EMSEG_MEMORY_ARENA=1): buffers of the largest call stay allocated';
  if (platform !== 'linux') return undefined;
  const missing = Object.keys(GLIBC_MEMORY_RETURN_ENV).filter((name) => env[name] === undefined || env[name] === '');
  if (missing.length === 0) return undefined;
  const settings = missing.map((name) => `${name}=${GLIBC_MEMORY_RETURN_ENV[name]}`).join(' ');
  return `memory: ${settings} is not set, so glibc may keep freed buffers after big requests; start the server with it in the environment (the image sets it)`;
}
