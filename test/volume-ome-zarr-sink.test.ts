/**
 * The OME-Zarr writer (node/ome-zarr-sink.ts): chunk-by-chunk writes, the multiscale pyramid of
 * finalize(), resume of the same job, refusal of another job's store, concurrent writers, and
 * Debian's python3-zarr 2.13 reading the result back as an independent reader.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { openOmeZarrSink, type OmeZarrSinkOptions } from '../node/ome-zarr-sink.ts';
import { allChunks, chunkBox, type ChunkLayout } from '../core/volume.ts';
import { halveImage } from '../core/downsample.ts';
import type { GreyImage } from '../core/image.ts';
import { pythonCanRun, runPythonJson } from './helpers/python.ts';
import { shardTestOptions, shardTestValue } from './helpers/zarr-shard-volume.ts';
import { spawn } from 'node:child_process';

const folder = mkdtempSync(join(tmpdir(), 'emseg-zarr-sink-'));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

/** A deterministic test volume: slice z of width x height. */
function maskSlice(width: number, height: number, z: number): GreyImage<Uint8Array> {
  const data = new Uint8Array(width * height);
  for (let y = 0; y < height; y += 1) for (let x = 0; x < width; x += 1) data[y * width + x] = (x * 7 + y * 3 + z * 5) % 11 < 6 ? 255 : 0;
  return { width, height, data };
}
function probabilitySlice(width: number, height: number, z: number): GreyImage<Float32Array> {
  const data = new Float32Array(width * height);
  for (let y = 0; y < height; y += 1) for (let x = 0; x < width; x += 1) data[y * width + x] = ((x * 13 + y * 29 + z * 31) % 1000) / 999;
  return { width, height, data };
}

/** Cell labels: blocks of 9x7 pixels numbered in row-major order, 0 on every 9th column. */
function labelSlice(width: number, height: number): { width: number; height: number; data: Uint32Array } {
  const data = new Uint32Array(width * height);
  for (let y = 0; y < height; y += 1) for (let x = 0; x < width; x += 1) data[y * width + x] = x % 9 === 8 ? 0 : 1 + Math.floor(y / 7) * 100000 + Math.floor(x / 9);
  return { width, height, data };
}

function cut<D extends Uint8Array | Float32Array | Uint32Array>(image: { width: number; height: number; data: D }, layout: ChunkLayout, chunk: { z: number; cx: number; cy: number }): D {
  const box = chunkBox(layout, chunk);
  const out = new (image.data.constructor as new (n: number) => D)(box.width * box.height);
  for (let y = 0; y < box.height; y += 1) {
    out.set(image.data.subarray((box.y + y) * image.width + box.x, (box.y + y) * image.width + box.x + box.width), y * box.width);
  }
  return out;
}

function sha(data: Uint8Array | Float32Array | Uint32Array): string {
  return createHash('sha256').update(new Uint8Array(data.buffer, data.byteOffset, data.byteLength)).digest('hex');
}

/** Every file of a folder with its content hash, to show that nothing was touched. */
function snapshot(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir)) {
      const path = join(dir, entry);
      if (statSync(path).isDirectory()) walk(path);
      else out[relative(root, path)] = createHash('sha256').update(readFileSync(path)).digest('hex') + statSync(path).mtimeMs;
    }
  };
  walk(root);
  return out;
}

async function writeAll<D extends Uint8Array | Float32Array | Uint32Array>(options: OmeZarrSinkOptions, slices: { width: number; height: number; data: D }[]): Promise<void> {
  const sink = await openOmeZarrSink(options);
  for (const chunk of allChunks(sink)) await sink.writeChunk(chunk, cut(slices[chunk.z]!, sink, chunk));
  await sink.finalize();
  await sink.close();
}

const job = { input: 'big.tif', size: [300, 200, 3], modelSha256: 'ab'.repeat(32), threshold: 0.5 };

describe('OME-Zarr sink', () => {
  it('writes a 2D mask chunk by chunk; finalize adds majority-halved levels that stay binary', async () => {
    const path = join(folder, 'mask2d.zarr');
    const image = maskSlice(301, 203, 0);
    await writeAll({ path, width: 301, height: 203, depth: 1, chunkWidth: 64, chunkHeight: 48, sampleType: 'uint8', kind: 'mask', job, pixelSize: { x: 4, y: 4, unit: 'nanometer' } }, [image]);
    const attrs = JSON.parse(readFileSync(join(path, '.zattrs'), 'utf8'));
    const ms = attrs.multiscales[0];
    expect(ms.version).toBe('0.4');
    expect(ms.axes).toEqual([{ name: 'y', type: 'space', unit: 'nanometer' }, { name: 'x', type: 'space', unit: 'nanometer' }]);
    // 301 -> 151 -> 76 -> 38 (fits a 64-wide chunk; 203 -> 26 fits 48 high)
    expect(ms.datasets.map((d: { path: string }) => d.path)).toEqual(['0', '1', '2', '3']);
    expect(ms.datasets[2].coordinateTransformations).toEqual([{ type: 'scale', scale: [16, 16] }, { type: 'translation', translation: [6, 6] }]);
    expect(attrs.emseg.job).toEqual(job);
    expect(attrs.emseg.complete).toBe(true);
    const zarray = JSON.parse(readFileSync(join(path, '1', '.zarray'), 'utf8'));
    expect(zarray.shape).toEqual([102, 151]);
    expect(zarray.chunks).toEqual([48, 64]);
  });

  it('refuses a chunk of the wrong size or type, or outside the grid', async () => {
    const sink = await openOmeZarrSink({ path: join(folder, 'checks.zarr'), width: 100, height: 100, depth: 1, chunkWidth: 64, chunkHeight: 64, sampleType: 'uint8', kind: 'mask', job });
    await expect(sink.writeChunk({ z: 0, cx: 1, cy: 0 }, new Uint8Array(64 * 64))).rejects.toThrow(/expected a Uint8Array of 2304 pixels \(36x64\)/);
    await expect(sink.writeChunk({ z: 0, cx: 0, cy: 0 }, new Float32Array(64 * 64))).rejects.toThrow(/found a Float32Array/);
    await expect(sink.writeChunk({ z: 0, cx: 2, cy: 0 }, new Uint8Array(4))).rejects.toThrow(/cx 0-1/);
  });

  it('resumes the same job: written chunks are complete, the rest absent, a leftover temp file is not a chunk', async () => {
    const path = join(folder, 'resume.zarr');
    const options: OmeZarrSinkOptions = { path, width: 130, height: 70, depth: 2, chunkWidth: 64, chunkHeight: 32, sampleType: 'float32', kind: 'probability', job };
    const slices = [probabilitySlice(130, 70, 0), probabilitySlice(130, 70, 1)];
    const first = await openOmeZarrSink(options);
    const chunks = [...allChunks(first)];
    for (const chunk of chunks.slice(0, 5)) await first.writeChunk(chunk, cut(slices[chunk.z]!, first, chunk));
    writeFileSync(join(path, '0', '0', '1', '2.123.abcd.tmp'), 'half a chunk'); // what SIGKILL mid-write leaves
    await expect(first.finalize()).rejects.toThrow(/13 of 18 chunks are not written yet \(first: slice 0, chunk row 1, column 2\)/);

    const again = await openOmeZarrSink(options);
    const complete = await Promise.all(chunks.map((chunk) => again.isChunkComplete(chunk)));
    expect(complete).toEqual(chunks.map((_, i) => i < 5));
    for (const chunk of chunks) if (!(await again.isChunkComplete(chunk))) await again.writeChunk(chunk, cut(slices[chunk.z]!, again, chunk));
    await again.finalize();

    const whole = join(folder, 'resume-whole.zarr');
    await writeAll({ ...options, path: whole }, slices);
    const a = snapshot(path);
    const b = snapshot(whole);
    const chunkFiles = Object.keys(b).filter((key) => !key.startsWith('.'));
    for (const key of chunkFiles) expect(a[key]?.slice(0, 64), key).toBe(b[key]!.slice(0, 64));
  });

  it("refuses another job's store, a different layout, a foreign folder and a file, touching nothing", async () => {
    const path = join(folder, 'owned.zarr');
    const options: OmeZarrSinkOptions = { path, width: 64, height: 64, depth: 1, chunkWidth: 32, chunkHeight: 32, sampleType: 'uint8', kind: 'mask', job };
    await writeAll(options, [maskSlice(64, 64, 0)]);
    const before = snapshot(path);
    await expect(openOmeZarrSink({ ...options, job: { ...job, modelSha256: 'cd'.repeat(32) } })).rejects.toThrow(
      /owned\.zarr: holds the output of another job \(job \{"input":"big\.tif".*\); delete it or choose another output path$/,
    );
    await expect(openOmeZarrSink({ ...options, width: 65, chunkWidth: 16 })).rejects.toThrow(/holds the output of another job \(width 64 there, 65 here, chunkWidth 32 there, 16 here\)/);
    expect(snapshot(path)).toEqual(before);

    const foreign = join(folder, 'foreign');
    mkdirSync(foreign);
    writeFileSync(join(foreign, 'notes.txt'), 'mine');
    await expect(openOmeZarrSink({ ...options, path: foreign })).rejects.toMatchObject({ code: 'E_OUTPUT_EXISTS', message: expect.stringMatching(/holds no emseg store \(notes\.txt/) });
    expect(readdirSync(foreign)).toEqual(['notes.txt']);

    const file = join(folder, 'file.zarr');
    writeFileSync(file, 'x');
    await expect(openOmeZarrSink({ ...options, path: file })).rejects.toThrow(/exists and is not a folder/);
    await expect(openOmeZarrSink({ ...options, path: join(folder, 'in.zarr'), inputs: [join(folder, 'in.zarr')] })).rejects.toThrow(/is also an input/);
  });

  it('lets several writers open one new store at once and write disjoint chunks (shards)', async () => {
    const path = join(folder, 'shards.zarr');
    const options: OmeZarrSinkOptions = { path, width: 200, height: 150, depth: 3, chunkWidth: 64, chunkHeight: 64, sampleType: 'uint8', kind: 'mask', job };
    const slices = [0, 1, 2].map((z) => maskSlice(200, 150, z));
    const sinks = await Promise.all([0, 1, 2].map(() => openOmeZarrSink(options)));
    const chunks = [...allChunks(sinks[0]!)];
    await Promise.all(sinks.map(async (sink, shard) => {
      for (const [i, chunk] of chunks.entries()) if (i % 3 === shard) await sink.writeChunk(chunk, cut(slices[chunk.z]!, sink, chunk));
    }));
    await sinks[0]!.finalize();
    const single = join(folder, 'single.zarr');
    await writeAll({ ...options, path: single }, slices);
    const a = snapshot(path);
    const b = snapshot(single);
    expect(Object.keys(a).sort()).toEqual(Object.keys(b).sort());
    for (const key of Object.keys(b)) expect(a[key]!.slice(0, 64), key).toBe(b[key]!.slice(0, 64));
  });
});

describe('OME-Zarr sink written by several processes at once', () => {
  it('4 processes racing to create one store and writing disjoint chunks equal one writer', async () => {
    const path = join(folder, 'processes.zarr');
    const helper = join(import.meta.dirname, 'helpers', 'zarr-shard-writer.ts');
    const codes = await Promise.all([0, 1, 2, 3].map((shard) => new Promise<string>((done) => {
      const child = spawn(process.execPath, ['--import', 'tsx', helper, path, String(shard), '4'], { stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
      child.on('close', (code) => done(`${code}${stderr}`));
    })));
    expect(codes).toEqual(['0', '0', '0', '0']);
    const sink = await openOmeZarrSink({ ...shardTestOptions, path });
    await sink.finalize();
    const slices = [0, 1].map((z) => {
      const data = new Uint8Array(150 * 100);
      for (let y = 0; y < 100; y += 1) for (let x = 0; x < 150; x += 1) data[y * 150 + x] = shardTestValue(x, y, z);
      return { width: 150, height: 100, data };
    });
    const single = join(folder, 'processes-single.zarr');
    await writeAll({ ...shardTestOptions, path: single }, slices);
    const a = snapshot(path);
    const b = snapshot(single);
    expect(Object.keys(a).filter((k) => !k.endsWith('.tmp')).sort()).toEqual(Object.keys(b).sort());
    for (const key of Object.keys(b)) expect(a[key]!.slice(0, 64), key).toBe(b[key]!.slice(0, 64));
  }, 60_000);
});

describe.skipIf(!pythonCanRun('zarr, numpy', 'volume-ome-zarr-sink', 'python3-zarr python3-numpy'))('OME-Zarr sink read by Python zarr 2.13', () => {
  const script = [
    'import sys, json, hashlib, zarr, numpy as np',
    'g = zarr.open_group(sys.argv[1], mode="r")',
    'ms = g.attrs["multiscales"][0]',
    'out = {"paths": [d["path"] for d in ms["datasets"]], "levels": []}',
    'for d in ms["datasets"]:',
    '    a = g[d["path"]][...]',
    '    out["levels"].append({"shape": list(a.shape), "dtype": str(a.dtype), "sha": hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest(), "values": sorted(set(np.unique(a).tolist()))[:3] if a.dtype == np.uint8 else []})',
    'print(json.dumps(out))',
  ].join('\n');

  it('reads a ZYX uint8 mask volume and its levels', async () => {
    const path = join(folder, 'py-mask.ome.zarr');
    const slices = [0, 1, 2].map((z) => maskSlice(150, 97, z));
    await writeAll({ path, width: 150, height: 97, depth: 3, chunkWidth: 40, chunkHeight: 40, sampleType: 'uint8', kind: 'mask', job }, slices);
    const info = runPythonJson(script, [path]) as { paths: string[]; levels: { shape: number[]; dtype: string; sha: string; values: number[] }[] };
    expect(info.paths).toEqual(['0', '1', '2']);
    let level = slices;
    for (const [index, got] of info.levels.entries()) {
      const joined = new Uint8Array(level.length * level[0]!.data.length);
      level.forEach((s, z) => joined.set(s.data, z * s.data.length));
      expect(got, `level ${index}`).toEqual({ shape: [3, level[0]!.height, level[0]!.width], dtype: 'uint8', sha: sha(joined), values: [0, 255] });
      level = level.map((s) => halveImage(s, 'majority'));
    }
  });

  it('reads cell labels as an NGFF labels group: uint32 levels, multiscales and image-label', async () => {
    const path = join(folder, 'py-labels.ome.zarr');
    const image = labelSlice(130, 75);
    await writeAll({ path, width: 130, height: 75, depth: 1, chunkWidth: 32, chunkHeight: 32, sampleType: 'uint32', kind: 'labels', job }, [image]);
    const labels = [
      'import sys, json, hashlib, zarr, numpy as np',
      'root = zarr.open_group(sys.argv[1], mode="r")',
      'names = root["labels"].attrs["labels"]',
      'g = root["labels"][names[0]]',
      'ms = g.attrs["multiscales"][0]',
      'levels = [g[d["path"]][...] for d in ms["datasets"]]',
      'print(json.dumps({"names": names, "imageLabel": g.attrs["image-label"], "rootMultiscales": "multiscales" in root.attrs, "type": ms["type"],',
      '  "levels": [{"shape": list(a.shape), "dtype": str(a.dtype), "sha": hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest()} for a in levels]}))',
    ].join('\n');
    const info = runPythonJson(labels, [path]) as { names: string[]; imageLabel: unknown; rootMultiscales: boolean; type: string; levels: { shape: number[]; dtype: string; sha: string }[] };
    expect(info.names).toEqual(['cells']);
    expect(info.imageLabel).toEqual({ version: '0.4' });
    expect(info.rootMultiscales).toBe(false); // a label image on its own, no image at the root
    expect(info.type).toBe('nearest');
    const half = halveImage(image, 'nearest');
    expect(info.levels.map((l) => l.shape)).toEqual([[75, 130], [38, 65], [19, 33], [10, 17]]);
    expect(info.levels.every((l) => l.dtype === 'uint32')).toBe(true);
    expect(info.levels[0]!.sha).toBe(sha(image.data));
    expect(info.levels[1]!.sha).toBe(sha(half.data));
  });

  it('reads a 2D float32 probability map and its mean-halved level', async () => {
    const path = join(folder, 'py-prob.zarr');
    const image = probabilitySlice(90, 70, 0);
    await writeAll({ path, width: 90, height: 70, depth: 1, chunkWidth: 64, chunkHeight: 64, sampleType: 'float32', kind: 'probability', job }, [image]);
    const info = runPythonJson(script, [path]) as { levels: { shape: number[]; dtype: string; sha: string }[] };
    expect(info.levels.map((l) => l.shape)).toEqual([[70, 90], [35, 45]]);
    expect(info.levels[0]!.dtype).toBe('float32');
    expect(info.levels[0]!.sha).toBe(sha(image.data));
    expect(info.levels[1]!.sha).toBe(sha(halveImage(image, 'mean').data));
  });
});
