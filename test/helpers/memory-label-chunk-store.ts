/**
 * An in-memory LabelChunkStore (core/cells/volume-labels.ts) for tests of the large-image labels:
 * the labelled chunks kept in a map by slice and label chunk.
 */
import type { LabelChunkRecord, LabelledChunk } from '../../core/cells/label-chunk.ts';
import type { LabelChunkRef, LabelChunkStore } from '../../core/cells/volume-labels.ts';

const key = (ref: LabelChunkRef) => `${ref.z}/${ref.lx}/${ref.ly}`;

export class MemoryLabelChunkStore implements LabelChunkStore {
  readonly chunks = new Map<string, LabelledChunk>();
  async has(ref: LabelChunkRef): Promise<boolean> {
    return this.chunks.has(key(ref));
  }
  async write(ref: LabelChunkRef, chunk: LabelledChunk): Promise<void> {
    this.chunks.set(key(ref), chunk);
  }
  async readRecord(ref: LabelChunkRef): Promise<LabelChunkRecord> {
    return this.chunks.get(key(ref))!.record;
  }
  async readLabels(ref: LabelChunkRef): Promise<Uint32Array> {
    return this.chunks.get(key(ref))!.labels;
  }
}
