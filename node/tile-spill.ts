/**
 * The large path's tile spill (core/stitch.ts TileSpill): predictions of the tiles on a stripe's
 * border, which the next stripe needs only after the rest of this one, wait in files of a hidden
 * folder beside the output (`.emseg-tmp-<output>.tiles-<random>`) instead of memory: a column of
 * 512x512 float32 tiles as tall as the slice, about 90 MB for a 40000-pixel-high slice. Each file
 * is one tile's float32 values as they are in memory, read back once and removed; the folder is
 * removed by close(). A process killed meanwhile leaves the folder (nothing in it is needed again:
 * a resumed job predicts the tiles it needs).
 */
import { mkdtemp, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TileSpill } from '../core/stitch.ts';
import { scratchPathBeside } from './scratch-paths.ts';

export interface FileTileSpill extends Pick<TileSpill, 'put' | 'take'> {
  readonly folder: string;
  /** Tiles put and not taken back yet. */
  readonly waiting: number;
  /** Removes the folder and whatever is still in it. */
  close(): Promise<void>;
}

/** A tile spill in a new hidden folder beside `out` (the output file or store). */
export async function openTileSpill(out: string): Promise<FileTileSpill> {
  const folder = await mkdtemp(scratchPathBeside(out, 'tiles-'));
  const waiting = new Set<number>();
  const path = (key: number) => join(folder, `${key}.f32`);
  return {
    folder,
    get waiting() {
      return waiting.size;
    },
    async put(key, prediction) {
      await writeFile(path(key), new Uint8Array(prediction.buffer, prediction.byteOffset, prediction.byteLength));
      waiting.add(key);
    },
    async take(key) {
      if (!waiting.has(key)) throw new Error(`tile spill: tile ${key} was not put`);
      const bytes = await readFile(path(key));
      await unlink(path(key));
      waiting.delete(key);
      // a copy when the bytes do not start on a float32 boundary of their buffer
      const aligned = bytes.byteOffset % 4 === 0 ? bytes : new Uint8Array(bytes);
      return new Float32Array(aligned.buffer, aligned.byteOffset, aligned.byteLength / 4);
    },
    async close() {
      await rm(folder, { recursive: true, force: true });
    },
  };
}
