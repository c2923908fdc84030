/**
 * The order in which the output chunks of a volume are computed, and how that order is cut into
 * shards (`emseg predict --shard i/N`). Platform-neutral.
 *
 * Order: slice by slice; inside a slice, vertical stripes of `stripeChunks` chunk columns, left
 * to right; inside a stripe, chunk rows top to bottom, and chunks left to right. Neighbouring
 * chunks share tiles (tiles overlap chunk edges), and the streaming tiler keeps a tile only until
 * the last chunk that needs it, so the stripe width bounds how many tiles are held at once
 * (about two stripe-wide rows of tiles).
 *
 * Shards: shard i of N gets the i-th of N contiguous runs of that order (sizes differ by at most
 * one chunk). Shards are unions of whole chunks, so no two shards ever write the same chunk, and
 * together they cover every chunk exactly once.
 */
import { EmsegError } from './errors.ts';
import { chunkGrid, type ChunkIndex, type ChunkLayout } from './volume.ts';

/** One of N shards: index 0..count-1. */
export interface Shard {
  index: number;
  count: number;
}

export const WHOLE_JOB: Readonly<Shard> = { index: 0, count: 1 };

/** Parses `i/N` as typed after `--shard` (0 <= i < N). */
export function parseShard(text: string, flag = '--shard'): Shard {
  const match = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  if (!match) throw new EmsegError('E_BAD_ARGUMENT', `${flag}: expected i/N with 0 <= i < N (e.g. 0/4), found ${JSON.stringify(text)}`);
  const index = Number(match[1]);
  const count = Number(match[2]);
  if (count < 1 || index >= count) throw new EmsegError('E_BAD_ARGUMENT', `${flag}: expected i/N with 0 <= i < N (e.g. 0/4), found ${JSON.stringify(text)}`);
  return { index, count };
}

/** Every chunk of the volume in computing order (see the module comment). */
export function chunkOrder(grid: ChunkLayout, stripeChunks: number): ChunkIndex[] {
  if (!Number.isInteger(stripeChunks) || stripeChunks < 1) throw new RangeError(`stripeChunks: expected a positive integer, found ${stripeChunks}`);
  const { columns, rows } = chunkGrid(grid);
  const order: ChunkIndex[] = [];
  for (let z = 0; z < grid.depth; z++) {
    for (let stripe = 0; stripe < columns; stripe += stripeChunks) {
      for (let cy = 0; cy < rows; cy++) {
        for (let cx = stripe; cx < Math.min(columns, stripe + stripeChunks); cx++) order.push({ z, cx, cy });
      }
    }
  }
  return order;
}

/** The run of `order` that belongs to `shard`. */
export function shardOf<T>(order: readonly T[], shard: Shard): T[] {
  const { index, count } = shard;
  if (!Number.isInteger(count) || count < 1 || !Number.isInteger(index) || index < 0 || index >= count) {
    throw new EmsegError('E_BAD_ARGUMENT', `shard: expected i/N with 0 <= i < N, found ${index}/${count}`);
  }
  const start = Math.floor((index * order.length) / count);
  const end = Math.floor(((index + 1) * order.length) / count);
  return order.slice(start, end);
}
