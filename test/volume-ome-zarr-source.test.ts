/**
 * The OME-Zarr reader (node/ome-zarr-source.ts): stores written by Python zarr 2.13 (an
 * independent writer: Blosc and zlib chunks, "." and "/" keys, t/c/z/y/x axes) and by our own
 * writer (node/ome-zarr-sink.ts), levels and pixel sizes, and broken stores.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import * as zarr from 'zarrita';
import { openOmeZarrSource } from '../node/ome-zarr-source.ts';
import { openOmeZarrSink } from '../node/ome-zarr-sink.ts';
import { allChunks, chunkBox } from '../core/volume.ts';
import { halveImage } from '../core/downsample.ts';
import { pythonCanRun, runPythonJson } from './helpers/python.ts';

const folder = mkdtempSync(join(tmpdir(), 'emseg-zarr-source-'));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

const W = 150;
const H = 110;
const D = 4;
const u16 = (x: number, y: number, z: number): number => (x * 37 + y * 101 + z * 7919) % 65536;
const u8 = (x: number, y: number): number => (x * 7 + y * 13) % 256;
const i16 = (x: number, y: number, z: number): number => ((x * 37 + y * 101 + z * 7) % 2000) - 1000;

function expectedRegion(box: { x: number; y: number; width: number; height: number }, f: (x: number, y: number) => number): number[] {
  const out: number[] = [];
  for (let y = 0; y < box.height; y += 1) for (let x = 0; x < box.width; x += 1) out.push(f(box.x + x, box.y + y));
  return out;
}

describe('OME-Zarr reader on stores written by our own writer', () => {
  it('reads level 0 and level 1 of a ZYX float32 store with its pixel size', async () => {
    const path = join(folder, 'ours.ome.zarr');
    const sink = await openOmeZarrSink({ path, width: 90, height: 70, depth: 2, chunkWidth: 32, chunkHeight: 32, sampleType: 'float32', kind: 'probability', job: 'test', pixelSize: { x: 4, y: 4, z: 40, unit: 'nanometer' } });
    const value = (x: number, y: number, z: number): number => Math.fround(((x * 3 + y * 5 + z) % 17) / 16);
    for (const chunk of allChunks(sink)) {
      const box = chunkBox(sink, chunk);
      await sink.writeChunk(chunk, Float32Array.from(expectedRegion(box, (x, y) => value(x, y, chunk.z))));
    }
    await sink.finalize();
    const level0 = await openOmeZarrSource(path);
    expect([level0.width, level0.height, level0.depth, level0.bitDepth]).toEqual([90, 70, 2, 32]);
    expect(level0.pixelSize).toEqual({ x: 4, y: 4, z: 40, unit: 'nanometer', from: 'NGFF scale of level 0' });
    const box = { x: 20, y: 30, width: 50, height: 33 };
    const region = await level0.readRegion(1, box);
    expect([...region.data]).toEqual(expectedRegion(box, (x, y) => value(x, y, 1)));

    const level1 = await openOmeZarrSource(path, { level: 1 });
    expect([level1.width, level1.height, level1.pixelSize?.x, level1.pixelSize?.z]).toEqual([45, 35, 8, 40]);
    const whole = await level0.readRegion(0, { x: 0, y: 0, width: 90, height: 70 });
    const halved = halveImage(whole as { width: number; height: number; data: Float32Array }, 'mean');
    expect((await level1.readRegion(0, { x: 0, y: 0, width: 45, height: 35 })).data).toEqual(halved.data);
    await expect(openOmeZarrSource(path, { level: 5 })).rejects.toThrow(/level 5 does not exist, the store has levels 0-2$/);
  });

  it('names a missing chunk, or reads it as zero when told to', async () => {
    const path = join(folder, 'holes.zarr');
    const sink = await openOmeZarrSink({ path, width: 64, height: 64, depth: 1, chunkWidth: 32, chunkHeight: 32, sampleType: 'uint8', kind: 'mask', job: 'x', levels: 0 });
    for (const chunk of allChunks(sink)) await sink.writeChunk(chunk, new Uint8Array(32 * 32).fill(255));
    await sink.finalize();
    unlinkSync(join(path, '0', '1', '0'));
    const source = await openOmeZarrSource(path);
    await expect(source.readRegion(0, { x: 0, y: 0, width: 64, height: 64 })).rejects.toMatchObject({ code: 'E_CORRUPT', message: `${path}: chunk 0/1/0 is missing (an incomplete or damaged store)` });
    expect([...(await source.readRegion(0, { x: 32, y: 32, width: 2, height: 1 })).data]).toEqual([255, 255]);
    const filled = await openOmeZarrSource(path, { missingChunks: 'fill' });
    expect([...(await filled.readRegion(0, { x: 0, y: 31, width: 1, height: 2 })).data]).toEqual([255, 0]);
  });

  it('gives one line for a folder that is no Zarr store', async () => {
    const path = join(folder, 'empty.zarr');
    mkdirSync(path);
    await expect(openOmeZarrSource(path)).rejects.toMatchObject({ code: 'E_NOT_AN_IMAGE', message: `${path}: not a readable Zarr store (no .zgroup, .zarray or zarr.json)` });
  });
});

/** A minimal writable folder store, so that zarrita itself can write a Zarr v3 (NGFF 0.5) store. */
const folderStore = (root: string) => ({
  async get(key: string): Promise<Uint8Array | undefined> {
    try {
      return new Uint8Array(readFileSync(join(root, key)));
    } catch {
      return undefined;
    }
  },
  async set(key: string, value: Uint8Array): Promise<void> {
    mkdirSync(dirname(join(root, key)), { recursive: true });
    writeFileSync(join(root, key), value);
  },
});

describe('OME-Zarr reader on an NGFF 0.5 (Zarr v3) store written by zarrita', () => {
  it('reads a ZYX uint16 store and its pixel size', async () => {
    const path = join(folder, 'v3.ome.zarr');
    const root = zarr.root(folderStore(path));
    const multiscales = [{ axes: [{ name: 'z', type: 'space', unit: 'nanometer' }, { name: 'y', type: 'space', unit: 'nanometer' }, { name: 'x', type: 'space', unit: 'nanometer' }],
      datasets: [{ path: '0', coordinateTransformations: [{ type: 'scale', scale: [30, 5, 5] }] }] }];
    await zarr.create(root, { attributes: { ome: { version: '0.5', multiscales } } });
    const array = await zarr.create(root.resolve('0'), { shape: [2, H, W], chunkShape: [1, 32, 64], dtype: 'uint16', codecs: [{ name: 'bytes', configuration: { endian: 'little' } }] });
    const data = new Uint16Array(2 * H * W);
    for (let z = 0; z < 2; z += 1) for (let y = 0; y < H; y += 1) for (let x = 0; x < W; x += 1) data[(z * H + y) * W + x] = u16(x, y, z);
    await zarr.set(array, null, { data, shape: [2, H, W], stride: [H * W, W, 1] });
    const source = await openOmeZarrSource(path);
    expect([source.width, source.height, source.depth, source.bitDepth]).toEqual([W, H, 2, 16]);
    expect(source.pixelSize).toEqual({ x: 5, y: 5, z: 30, unit: 'nanometer', from: 'NGFF scale of level 0' });
    const box = { x: 60, y: 20, width: 80, height: 50 };
    expect([...(await source.readRegion(1, box)).data]).toEqual(expectedRegion(box, (x, y) => u16(x, y, 1)));
  });
});

const canRun = pythonCanRun('zarr, numpy', 'volume-ome-zarr-source', 'python3-zarr python3-numpy');

describe.skipIf(!canRun)('OME-Zarr reader on stores written by Python zarr 2.13', () => {
  beforeAll(() => {
    const script = `
import sys, json, numpy as np, zarr, numcodecs
out = sys.argv[1]
W, H, D = ${W}, ${H}, ${D}
z, y, x = np.meshgrid(np.arange(D), np.arange(H), np.arange(W), indexing='ij')
u16 = ((x * 37 + y * 101 + z * 7919) % 65536).astype(np.uint16)
i16 = (((x * 37 + y * 101 + z * 7) % 2000) - 1000).astype(np.int16)
u8 = ((x[0] * 7 + y[0] * 13) % 256).astype(np.uint8)
def ngff(g, axes, scale, unit='micrometer'):
    g.attrs['multiscales'] = [{'version': '0.4', 'axes': [dict(name=a, type='space' if a in 'zyx' else ('channel' if a == 'c' else 'time'), **({'unit': unit} if a in 'zyx' else {})) for a in axes],
        'datasets': [{'path': '0', 'coordinateTransformations': [{'type': 'scale', 'scale': scale}]}]}]
g = zarr.open_group(f'{out}/tczyx.zarr', mode='w')
g.create_dataset('0', data=u16[None, None], chunks=(1, 1, 1, 40, 64))  # default compressor: Blosc
ngff(g, 'tczyx', [1, 1, 0.05, 0.004, 0.004])
g = zarr.open_group(f'{out}/yx-slash.zarr', mode='w')
g.create_dataset('0', data=u8, chunks=(32, 50), compressor=numcodecs.Zlib(level=3), dimension_separator='/')
ngff(g, 'yx', [4.0, 4.0], 'nanometer')
g = zarr.open_group(f'{out}/int16.zarr', mode='w')
g.create_dataset('0', data=i16, chunks=(1, 64, 64))
ngff(g, 'zyx', [1, 1, 1])
g = zarr.open_group(f'{out}/channels.zarr', mode='w')
g.create_dataset('0', data=np.stack([u16, u16]), chunks=(1, 1, 64, 64))
ngff(g, 'czyx', [1, 1, 1, 1])
g = zarr.open_group(f'{out}/complex.zarr', mode='w')
g.create_dataset('0', data=np.zeros((8, 8), np.complex64))
ngff(g, 'yx', [1, 1])
g = zarr.open_group(f'{out}/bool.zarr', mode='w')
g.create_dataset('0', data=np.zeros((8, 8), bool))
ngff(g, 'yx', [1, 1])
g = zarr.open_group(f'{out}/short-chunk.zarr', mode='w')
g.create_dataset('0', data=u8, chunks=(64, 64), compressor=None)
ngff(g, 'yx', [1, 1])
zarr.save_array(f'{out}/bare.zarr', u8, chunks=(50, 50))
import zlib
g = zarr.open_group(f'{out}/bomb.zarr', mode='w')
g.create_dataset('0', data=u8[:64, :64], chunks=(32, 32), compressor=numcodecs.Zlib(level=1))
ngff(g, 'yx', [1, 1])
with open(f'{out}/bomb.zarr/0/0.0', 'wb') as f:
    f.write(zlib.compress(bytes(50_000_000), 9))
g = zarr.open_group(f'{out}/big-chunks.zarr', mode='w')
g.create_dataset('0', data=np.zeros((1000, 1000), np.uint16), chunks=(1000, 1000))
ngff(g, 'yx', [1, 1])
print(json.dumps('ok'))
`;
    runPythonJson(script, [folder]);
  }, 60_000);

  it('a TCZYX uint16 store (Blosc chunks) with singleton t and c: size, pixel size and pixels', async () => {
    const source = await openOmeZarrSource(join(folder, 'tczyx.zarr'));
    expect([source.width, source.height, source.depth, source.bitDepth]).toEqual([W, H, D, 16]);
    expect(source.pixelSize).toEqual({ x: 0.004, y: 0.004, z: 0.05, unit: 'micrometer', from: 'NGFF scale of level 0' });
    const box = { x: 50, y: 30, width: 70, height: 60 };
    for (let z = 0; z < D; z += 1) {
      const region = await source.readRegion(z, box);
      expect(region.data).toBeInstanceOf(Uint16Array);
      expect([...region.data]).toEqual(expectedRegion(box, (x, y) => u16(x, y, z)));
    }
  });

  it('a YX uint8 store with "/" keys and zlib chunks, and a bare array', async () => {
    for (const name of ['yx-slash.zarr', 'bare.zarr']) {
      const source = await openOmeZarrSource(join(folder, name));
      expect([source.width, source.height, source.depth, source.bitDepth]).toEqual([W, H, 1, 8]);
      const box = { x: 0, y: 31, width: W, height: 40 };
      expect([...(await source.readRegion(0, box)).data]).toEqual(expectedRegion(box, u8));
    }
    expect((await openOmeZarrSource(join(folder, 'yx-slash.zarr'))).pixelSize).toEqual({ x: 4, y: 4, unit: 'nanometer', from: 'NGFF scale of level 0' });
    expect((await openOmeZarrSource(join(folder, 'bare.zarr'))).pixelSize).toBeUndefined();
  });

  it('a zlib bomb in a chunk (50 MB of zeros) is refused without inflating it; oversized chunks are refused at open', async () => {
    const source = await openOmeZarrSource(join(folder, 'bomb.zarr'));
    const before = process.memoryUsage().arrayBuffers;
    await expect(source.readRegion(0, { x: 0, y: 0, width: 8, height: 8 })).rejects.toMatchObject({
      code: 'E_CORRUPT',
      message: expect.stringMatching(/bomb\.zarr: level 0 slice 0: .*zlib data does not inflate \(inflates to more than the chunk's 1024 bytes\)$/),
    });
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(20e6);
    expect([...(await source.readRegion(0, { x: 32, y: 0, width: 2, height: 1 })).data]).toEqual([u8(32, 0), u8(33, 0)]);
    await expect(openOmeZarrSource(join(folder, 'big-chunks.zarr'), { maxChunkBytes: 1 << 20 })).rejects.toMatchObject({
      code: 'E_TOO_LARGE',
      message: expect.stringMatching(/big-chunks\.zarr: level 0 has chunks of 1000x1000 that decode to 2000000 bytes each, over the limit of 1048576/),
    });
  });

  it('int16 becomes float32, exactly', async () => {
    const source = await openOmeZarrSource(join(folder, 'int16.zarr'));
    expect(source.bitDepth).toBe(32);
    const box = { x: 60, y: 60, width: 10, height: 10 };
    const region = await source.readRegion(2, box);
    expect(region.data).toBeInstanceOf(Float32Array);
    expect([...region.data]).toEqual(expectedRegion(box, (x, y) => i16(x, y, 2)));
  });

  it('refuses channels, unsupported sample types and chunks of the wrong size with one line', async () => {
    await expect(openOmeZarrSource(join(folder, 'channels.zarr'))).rejects.toThrow(/channels\.zarr: level 0 has 2 entries along axis c; emseg reads one channel/);
    await expect(openOmeZarrSource(join(folder, 'complex.zarr'))).rejects.toMatchObject({ code: expect.stringMatching(/E_UNSUPPORTED|E_CORRUPT/), message: expect.stringMatching(/^[^\n]*complex\.zarr[^\n]*$/) });
    await expect(openOmeZarrSource(join(folder, 'bool.zarr'))).rejects.toMatchObject({ code: 'E_UNSUPPORTED', message: expect.stringMatching(/bool\.zarr: level 0 has samples of type bool/) });
    const path = join(folder, 'short-chunk.zarr');
    truncateSync(join(path, '0', '0.0'), 100);
    const source = await openOmeZarrSource(path);
    await expect(source.readRegion(0, { x: 0, y: 0, width: 10, height: 10 })).rejects.toMatchObject({ code: 'E_CORRUPT', message: `${path}: level 0 chunk 0/0 holds 100 samples, 4096 expected (truncated or of another type)` });
  });
});
