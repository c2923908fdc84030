/**
 * `emseg predict` on the large-image path, as a user runs it (spawned `node bin/emseg.js`
 * processes, a tiny U-Net): the OME-Zarr output, from a TIFF or an OME-Zarr input, and the
 * BigTIFF output equal the in-memory path's masks; a run killed
 * with SIGKILL and run again equals an uninterrupted run; 3 shards as 3 concurrent processes into one
 * store, one of them killed and rerun, equal a single process; another job's store and an
 * early --finalize are refused with one line, leaving the store as it was.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { inflateSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { segmentOptionsFromCard } from '../core/card-options.ts';
import type { GreyImage } from '../core/image.ts';
import { segmentStack } from '../core/inference.ts';
import { encodeTiff } from '../core/tiff.ts';
import { allChunks, chunkBox } from '../core/volume.ts';
import { openOmeZarrSink } from '../node/ome-zarr-sink.ts';
import { openVolume, openVolumeSink } from '../node/open-volume.ts';
import { readImageFile } from '../node/image-files.ts';
import { loadOnnxModel } from '../node/load-onnx-model.ts';
import { tinyUNetOnnx } from './helpers/tiny-unet-onnx.ts';
import { problemLines } from './helpers/stderr-lines.ts';

const [WIDTH, HEIGHT, DEPTH] = [1100, 600, 3];
const CHUNK = 512; // the CLI's chunk size: 3 x 2 chunks per slice
const CHUNKS = DEPTH * 3 * 2;
let dir: string;
let input: string;
let model: string;
let common: string[];
let pages: GreyImage<Uint8Array>[];
let expected: Uint8Array[];

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs emseg predict; `killWhen(store)` is polled every 25 ms and SIGKILLs the process when true. */
function predict(args: string[], killWhen?: () => boolean): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['bin/emseg.js', 'predict', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    const poll = killWhen ? setInterval(() => killWhen() && child.kill('SIGKILL'), 25) : undefined;
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (poll) clearInterval(poll);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

function levelZeroChunks(store: string): string[] {
  const root = join(store, '0');
  if (!existsSync(root)) return [];
  const files: string[] = [];
  const walk = (path: string) => {
    for (const entry of readdirSync(path, { withFileTypes: true })) {
      if (entry.isDirectory()) walk(join(path, entry.name));
      else if (/^\d+$/.test(entry.name)) files.push(join(path, entry.name));
    }
  };
  walk(root);
  return files;
}

/** Every file of a store (temp files left by a kill excluded), path -> bytes. */
function storeFiles(store: string): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  const walk = (path: string) => {
    for (const entry of readdirSync(path, { withFileTypes: true })) {
      const full = join(path, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (!entry.name.endsWith('.tmp')) files.set(relative(store, full), readFileSync(full));
    }
  };
  walk(store);
  return files;
}

function expectSameStore(a: string, b: string): void {
  const left = storeFiles(a);
  const right = storeFiles(b);
  expect([...right.keys()].sort()).toEqual([...left.keys()].sort());
  for (const [path, bytes] of left) expect(bytes.equals(right.get(path)!), path).toBe(true);
}

/** Level 0 of a uint8 store as one array per slice. */
function readLevelZero(store: string): Uint8Array[] {
  return Array.from({ length: DEPTH }, (_, z) => {
    const slice = new Uint8Array(WIDTH * HEIGHT);
    for (let cy = 0; cy * CHUNK < HEIGHT; cy++) {
      for (let cx = 0; cx * CHUNK < WIDTH; cx++) {
        const chunk = inflateSync(readFileSync(join(store, '0', String(z), String(cy), String(cx))));
        for (let row = 0; row < CHUNK && cy * CHUNK + row < HEIGHT; row++) {
          const w = Math.min(CHUNK, WIDTH - cx * CHUNK);
          slice.set(chunk.subarray(row * CHUNK, row * CHUNK + w), (cy * CHUNK + row) * WIDTH + cx * CHUNK);
        }
      }
    }
    return slice;
  });
}

const isFinalized = (store: string) => existsSync(join(store, '.zattrs')) && readFileSync(join(store, '.zattrs'), 'utf8').includes('multiscales');

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'emseg-large-cli-'));
  const isbi = (await readImageFile('data/isbi2012/train-volume.tif')).pages;
  pages = Array.from({ length: DEPTH }, (_, z) => {
    const data = new Uint8Array(WIDTH * HEIGHT);
    for (let y = 0; y < HEIGHT; y++) for (let x = 0; x < WIDTH; x++) data[y * WIDTH + x] = isbi[(z * 3 + Math.floor(x / 512)) % 30]!.data[(y % 512) * 512 + (x % 512)]!;
    return { width: WIDTH, height: HEIGHT, data };
  });
  input = join(dir, 'montage.tif');
  writeFileSync(input, encodeTiff({ width: WIDTH, height: HEIGHT, pages }));
  model = (await tinyUNetOnnx({ depth: 2, baseFilters: 4 })).path;
  common = ['--model', model, '--tile', '128', '--halo', '16', '--ep', 'cpu', '--quiet'];
  // The in-memory path's masks (core/inference.ts), the reference every large-path output must equal.
  const loaded = await loadOnnxModel(model, { providers: 'cpu' });
  const stack = await segmentStack({ width: WIDTH, height: HEIGHT, pages }, loaded.predictor, segmentOptionsFromCard(loaded.card, { tile: 128, halo: 16 }));
  expected = stack.mask.pages.map((page) => page.data);
  await loaded.close();
}, 120_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('emseg predict to OME-Zarr', () => {
  it('writes the masks of the in-memory path, chunk by chunk, and finalizes the store', async () => {
    const run = await predict([input, '-o', join(dir, 'single.zarr'), ...common]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/single\.zarr .*18 chunks written, 0 already done; complete/);
    expect(isFinalized(join(dir, 'single.zarr'))).toBe(true);
    const got = readLevelZero(join(dir, 'single.zarr'));
    for (let z = 0; z < DEPTH; z++) expect(Buffer.from(got[z]!).equals(Buffer.from(expected[z]!)), `slice ${z}`).toBe(true);

    // The same pixels as an OME-Zarr volume input: the same masks.
    const zarrInput = join(dir, 'montage.ome.zarr');
    const sink = await openOmeZarrSink({ path: zarrInput, width: WIDTH, height: HEIGHT, depth: DEPTH, chunkWidth: 256, chunkHeight: 256, sampleType: 'uint8', kind: 'probability', job: 'test input', levels: 1 });
    for (const chunk of allChunks(sink)) {
      const box = chunkBox(sink, chunk);
      const page = pages[chunk.z]!;
      const data = new Uint8Array(box.width * box.height);
      for (let row = 0; row < box.height; row++) data.set(page.data.subarray((box.y + row) * WIDTH + box.x, (box.y + row) * WIDTH + box.x + box.width), row * box.width);
      await sink.writeChunk(chunk, data);
    }
    await sink.finalize();
    const fromZarr = await predict([zarrInput, '-o', join(dir, 'from-zarr.zarr'), ...common]);
    expect(fromZarr.code, fromZarr.stderr).toBe(0);
    const gotFromZarr = readLevelZero(join(dir, 'from-zarr.zarr'));
    for (let z = 0; z < DEPTH; z++) expect(Buffer.from(gotFromZarr[z]!).equals(Buffer.from(expected[z]!)), `zarr slice ${z}`).toBe(true);
  }, 180_000);

  it('a BigTIFF input takes the large path; a .tif output is then a tiled BigTIFF with the same masks', async () => {
    const bigInput = join(dir, 'montage-big.tif');
    const sink = await openVolumeSink(bigInput, { width: WIDTH, height: HEIGHT, depth: DEPTH, chunkSize: 256, sampleType: 'uint8', kind: 'probability', job: 'test input' });
    for (const chunk of allChunks(sink)) {
      const box = chunkBox(sink, chunk);
      const data = new Uint8Array(box.width * box.height);
      for (let row = 0; row < box.height; row++) data.set(pages[chunk.z]!.data.subarray((box.y + row) * WIDTH + box.x, (box.y + row) * WIDTH + box.x + box.width), row * box.width);
      await sink.writeChunk(chunk, data);
    }
    await sink.finalize();
    await sink.close();
    const out = join(dir, 'mask-big.tif');
    const run = await predict([bigInput, '-o', out, ...common]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/mask-big\.tif .*complete/);
    expect(readFileSync(out).readUInt16LE(2)).toBe(43); // BigTIFF
    const written = await openVolume(out);
    for (let z = 0; z < DEPTH; z++) {
      const slice = await written.readRegion(z, { x: 0, y: 0, width: WIDTH, height: HEIGHT });
      expect(Buffer.from(slice.data as Uint8Array).equals(Buffer.from(expected[z]!)), `slice ${z}`).toBe(true);
    }
    await written.close();
  }, 180_000);

  it('killed with SIGKILL mid-run and run again, equals the uninterrupted run', async () => {
    for (const [name, killAfterChunks] of [['early', 1], ['late', 12]] as const) {
      const store = join(dir, `killed-${name}.zarr`);
      const killed = await predict([input, '-o', store, ...common], () => levelZeroChunks(store).length >= killAfterChunks);
      expect(killed.signal, `${name}: ${killed.stderr}`).toBe('SIGKILL');
      const before = levelZeroChunks(store).length;
      expect(before).toBeLessThan(CHUNKS);
      const resumed = await predict([input, '-o', store, ...common]);
      expect(resumed.code, resumed.stderr).toBe(0);
      expect(resumed.stdout).toContain(`${CHUNKS - before} chunks written, ${before} already done; complete`);
      expectSameStore(join(dir, 'single.zarr'), store);
    }
  }, 300_000);

  it('3 shards as 3 concurrent processes into one store, one killed and rerun, equal a single run', async () => {
    // Shards 0, 1 and 2 start at once on a new store; shard 1 (slice 1) is killed after its first chunk.
    const partial = join(dir, 'sharded.zarr');
    const sliceOneChunks = () => levelZeroChunks(partial).filter((path) => relative(join(partial, '0'), path).startsWith('1/')).length;
    const runs = await Promise.all([
      predict([input, '-o', partial, '--shard', '0/3', ...common]),
      predict([input, '-o', partial, '--shard', '1/3', ...common], () => sliceOneChunks() >= 1),
      predict([input, '-o', partial, '--shard', '2/3', ...common]),
    ]);
    expect(runs[1]!.signal).toBe('SIGKILL');
    expect(sliceOneChunks()).toBeLessThan(CHUNKS / 3);
    for (const run of [runs[0]!, runs[2]!]) {
      expect(run.code, run.stderr).toBe(0);
      expect(run.stdout).toMatch(/chunks of other shards missing/);
    }
    expect(isFinalized(partial)).toBe(false);
    const early = await predict([input, '-o', partial, '--finalize', ...common]);
    expect(early.code).toBe(1);
    expect(problemLines(early.stderr)).toHaveLength(1);
    expect(early.stderr).toMatch(/chunks are not written yet/);
    const rerun = await predict([input, '-o', partial, '--shard', '1/3', ...common]);
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(rerun.stdout).toMatch(/\(shard 1\/3\).*already done; complete/);
    expectSameStore(join(dir, 'single.zarr'), partial);
  }, 300_000);

  it("refuses a store that holds another job's output, with one line, and leaves it as it was", async () => {
    const store = join(dir, 'single.zarr');
    const before = storeFiles(store);
    const other = await predict([input, '-o', store, ...common, '--threshold', '0.3']);
    expect(other.code).toBe(1);
    expect(problemLines(other.stderr)).toHaveLength(1);
    expect(other.stderr).toMatch(/another job/);
    const after = storeFiles(store);
    expect([...after.keys()].sort()).toEqual([...before.keys()].sort());
    for (const [path, bytes] of before) expect(bytes.equals(after.get(path)!)).toBe(true);
    const tiffShard = await predict([input, '-o', join(dir, 'x.tif'), '--shard', '0/2', ...common]);
    expect(tiffShard.code).toBe(1);
    expect(tiffShard.stderr).toMatch(/--shard and --finalize write one shared OME-Zarr store/);
    const level = await predict([input, '-o', join(dir, 'level.zarr'), '--level', '1', ...common]);
    expect(level.code).toBe(1);
    expect(level.stderr).toMatch(/--level 1: only an OME-Zarr input has resolution levels/);
  }, 120_000);
});
