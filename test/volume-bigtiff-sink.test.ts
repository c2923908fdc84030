/**
 * The tiled BigTIFF writer (node/bigtiff-sink.ts): tiles in any order and concurrently, the file
 * appearing only at finalize(), read back by our reader (node/tiff-volume.ts) and by Python's
 * tifffile (an independent reader) with its OME-XML pixel size.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { appendFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openBigTiffSink, type BigTiffSinkOptions } from '../node/bigtiff-sink.ts';
import { openTiffVolume } from '../node/tiff-volume.ts';
import { allChunks, chunkBox, type ChunkIndex } from '../core/volume.ts';
import { pythonCanRun, runPythonJson } from './helpers/python.ts';
import { halveImage } from '../core/downsample.ts';
import { mountSmallTmpfs, tmpfsUnavailable } from './helpers/small-tmpfs.ts';

const folder = mkdtempSync(join(tmpdir(), 'emseg-bigtiff-sink-'));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

const mask = (x: number, y: number, z: number): number => ((x * 7 + y * 3 + z * 5) % 11 < 6 ? 255 : 0);
const probability = (x: number, y: number, z: number): number => Math.fround(((x * 13 + y * 29 + z * 31) % 1000) / 999);

function chunkData(options: BigTiffSinkOptions, chunk: ChunkIndex, f: (x: number, y: number, z: number) => number): Uint8Array | Float32Array {
  const box = chunkBox({ ...options, chunkWidth: options.tileSize ?? 512, chunkHeight: options.tileSize ?? 512 }, chunk);
  const out = options.sampleType === 'uint8' ? new Uint8Array(box.width * box.height) : new Float32Array(box.width * box.height);
  for (let y = 0; y < box.height; y += 1) for (let x = 0; x < box.width; x += 1) out[y * box.width + x] = f(box.x + x, box.y + y, chunk.z);
  return out;
}

async function writeVolume(options: BigTiffSinkOptions, f: (x: number, y: number, z: number) => number): Promise<void> {
  const sink = await openBigTiffSink(options);
  const chunks = [...allChunks(sink)].reverse(); // any order
  await Promise.all(chunks.map((chunk) => sink.writeChunk(chunk, chunkData(options, chunk, f))));
  expect(await sink.isChunkComplete(chunks[0]!)).toBe(true);
  await sink.finalize();
}

function wholeVolume(options: BigTiffSinkOptions, f: (x: number, y: number, z: number) => number): Uint8Array | Float32Array {
  const out = options.sampleType === 'uint8' ? new Uint8Array(options.width * options.height * options.depth) : new Float32Array(options.width * options.height * options.depth);
  let i = 0;
  for (let z = 0; z < options.depth; z += 1) for (let y = 0; y < options.height; y += 1) for (let x = 0; x < options.width; x += 1) out[i++] = f(x, y, z);
  return out;
}

const maskOptions = (path: string): BigTiffSinkOptions => ({ path, width: 300, height: 170, depth: 3, tileSize: 64, sampleType: 'uint8', pixelSize: { x: 4, y: 4, z: 40, unit: 'nanometer' } });
const probOptions = (path: string): BigTiffSinkOptions => ({ path, width: 130, height: 100, depth: 1, tileSize: 48, sampleType: 'float32', compression: 'none', kind: 'probability' });

describe('BigTIFF sink', () => {
  it('writes tiles in any order; our reader reads every pixel and the pixel size back', async () => {
    for (const [options, f] of [[maskOptions(join(folder, 'mask.tif')), mask], [probOptions(join(folder, 'prob.tif')), probability]] as const) {
      await writeVolume(options, f);
      const volume = await openTiffVolume(options.path);
      expect([volume.width, volume.height, volume.depth, volume.bitDepth]).toEqual([options.width, options.height, options.depth, options.sampleType === 'uint8' ? 8 : 32]);
      expect(volume.pixelSize).toEqual(options.pixelSize ? { ...options.pixelSize, from: 'OME-XML' } : undefined);
      const all = wholeVolume(options, f);
      for (let z = 0; z < options.depth; z += 1) {
        const page = await volume.readRegion(z, { x: 0, y: 0, width: options.width, height: options.height });
        expect(page.data).toEqual(all.subarray(z * options.width * options.height, (z + 1) * options.width * options.height));
      }
      await volume.close();
    }
    expect(readdirSync(folder).filter((f) => /\.(tmp|partial|journal)$/.test(f))).toEqual([]);
  });

  it('its pyramid level 1 (SubIFDs) reads back as the halved pages, with twice the pixel size', async () => {
    const options = maskOptions(join(folder, 'mask.tif')); // written by the first test
    const level1 = await openTiffVolume(options.path, { level: 1 });
    expect([level1.width, level1.height, level1.depth]).toEqual([150, 85, 3]);
    expect(level1.pixelSize).toEqual({ x: 8, y: 8, z: 40, unit: 'nanometer', from: 'OME-XML' });
    const all = wholeVolume(options, mask);
    const page = all.subarray(2 * 300 * 170, 3 * 300 * 170) as Uint8Array;
    expect((await level1.readRegion(2, { x: 0, y: 0, width: 150, height: 85 })).data).toEqual(halveImage({ width: 300, height: 170, data: page }, 'majority').data);
    await level1.close();
  });

  it('finalize with tiles missing names them and leaves no output; discard() removes the partial file', async () => {
    const path = join(folder, 'partial.tif');
    const sink = await openBigTiffSink(maskOptions(path));
    await sink.writeChunk({ z: 0, cx: 0, cy: 0 }, chunkData(maskOptions(path), { z: 0, cx: 0, cy: 0 }, mask));
    await expect(sink.finalize()).rejects.toThrow(/partial\.tif: 44 tiles are not written yet \(first: slice 0, tile row 0, column 1\)/);
    await sink.discard();
    expect(existsSync(path)).toBe(false);
    expect(readdirSync(folder).filter((f) => f.includes('partial'))).toEqual([]);
  });

  it('resumes the same job from its journal (a torn last line ignored); refuses another job', async () => {
    const path = join(folder, 'resumed.tif');
    const options = { ...maskOptions(path), job: { input: 'a.tif' } };
    const first = await openBigTiffSink(options);
    const chunks = [...allChunks(first)];
    for (const chunk of chunks.slice(0, 20)) await first.writeChunk(chunk, chunkData(options, chunk, mask));
    await first.close(); // as if killed: the partial file and the journal stay
    appendFileSync(join(folder, '.resumed.tif.journal'), '21 999'); // a line cut by the kill
    await expect(openBigTiffSink({ ...options, job: { input: 'b.tif' } })).rejects.toMatchObject({
      code: 'E_OUTPUT_EXISTS',
      message: `${path}: an unfinished output of another job lies beside it (.resumed.tif.partial, .resumed.tif.journal); delete them or choose another output path`,
    });
    const again = await openBigTiffSink(options);
    const done = await Promise.all(chunks.map((chunk) => again.isChunkComplete(chunk)));
    expect(done).toEqual(chunks.map((_, i) => i < 20));
    for (const chunk of chunks) if (!(await again.isChunkComplete(chunk))) await again.writeChunk(chunk, chunkData(options, chunk, mask));
    await again.finalize();
    expect(readdirSync(folder).filter((f) => f.startsWith('.resumed'))).toEqual([]);
    const volume = await openTiffVolume(path);
    const all = wholeVolume(options, mask);
    for (let z = 0; z < options.depth; z += 1) {
      const page = await volume.readRegion(z, { x: 0, y: 0, width: options.width, height: options.height });
      expect(page.data).toEqual(all.subarray(z * options.width * options.height, (z + 1) * options.width * options.height));
    }
    await volume.close();
  });

  it('refuses an existing output when told not to overwrite, an input, and chunks of the wrong shape', async () => {
    const path = join(folder, 'exists.tif');
    writeFileSync(path, 'old');
    await expect(openBigTiffSink({ ...maskOptions(path), overwrite: false })).rejects.toMatchObject({ code: 'E_OUTPUT_EXISTS' });
    await expect(openBigTiffSink({ ...maskOptions(path), inputs: [path] })).rejects.toThrow(/is also an input/);
    expect(readFileSync(path, 'utf8')).toBe('old');
    await expect(openBigTiffSink({ ...maskOptions(path), tileSize: 100 })).rejects.toThrow(/tileSize: expected a positive multiple of 16, found 100/);
    const sink = await openBigTiffSink(maskOptions(join(folder, 'shape.tif')));
    await expect(sink.writeChunk({ z: 0, cx: 4, cy: 0 }, new Uint8Array(64 * 64))).rejects.toThrow(/expected a Uint8Array of 2816 pixels \(44x64\)/);
    await sink.discard();
  });
});

describe.skipIf(!pythonCanRun('tifffile, numpy', 'volume-bigtiff-sink', 'python3-tifffile python3-numpy'))('BigTIFF sink read by Python tifffile', () => {
  it.each([['mask', maskOptions, mask], ['probability', probOptions, probability]] as const)('%s', async (name, makeOptions, f) => {
    const options = makeOptions(join(folder, `py-${name}.tif`));
    await writeVolume(options, f);
    const script = [
      'import sys, json, hashlib, re, tifffile, numpy as np',
      'with tifffile.TiffFile(sys.argv[1]) as t:',
      '    a = t.asarray()',
      '    p = t.pages[0]',
      '    ome = t.ome_metadata or ""',
      '    m = re.search(r\'PhysicalSizeX="([^"]+)" PhysicalSizeXUnit="([^"]+)"\', ome)',
      '    levels = t.series[0].levels',
      '    l1 = levels[1].asarray() if len(levels) > 1 else np.zeros(0)',
      '    print(json.dumps(dict(levels=[list(l.shape) for l in levels], l1=hashlib.sha256(np.ascontiguousarray(l1).tobytes()).hexdigest(), bigtiff=t.is_bigtiff, ome=t.is_ome, tiled=p.is_tiled, tile=list(p.tile), pages=len(t.pages), axes=t.series[0].axes,',
      '        shape=list(a.shape), dtype=str(a.dtype), sha=hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest(),',
      '        physical=[float(m.group(1)), m.group(2)] if m else None, resolution=[float(x) for x in p.get_resolution()] if hasattr(p, "get_resolution") else None)))',
    ].join('\n');
    const info = runPythonJson(script, [options.path]) as Record<string, unknown>;
    const all = wholeVolume(options, f);
    expect(info).toMatchObject({
      bigtiff: true,
      ome: true,
      tiled: true,
      tile: [options.tileSize, options.tileSize],
      pages: options.depth,
      axes: options.depth > 1 ? 'ZYX' : 'YX',
      shape: options.depth > 1 ? [options.depth, options.height, options.width] : [options.height, options.width],
      dtype: options.sampleType,
      sha: createHash('sha256').update(new Uint8Array(all.buffer)).digest('hex'),
      physical: options.pixelSize ? [4, 'nm'] : null,
    });
    if (options.pixelSize && info['resolution']) expect(info['resolution']).toEqual([2_500_000, 2_500_000]); // pixels per cm
    // The reduced levels (SubIFDs): halved until a level fits one tile; level 1 is core/downsample.ts of level 0.
    const shapes = info['levels'] as number[][];
    const expectedShapes = [[options.height, options.width]];
    for (let [h, w] = [options.height, options.width]; w > options.tileSize! || h > options.tileSize!;) {
      [h, w] = [Math.ceil(h / 2), Math.ceil(w / 2)];
      expectedShapes.push([h, w]);
    }
    expect(expectedShapes.length).toBeGreaterThan(2); // 300 wide, tiles of 64: 300, 150, 75, 38
    expect(shapes.map((shape) => shape.slice(-2))).toEqual(expectedShapes);
    const hash = createHash('sha256');
    for (let z = 0; z < options.depth; z += 1) {
      const page = all.subarray(z * options.width * options.height, (z + 1) * options.width * options.height);
      const halved = halveImage({ width: options.width, height: options.height, data: page }, options.sampleType === 'uint8' ? 'majority' : 'mean');
      hash.update(new Uint8Array(halved.data.buffer));
    }
    expect(info['l1']).toBe(hash.digest('hex'));
  });
});

describe.skipIf(tmpfsUnavailable !== undefined)('BigTiffSink on a full disk', () => {
  /** Open file descriptors of this process that point at a path under `dir`. */
  const descriptorsUnder = (dir: string): string[] =>
    readdirSync('/proc/self/fd').map((fd) => { try { return readlinkSync(join('/proc/self/fd', fd)); } catch { return ''; } }).filter((target) => target.startsWith(dir));

  it('closes the partial file when its journal cannot be written (no handle left to the garbage collector)', async () => {
    const disk = mountSmallTmpfs('64k');
    try {
      let filled = false; // more than the disk holds: the filler takes every free block, then ENOSPC
      try { writeFileSync(join(disk.path, 'filler'), new Uint8Array(256 * 1024)); } catch { filled = true; }
      expect(filled).toBe(true);
      await expect(openBigTiffSink(maskOptions(join(disk.path, 'mask.tif')))).rejects.toThrow(/ENOSPC/);
      expect(descriptorsUnder(disk.path)).toEqual([]);
    } finally {
      disk.unmount();
    }
  });
});
