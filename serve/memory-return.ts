/**
 * Memory the server gives back after big requests. Two things keep it otherwise (measured with
 * `npm run bench:load`, serve/README.md#memory-given-back): onnxruntime's CPU memory arena keeps
 * the buffers of the largest session call for the next one, and glibc's malloc keeps freed buffers
 * of up to 32 MB in its heaps once its dynamic mmap threshold has risen.
 * - The arena stays on (EMSEG_MEMORY_ARENA=1: without it every call allocates anew, measured
 *   slower), and on the CPU provider a session idle for EMSEG_IDLE_RELEASE_MS is released and
 *   made again (node/inference-worker.ts), which frees its arena; EMSEG_MEMORY_ARENA=0 frees
 *   buffers after every call instead.
 * - glibc reads MALLOC_MMAP_THRESHOLD_ when the process starts, so the image (Dockerfile ENV) and
 *   bench:load set it, and the server says at start-up when it is missing.
 */
import type * as ort from 'onnxruntime-node';
import type { ServeConfig } from './config.ts';

/** glibc's setting that keeps buffers of 1 MiB and more out of its heaps (mmap, returned on free). */
export const GLIBC_MEMORY_RETURN_ENV: Readonly<Record<string, string>> = { MALLOC_MMAP_THRESHOLD_: '1048576' };

/** The session options of the server's sessions for its `memoryArena` setting (1 = keep the arena). */
export function sessionMemoryOptions(memoryArena: number): Pick<ort.InferenceSession.SessionOptions, 'enableCpuMemArena' | 'enableMemPattern'> {
  const keep = memoryArena === 1;
  return { enableCpuMemArena: keep, enableMemPattern: keep };
}

/** The start-up lines about memory given back (none when everything is set for it). */
export function memoryReturnNotes(
  config: Pick<ServeConfig, 'memoryArena' | 'idleReleaseMs'>,
  env: Record<string, string | undefined> = process.env,
  platform: string = process.platform,
): string[] {
  const notes: string[] = [];
  if (config.memoryArena === 1 && config.idleReleaseMs === 0) {
    notes.push('memory: EMSEG_IDLE_RELEASE_MS=0 with the memory arena on: the buffers of the largest session call stay allocated until the server stops');
  }
  if (platform === 'linux') {
    const missing = Object.keys(GLIBC_MEMORY_RETURN_ENV).filter((name) => env[name] === undefined || env[name] === '');
    if (missing.length > 0) {
      const settings = missing.map((name) => `${name}=${GLIBC_MEMORY_RETURN_ENV[name]}`).join(' ');
      notes.push(`memory: ${settings} is not set, so glibc may keep freed buffers after big requests; start the server with it in the environment (the image sets it)`);
    }
  }
  return notes;
}
