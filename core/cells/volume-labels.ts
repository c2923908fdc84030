/**
 * Instance labels of volumes too large for memory (the large-image path of `emseg predict
 * --output labels`): the label chunks of cell-labels.ts, computed from a probability volume read
 * region by region, kept on disk, then joined and written chunk by chunk. Each slice gets the same
 * labels as labelCells on the slice in memory (the same chunks, contexts, records and joining),
 * with a bounded memory: one label chunk's context at a time while labelling (atOnceWhenReady
 * once the writes are done), one slice's chunk records and three label chunks' labels while
 * writing (the next is read while this one is renumbered and the one before is still being
 * compressed and written). Platform-neutral (the stores are interfaces).
 *
 * 1. Labelling: each label chunk is labelled from its context's probability (labelVolumeChunk)
 *    as soon as every probability chunk under the context is written (LabellingSink, which wraps
 *    the probability store the streaming tiler writes, and labels behind its writes, in this
 *    thread or another: ChunkLabeller), and stored with its record.
 * 2. Joining and writing (writeVolumeLabels): slice by slice, every chunk record is read and the
 *    cells are joined (chunk-merge.ts); then each label chunk's labels are read back, renumbered
 *    and written to the output's chunks, and, for the cell table, measured (CellMeasurer) with the
 *    probability under them.
 *
 * Resuming: label chunks already stored are not labelled again, output chunks already written are
 * not written again (they are read back from the store when the table needs them). Sharding: each
 * process labels the label chunks whose first output chunk is in its share of the chunk order
 * (core/chunk-plan.ts), when their context is written; the process that completes the job labels
 * any left (those whose context another shard finished later) and runs step 2.
 */
import { chunkOrder, shardOf, WHOLE_JOB, type Shard } from '../chunk-plan.ts';
import { forEachConcurrently } from '../concurrently.ts';
import { EmsegError } from '../errors.ts';
import type { Box } from '../padding.ts';
import { chunkBox, type ChunkIndex, type ChunkLayout, type VolumeSink } from '../volume.ts';
import { CellMeasurer, type CellMeasurement } from './cell-measurements.ts';
import type { CellParams } from './cell-params.ts';
import { finalChunkLabels, finalSurroundings, resolveLabelChunks } from './chunk-merge.ts';
import { labelChunk, labelChunkContext, labelChunkCore, labelChunkGrid, type LabelChunkGrid, type LabelChunkRecord, type LabelledChunk } from './label-chunk.ts';

/** A label chunk of a volume: slice z, label chunk column lx and row ly. */
export interface LabelChunkRef {
  z: number;
  lx: number;
  ly: number;
}

/** Where the large-image path keeps each label chunk's labels and record until they are joined. */
export interface LabelChunkStore {
  /** True when the chunk's labels and record were both written (by this or an earlier run of the job). */
  has(ref: LabelChunkRef): Promise<boolean>;
  /** Writes the labels, then the record, each completely or not at all. */
  write(ref: LabelChunkRef, chunk: LabelledChunk): Promise<void>;
  readRecord(ref: LabelChunkRef): Promise<LabelChunkRecord>;
  readLabels(ref: LabelChunkRef): Promise<Uint32Array>;
}

/** A probability volume read by region (float32 slices): a VolumeSource, or the store the tiler wrote. */
export interface ProbabilitySource {
  readRegion(z: number, box: Box): Promise<{ readonly width: number; readonly height: number; readonly data: ArrayLike<number> }>;
}

/** The label chunks of a volume's slices, their grid, and which are one shard's. */
export interface VolumeLabelPlan {
  grid: LabelChunkGrid;
  layout: ChunkLayout;
  /** Every label chunk, slice by slice, row by row. */
  all: LabelChunkRef[];
  /** The label chunks of `shard`: those whose first output chunk is in the shard's share of the chunk order. */
  mine: LabelChunkRef[];
}

/**
 * The plan of a volume's label chunks over an output chunk layout (the probability store's and the
 * output's, whose chunks must tile each label chunk): E_BAD_ARGUMENT when the label chunk size is
 * not a multiple of the output chunk size.
 */
export function planVolumeLabels(layout: ChunkLayout, params: CellParams, shard: Shard = WHOLE_JOB, stripeChunks = 1): VolumeLabelPlan {
  if (params.chunkSize % layout.chunkWidth !== 0 || params.chunkSize % layout.chunkHeight !== 0) {
    throw new EmsegError('E_BAD_ARGUMENT', `cell parameters: chunkSize: expected a multiple of the output chunk size ${layout.chunkWidth}x${layout.chunkHeight}, found ${params.chunkSize}`);
  }
  const grid = labelChunkGrid(layout.width, layout.height, params);
  const all: LabelChunkRef[] = [];
  for (let z = 0; z < layout.depth; z++) for (let ly = 0; ly < grid.rows; ly++) for (let lx = 0; lx < grid.columns; lx++) all.push({ z, lx, ly });
  const step = params.chunkSize / layout.chunkWidth;
  const key = (chunk: ChunkIndex) => `${chunk.z}/${chunk.cx}/${chunk.cy}`;
  const share = new Set(shardOf(chunkOrder(layout, stripeChunks), shard).map(key));
  const mine = all.filter((ref) => share.has(key({ z: ref.z, cx: ref.lx * step, cy: ref.ly * (params.chunkSize / layout.chunkHeight) })));
  return { grid, layout, all, mine };
}

/** The output chunks under a label chunk's context (its probability), or under its core. */
export function chunksUnder(plan: VolumeLabelPlan, ref: LabelChunkRef, what: 'context' | 'core'): ChunkIndex[] {
  const box = what === 'context' ? labelChunkContext(plan.grid, ref.lx, ref.ly) : labelChunkCore(plan.grid, ref.lx, ref.ly);
  const { chunkWidth, chunkHeight } = plan.layout;
  const chunks: ChunkIndex[] = [];
  for (let cy = Math.floor(box.y / chunkHeight); cy <= Math.floor((box.y + box.height - 1) / chunkHeight); cy++) {
    for (let cx = Math.floor(box.x / chunkWidth); cx <= Math.floor((box.x + box.width - 1) / chunkWidth); cx++) chunks.push({ z: ref.z, cx, cy });
  }
  return chunks;
}

async function readProbability(probability: ProbabilitySource, z: number, box: Box): Promise<Float32Array> {
  const { data } = await probability.readRegion(z, box);
  if (!(data instanceof Float32Array) || data.length !== box.width * box.height) {
    throw new EmsegError('E_CORRUPT', `probability of slice ${z} at (${box.x}, ${box.y}): expected ${box.width * box.height} float32 values, found ${data.length} ${data.constructor.name} values`);
  }
  return data;
}

/**
 * Labels label chunk (lx, ly) from the probability of its context: label-chunk.ts labelChunk, in
 * this thread (labelInThisThread) or in another (node/worker-labeller.ts, which may take the
 * probability array over: labelVolumeChunk reads it for this call alone). Both give the same chunk.
 */
export type ChunkLabeller = (probability: Float32Array, grid: LabelChunkGrid, lx: number, ly: number, params: CellParams) => Promise<LabelledChunk>;

export const labelInThisThread: ChunkLabeller = async (probability, grid, lx, ly, params) => labelChunk(probability, grid, lx, ly, params);

/** Labels one label chunk from the probability under its context, and stores it. */
export async function labelVolumeChunk(
  probability: ProbabilitySource,
  store: LabelChunkStore,
  plan: VolumeLabelPlan,
  ref: LabelChunkRef,
  params: CellParams,
  labeller: ChunkLabeller = labelInThisThread,
): Promise<void> {
  const context = labelChunkContext(plan.grid, ref.lx, ref.ly);
  const labelled = await labeller(await readProbability(probability, ref.z, context), plan.grid, ref.lx, ref.ly, params);
  await store.write(ref, labelled);
}

/** Labels and stores every chunk of `refs` not stored yet, `atOnce` at a time (default 1); returns how many it labelled. */
export async function labelVolumeChunks(
  probability: ProbabilitySource,
  store: LabelChunkStore,
  plan: VolumeLabelPlan,
  refs: readonly LabelChunkRef[],
  params: CellParams,
  onChunk?: () => void,
  labeller: ChunkLabeller = labelInThisThread,
  atOnce = 1,
): Promise<number> {
  let labelled = 0;
  await forEachConcurrently(refs, atOnce, async (ref) => {
    if (await store.has(ref)) return;
    await labelVolumeChunk(probability, store, plan, ref, params, labeller);
    labelled++;
    onChunk?.();
  });
  return labelled;
}

/**
 * The probability store of a labels job, as the streaming tiler's sink: each chunk written goes to
 * the store, then every label chunk of `refs` whose context is now all written is queued for
 * labelling and storing. The queue is worked through one label chunk at a time, behind the
 * writes: a write does not wait for the labelling it queued, so the tiler goes on feeding the
 * model meanwhile (with node/worker-labeller.ts the labelling runs on another thread). Once the
 * writes are done, labelReady works through what is left `atOnceWhenReady` chunks at a time (the
 * model is idle then: with that many labelling workers, the cores it leaves label). The first
 * labelling error is thrown by the next write or by labelReady; `stop` leaves the rest of the
 * queue, and `settled` waits for the labelling under way without throwing (before a failed or
 * stopped run returns).
 */
export class LabellingSink implements VolumeSink {
  readonly width: number;
  readonly height: number;
  readonly depth: number;
  readonly chunkWidth: number;
  readonly chunkHeight: number;
  readonly sampleType;
  /** Label chunks labelled by this sink. */
  labelled = 0;
  /** Per label chunk still to do: probability chunks under its context not written yet. */
  private readonly pending = new Map<string, { ref: LabelChunkRef; missing: number }>();
  /** Per probability chunk: the label chunks waiting for it. */
  private readonly waiting = new Map<string, string[]>();
  /** Label chunks queued and not started yet, in the order their context was completed. */
  private readonly queued: LabelChunkRef[] = [];
  /** Label chunks being labelled now. */
  private running = 0;
  /** Label chunks labelled at once: 1 while the tiles are written, atOnceWhenReady from labelReady on. */
  private atOnce = 1;
  /** Called when the sink becomes idle (idle()). */
  private idleWaiters: (() => void)[] = [];
  /** The first labelling error; nothing queued after it is started. */
  private failure: { error: unknown } | undefined;
  /** Set by stop(): nothing queued is started any more. */
  private stopped = false;

  private constructor(
    private readonly store: VolumeSink & ProbabilitySource,
    private readonly chunks: LabelChunkStore,
    private readonly plan: VolumeLabelPlan,
    private readonly params: CellParams,
    private readonly labeller: ChunkLabeller,
    private readonly atOnceWhenReady: number,
  ) {
    this.width = store.width;
    this.height = store.height;
    this.depth = store.depth;
    this.chunkWidth = store.chunkWidth;
    this.chunkHeight = store.chunkHeight;
    this.sampleType = store.sampleType;
  }

  /**
   * Wraps `store`; `refs` are the label chunks to label as their probability arrives (those stored
   * already are skipped), each by `labeller` (default: in this thread), one at a time while the
   * tiles are written and `atOnceWhenReady` at a time (default 1) from labelReady on.
   */
  static async open(
    store: VolumeSink & ProbabilitySource,
    chunks: LabelChunkStore,
    plan: VolumeLabelPlan,
    refs: readonly LabelChunkRef[],
    params: CellParams,
    labeller: ChunkLabeller = labelInThisThread,
    atOnceWhenReady = 1,
  ): Promise<LabellingSink> {
    if (!Number.isInteger(atOnceWhenReady) || atOnceWhenReady < 1) throw new RangeError(`atOnceWhenReady: expected an integer >= 1, found ${atOnceWhenReady}`);
    const sink = new LabellingSink(store, chunks, plan, params, labeller, atOnceWhenReady);
    const complete = new Map<string, boolean>();
    for (const ref of refs) {
      if (await chunks.has(ref)) continue;
      const key = refKey(ref);
      let missing = 0;
      for (const chunk of chunksUnder(plan, ref, 'context')) {
        const chunkKey = indexKey(chunk);
        let done = complete.get(chunkKey);
        if (done === undefined) complete.set(chunkKey, (done = await store.isChunkComplete(chunk)));
        if (done) continue;
        missing++;
        const list = sink.waiting.get(chunkKey);
        if (list) list.push(key);
        else sink.waiting.set(chunkKey, [key]);
      }
      sink.pending.set(key, { ref, missing });
    }
    return sink;
  }

  async writeChunk(chunk: ChunkIndex, data: Uint8Array | Float32Array | Uint32Array): Promise<void> {
    this.throwIfFailed();
    await this.store.writeChunk(chunk, data);
    const chunkKey = indexKey(chunk);
    const keys = this.waiting.get(chunkKey) ?? [];
    this.waiting.delete(chunkKey);
    for (const key of keys) {
      const entry = this.pending.get(key)!;
      if (--entry.missing > 0) continue;
      this.pending.delete(key);
      this.enqueue(entry.ref);
    }
  }

  /** Queues a label chunk whose context is all written. */
  private enqueue(ref: LabelChunkRef): void {
    this.queued.push(ref);
    this.startQueued();
  }

  /** Starts queued label chunks while fewer than `atOnce` are being labelled; wakes the idle waiters when nothing runs or can start. */
  private startQueued(): void {
    while (this.running < this.atOnce && this.queued.length > 0 && !this.failure && !this.stopped) {
      const ref = this.queued.shift()!;
      this.running++;
      labelVolumeChunk(this.store, this.chunks, this.plan, ref, this.params, this.labeller)
        .then(
          () => void this.labelled++,
          (error: unknown) => void (this.failure ??= { error }),
        )
        .finally(() => {
          this.running--;
          this.startQueued();
        });
    }
    if (this.idle()) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const wake of waiters) wake();
    }
  }

  /** Nothing is being labelled and nothing queued can start (the queue is empty, failed or stopped). */
  private idle(): boolean {
    return this.running === 0 && (this.queued.length === 0 || this.failure !== undefined || this.stopped);
  }

  private throwIfFailed(): void {
    if (this.failure) throw this.failure.error;
  }

  /** Resolves when the label chunks queued so far are labelled and stored, or the queue failed or was stopped; never rejects. */
  settled(): Promise<void> {
    if (this.idle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /**
   * Labels nothing more of what is queued (the chunks being labelled are still stored): for a run
   * that stops; the chunks left are labelled when the job runs again.
   */
  stop(): void {
    this.stopped = true;
  }

  /**
   * Once the writes are done: labels what is queued, then the chunks whose context is written now
   * (by other processes too), `atOnceWhenReady` at a time; returns how many are still waiting for
   * their context. Throws the queue's first error.
   */
  async labelReady(): Promise<number> {
    this.atOnce = this.atOnceWhenReady;
    this.startQueued();
    await this.settled();
    this.throwIfFailed();
    for (const [key, entry] of [...this.pending]) {
      let ready = true;
      for (const chunk of chunksUnder(this.plan, entry.ref, 'context')) {
        if (!(await this.store.isChunkComplete(chunk))) {
          ready = false;
          break;
        }
      }
      if (!ready) continue;
      this.pending.delete(key);
      if (!(await this.chunks.has(entry.ref))) this.enqueue(entry.ref);
    }
    await this.settled();
    this.throwIfFailed();
    return this.pending.size;
  }

  isChunkComplete(chunk: ChunkIndex): Promise<boolean> {
    return this.store.isChunkComplete(chunk);
  }

  finalize(): Promise<void> {
    return this.store.finalize();
  }

  close(): Promise<void> {
    return this.store.close();
  }
}

const refKey = (ref: LabelChunkRef) => `${ref.z}/${ref.lx}/${ref.ly}`;
const indexKey = (chunk: ChunkIndex) => `${chunk.z}/${chunk.cx}/${chunk.cy}`;

export interface WriteVolumeLabelsOptions {
  /** The probability volume, to measure the cells for the table (border membrane probability); no table without it. */
  measureWith?: ProbabilitySource;
  /** Called after each label chunk is written (done, total). */
  onChunk?: (done: number, total: number) => void;
  signal?: AbortSignal;
}

export interface VolumeLabels {
  /** Cells per slice. */
  counts: number[];
  /** Every slice's cells in label order, slice after slice (with `measureWith`). */
  cells?: CellMeasurement[];
  /** Output chunks written by this run (the others were complete already). */
  chunksWritten: number;
}

/**
 * Joins the stored label chunks of every slice into cells and writes them to `sink` (uint32,
 * chunks tiling the label chunks), skipping output chunks already complete. Every label chunk
 * must be stored.
 */
export async function writeVolumeLabels(store: LabelChunkStore, sink: VolumeSink, plan: VolumeLabelPlan, options: WriteVolumeLabelsOptions = {}): Promise<VolumeLabels> {
  if (sink.sampleType !== 'uint32') throw new EmsegError('E_BAD_ARGUMENT', `labels output: expected a uint32 output, found ${sink.sampleType}`);
  const { grid, layout } = plan;
  const counts: number[] = [];
  const cells: CellMeasurement[] = [];
  const measure = options.measureWith;
  let chunksWritten = 0;
  let done = 0;
  const total = plan.all.length;
  // The output chunks of the label chunk before, still being compressed and written while this
  // one is renumbered (at most two label chunks' writes in flight); awaited before the next starts.
  let writing: Promise<void> = Promise.resolve();
  // The output chunks of the label chunk just renumbered (settles when all of them are done).
  let latest: Promise<unknown> = Promise.resolve();
  const written = async (writes: Promise<PromiseSettledResult<void>[]>, count: number): Promise<void> => {
    const failed = (await writes).find((result) => result.status === 'rejected');
    if (failed) throw failed.reason;
    chunksWritten += count;
    options.onChunk?.(++done, total);
  };
  try {
    for (let z = 0; z < layout.depth; z++) {
      const refs = plan.all.filter((ref) => ref.z === z);
      const records: LabelChunkRecord[] = [];
      for (const ref of refs) records.push(await store.readRecord(ref));
      const resolution = resolveLabelChunks(grid, records);
      counts.push(resolution.count);
      const measurer = measure ? new CellMeasurer(resolution.count, layout.width, layout.height) : undefined;
      // What each label chunk needs read: its output chunks not written yet, and its stored labels
      // when it has any of those (or a table to measure). The next chunk's are read while this one's
      // are renumbered and written.
      const readNeeds = async (ref: LabelChunkRef): Promise<{ todo: ChunkIndex[]; stored: Uint32Array | null }> => {
        const todo: ChunkIndex[] = [];
        for (const chunk of chunksUnder(plan, ref, 'core')) if (!(await sink.isChunkComplete(chunk))) todo.push(chunk);
        return { todo, stored: todo.length > 0 || measurer ? await store.readLabels(ref) : null };
      };
      let next = refs.length > 0 ? readNeeds(refs[0]!) : undefined;
      for (const [i, ref] of refs.entries()) {
        options.signal?.throwIfAborted();
        const record = records[i]!;
        const { todo, stored } = await next!;
        next = i + 1 < refs.length ? readNeeds(refs[i + 1]!) : undefined;
        // a rejection of the read ahead is seen when its turn comes, not as an unhandled one now
        next?.catch(() => {});
        let writes: Promise<PromiseSettledResult<void>[]> = Promise.resolve([]);
        if (stored !== null) {
          const labels = finalChunkLabels(resolution, record, stored);
          const { core } = record;
          // the output chunks are compressed and written side by side (the sinks' writes may overlap)
          writes = Promise.allSettled(
            todo.map((chunk) => {
              const box = chunkBox(sink, chunk);
              const data = new Uint32Array(box.width * box.height);
              for (let y = 0; y < box.height; y++) {
                const from = (box.y - core.y + y) * core.width + box.x - core.x;
                data.set(labels.subarray(from, from + box.width), y * box.width);
              }
              return sink.writeChunk(chunk, data);
            }),
          );
          latest = writes;
          if (measurer && measure) {
            measurer.add({ box: core, labels, probability: await readProbability(measure, z, core), surroundings: finalSurroundings(resolution, records, ref.lx, ref.ly) });
          }
        }
        await writing;
        writing = written(writes, stored === null ? 0 : todo.length);
        // a rejection of these writes is seen when the next chunk (or the end) awaits them
        writing.catch(() => {});
      }
      if (measurer) cells.push(...measurer.rows(z));
    }
    await writing;
  } finally {
    // a stopped or failed run returns once no write of its own is in flight
    await Promise.allSettled([writing, latest]);
  }
  return { counts, chunksWritten, ...(measure ? { cells } : {}) };
}
