/**
 * The label chunks of a large labels job on disk (core/cells/volume-labels.ts LabelChunkStore),
 * until the final step joins them into cells: a hidden folder beside the output,
 *
 *   job.json                      the job identity (a store of another job is refused)
 *   <z>/<ly>/<lx>.labels          the chunk's core labels, uint32 little-endian, zlib-compressed
 *   <z>/<ly>/<lx>.record          its record (core/cells/label-chunk-record.ts)
 *
 * Each file is written atomically (node/atomic-write.ts), the record after the labels, so a chunk
 * whose record exists is complete: a killed job resumes with the chunks it finished. Several
 * processes (shards) may write into one store; a chunk written twice is written alike.
 */
import { link, mkdir, readFile, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { canonicalJson } from '../core/canonical-json.ts';
import { decodeLabelChunkRecord, encodeLabelChunkRecord } from '../core/cells/label-chunk-record.ts';
import type { LabelChunkRecord, LabelledChunk } from '../core/cells/label-chunk.ts';
import type { LabelChunkRef, LabelChunkStore } from '../core/cells/volume-labels.ts';
import { EmsegError } from '../core/errors.ts';
import { tempPathFor, writeFileAtomic } from './atomic-write.ts';
import { deflateBytes, inflateBytes } from './zlib-bytes.ts';

/** The job identity's file in the store: gone once the final step removed the store. */
export const LABEL_CHUNK_JOB_FILE = 'job.json';

export class FileLabelChunkStore implements LabelChunkStore {
  private constructor(readonly dir: string) {}

  /** Creates the store for `job`, or opens the one an earlier run of the same job left. */
  static async open(dir: string, job: unknown): Promise<FileLabelChunkStore> {
    await mkdir(dir, { recursive: true });
    const jobPath = join(dir, LABEL_CHUNK_JOB_FILE);
    const text = `${canonicalJson(job)}\n`;
    const temp = tempPathFor(jobPath);
    await writeFile(temp, text, { flag: 'wx' });
    try {
      await link(temp, jobPath); // fails if the store exists (or another shard created it first): then compare
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    } finally {
      await unlink(temp).catch(() => undefined);
    }
    const recorded = await readFile(jobPath, 'utf8');
    if (recorded !== text) {
      throw new EmsegError('E_OUTPUT_EXISTS', `${dir}: holds the label chunks of another job; delete it (or the output's other hidden .emseg-tmp-* files) or choose another output path`);
    }
    return new FileLabelChunkStore(dir);
  }

  private path(ref: LabelChunkRef, what: 'labels' | 'record'): string {
    return join(this.dir, String(ref.z), String(ref.ly), `${ref.lx}.${what}`);
  }

  async has(ref: LabelChunkRef): Promise<boolean> {
    return stat(this.path(ref, 'record')).then(() => true, () => false);
  }

  async write(ref: LabelChunkRef, chunk: LabelledChunk): Promise<void> {
    const { labels } = chunk;
    await writeFileAtomic(this.path(ref, 'labels'), await deflateBytes(new Uint8Array(labels.buffer, labels.byteOffset, labels.byteLength), 1));
    await writeFileAtomic(this.path(ref, 'record'), encodeLabelChunkRecord(chunk.record));
  }

  async readRecord(ref: LabelChunkRef): Promise<LabelChunkRecord> {
    const path = this.path(ref, 'record');
    try {
      const record = decodeLabelChunkRecord(new Uint8Array(await readFile(path)), path);
      if (record.lx !== ref.lx || record.ly !== ref.ly) throw new RangeError(`${path}: holds label chunk ${record.lx}, ${record.ly}`);
      return record;
    } catch (error) {
      throw new EmsegError('E_CORRUPT', `label chunk store: ${(error as Error).message}; delete ${this.dir} and run the command again`);
    }
  }

  async readLabels(ref: LabelChunkRef): Promise<Uint32Array> {
    const path = this.path(ref, 'labels');
    let bytes: Uint8Array<ArrayBuffer>;
    try {
      bytes = await inflateBytes(await readFile(path));
    } catch (error) {
      throw new EmsegError('E_CORRUPT', `label chunk store: ${path} cannot be read (${(error as Error).message}); delete ${this.dir} and run the command again`);
    }
    if (bytes.length % 4 !== 0) throw new EmsegError('E_CORRUPT', `label chunk store: ${path} holds ${bytes.length} bytes, not uint32 labels; delete ${this.dir} and run the command again`);
    return new Uint32Array(bytes.buffer, 0, bytes.length / 4);
  }

  /** Removes the store (after the final step). */
  async remove(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
  }
}

export function openLabelChunkStore(dir: string, job: unknown): Promise<FileLabelChunkStore> {
  return FileLabelChunkStore.open(dir, job);
}
