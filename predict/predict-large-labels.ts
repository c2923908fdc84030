/**
 * `emseg predict --output labels` (and `--cells`) on the large-image path (predict/predict-large.ts
 * calls it once the output is open): the probability goes to a hidden store beside the output,
 * label chunks are labelled from it as it arrives (core/cells/volume-labels.ts), and the process
 * that completes the job joins the cells, writes the labels to the output, the cell table, and
 * removes the hidden files. The label chunks are labelled in worker threads
 * (node/worker-labeller.ts) behind the tiler's writes, so that the main thread goes on feeding the
 * model. The labels are those of the in-memory path for the same image (core/cells/cell-labels.ts:
 * the same label chunks, joined the same way).
 *
 * Beside `out` until the job is complete (removed by its final step):
 *   .emseg-tmp-<name>.probability.zarr   float32 probabilities (OME-Zarr, uncompressed, no levels)
 *   .emseg-tmp-<name>.label-chunks/      each label chunk's labels and record (node/label-chunk-store.ts)
 *
 * Resuming: probability chunks, label chunks and output chunks already written are kept. Sharding:
 * each shard writes its probability chunks and labels its label chunks as their context is
 * written; the shard that finds every probability chunk written takes `final.lock` in the label
 * chunk store and runs the final step (a second shard finishing at the same moment leaves it);
 * `--finalize` runs it alone (and takes the lock whatever holds it: run it when no shard runs).
 */
import { rm, stat, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { cellTableCsv } from '../core/cells/cell-table.ts';
import type { CellParams } from '../core/cells/cell-params.ts';
import { LabellingSink, labelVolumeChunks, planVolumeLabels, writeVolumeLabels, type ProbabilitySource, type VolumeLabelPlan } from '../core/cells/volume-labels.ts';
import { DEFAULT_STRIPE_WIDTH, segmentVolume, type SegmentVolumeOptions, type VolumeProgress, type VolumeSegmentation } from '../core/stream-inference.ts';
import type { Shard } from '../core/chunk-plan.ts';
import { EmsegError } from '../core/errors.ts';
import type { TilePredictor } from '../core/tiling.ts';
import { countMissingChunks, type VolumeSink, type VolumeSource } from '../core/volume.ts';
import { writeFileAtomic } from '../node/atomic-write.ts';
import { LABEL_CHUNK_JOB_FILE, openLabelChunkStore, type FileLabelChunkStore } from '../node/label-chunk-store.ts';
import { openOmeZarrSink } from '../node/ome-zarr-sink.ts';
import { scratchPathBeside } from '../node/scratch-paths.ts';
import { startWorkerLabeller, type WorkerLabeller } from '../node/worker-labeller.ts';

/**
 * Labelling worker threads: one labels while the tiles are written (the model has the cores); from
 * the last tile on, what is left is labelled by all of them at once (two on a 2-core CPU: both
 * cores). More would hold more label chunks' working memory at once.
 */
const LABELLING_WORKERS = Math.min(2, availableParallelism());

/** A segmentation that wrote and predicted nothing (the final step alone, or nothing left to do). */
const NOTHING_DONE: VolumeSegmentation = { chunks: 0, chunksWritten: 0, chunksSkipped: 0, tilesPredicted: 0 };

/** The hidden files of a labels job beside its output `out`. */
export function labelScratchPaths(out: string): { probability: string; chunks: string } {
  return { probability: scratchPathBeside(out, 'probability.zarr'), chunks: scratchPathBeside(out, 'label-chunks') };
}

export interface LargeLabelsJob {
  input: string;
  out: string;
  /** The input volume; the labels are computed for its grid. */
  source: VolumeSource;
  /** The output (uint32, kind labels), opened for this job. */
  sink: VolumeSink;
  /** The job identity the output records; the hidden stores record it too. */
  job: Record<string, unknown>;
  params: CellParams;
  shard: Shard;
  /** Only the final step. */
  finalize: boolean;
  predictor: TilePredictor;
  /** The streaming tiler's options (model card, overrides, progress, signal). */
  segmentOptions: SegmentVolumeOptions;
  /**
   * A rescaled job: the model-scale probabilities, resampled back to the input's grid (one
   * process; computed by the caller), instead of the tiler writing them here.
   */
  rescaled?: { probability: ProbabilitySource; tilesPredicted: number };
  /** The cell table to write, with the pixel size (nm) its physical columns use. */
  table?: { path: string; pixelSize: number | undefined };
  onNotice?: (line: string, kind: 'info' | 'warning') => void;
  onProgress?: (progress: VolumeProgress) => void;
}

export interface LargeLabelsResult extends VolumeSegmentation {
  finalized: boolean;
  /** Probability chunks of other shards not written yet. */
  chunksMissing: number;
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(() => true, () => false);
}

/** Runs the labels job into `job.sink` (see the module comment); finalizes the output when it completes the job. */
export async function predictLargeLabels(job: LargeLabelsJob): Promise<LargeLabelsResult> {
  const { sink, params, shard } = job;
  const paths = labelScratchPaths(job.out);
  const stripeChunks = Math.max(1, Math.floor((job.segmentOptions.stripeWidth ?? DEFAULT_STRIPE_WIDTH) / sink.chunkWidth));
  const plan = planVolumeLabels(sink, params, shard, stripeChunks);

  // The final step ran already (the output is whole, the hidden files are gone): nothing to do.
  if (!(await exists(paths.chunks)) && (await countMissingChunks(sink)) === 0) {
    if (job.table && !(await exists(job.table.path))) {
      throw new EmsegError('E_BAD_ARGUMENT', `--cells ${job.table.path}: ${job.out} is complete and the probabilities it was labelled from are gone; the cell table is written by the run that completes the labels (delete ${job.out} and run again with --cells)`);
    }
    await sink.finalize();
    return { ...NOTHING_DONE, finalized: true, chunksMissing: 0 };
  }
  const chunkStore = await openLabelChunkStore(paths.chunks, { ...job.job, step: 'label chunks' });
  // Label chunks are labelled in worker threads, so that the main thread goes on feeding the model.
  const labeller = startWorkerLabeller(LABELLING_WORKERS);
  try {
    return await labelAndWrite(job, plan, paths, chunkStore, labeller);
  } finally {
    await labeller.close();
  }
}

/** The labels job from its open label chunk store on: probabilities and labelling, then the final step. */
async function labelAndWrite(job: LargeLabelsJob, plan: VolumeLabelPlan, paths: { probability: string; chunks: string }, chunkStore: FileLabelChunkStore, labeller: WorkerLabeller): Promise<LargeLabelsResult> {
  const { sink, params, shard } = job;
  let probability: ProbabilitySource;
  let result = NOTHING_DONE;
  let chunksMissing = 0;
  if (job.rescaled) {
    probability = job.rescaled.probability;
    result = { ...NOTHING_DONE, tilesPredicted: job.rescaled.tilesPredicted };
  } else {
    const store = await openOmeZarrSink({
      path: paths.probability, width: sink.width, height: sink.height, depth: sink.depth, chunkWidth: sink.chunkWidth, chunkHeight: sink.chunkHeight,
      sampleType: 'float32', kind: 'probability', job: { ...job.job, step: 'probabilities' }, levels: 0, compressionLevel: 0, inputs: [job.input],
    });
    probability = store;
    if (!job.finalize) {
      const labelling = await LabellingSink.open(store, chunkStore, plan, plan.mine, params, labeller.label, labeller.workers);
      try {
        result = await segmentVolume(job.source, labelling, job.predictor, { ...job.segmentOptions, output: 'probability', shard });
      } catch (error) {
        // a stopped or failed run returns once the chunk being labelled is stored (or failed);
        // the rest of the queue is labelled when the job runs again
        labelling.stop();
        await labelling.settled();
        throw error;
      }
      // Another shard may complete the job (and remove the hidden files) while this one labels.
      const completedElsewhere = async () => !(await exists(join(paths.chunks, LABEL_CHUNK_JOB_FILE)));
      try {
        await labelling.labelReady();
      } catch (error) {
        if (!(await completedElsewhere())) throw error;
      }
      if (await completedElsewhere()) {
        await rm(paths.chunks, { recursive: true, force: true }); // what a late write left
        job.onNotice?.(`${job.out}: another process completed the job while this one ran`, 'info');
        return { ...result, finalized: false, chunksMissing: 0 };
      }
    }
    chunksMissing = shard.count === 1 && !job.finalize ? 0 : await countMissingChunks(store);
    if (chunksMissing > 0) {
      if (job.finalize) {
        throw new EmsegError('E_CORRUPT', `${job.out}: ${chunksMissing} probability chunks of the labels job are not written yet; finish every shard before the final step`);
      }
      return { ...result, finalized: false, chunksMissing };
    }
    if (shard.count > 1 || job.finalize) {
      try {
        await writeFile(join(paths.chunks, 'final.lock'), `${process.pid}\n`, { flag: job.finalize ? 'w' : 'wx' });
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        job.onNotice?.(`${job.out}: another process is running the final step (or was stopped in it: then run the same command with --finalize)`, 'info');
        return { ...result, finalized: false, chunksMissing: 0 };
      }
    }
  }

  // The final step: label chunks left (their context finished in another shard), join, write.
  const tiles = result.tilesPredicted;
  const progress = (chunksDone: number, chunks: number) => job.onProgress?.({ tilesDone: tiles, tiles, chunksDone, chunks, chunksSkipped: 0 });
  const left = [];
  for (const ref of plan.all) if (!(await chunkStore.has(ref))) left.push(ref);
  if (left.length > 0) {
    job.onNotice?.(`labels: labelling ${left.length} label chunk${left.length > 1 ? 's' : ''} of ${plan.grid.size}x${plan.grid.size} pixels`, 'info');
    let done = 0;
    await labelVolumeChunks(probability, chunkStore, plan, left, params, () => progress(++done, left.length), labeller.label, labeller.workers);
  }
  job.onNotice?.(`labels: joining the cells of ${plan.all.length} label chunk${plan.all.length > 1 ? 's' : ''} and writing them`, 'info');
  const labels = await writeVolumeLabels(chunkStore, sink, plan, {
    ...(job.table ? { measureWith: probability } : {}),
    onChunk: progress,
    ...(job.segmentOptions.signal ? { signal: job.segmentOptions.signal } : {}),
  });
  await sink.finalize();
  if (job.table) {
    const csv = cellTableCsv([{ image: job.input, cells: labels.cells ?? [], pixelSize: job.table.pixelSize }]);
    await writeFileAtomic(job.table.path, csv, { inputs: [job.input] });
  }
  await chunkStore.remove();
  if (!job.rescaled) await rm(paths.probability, { recursive: true, force: true });
  const cells = labels.counts.reduce((a, b) => a + b, 0);
  job.onNotice?.(`labels: ${cells} cell${cells === 1 ? '' : 's'}${labels.counts.length > 1 ? ` in ${labels.counts.length} slices` : ''}`, 'info');
  return { ...result, finalized: true, chunksMissing: 0 };
}
