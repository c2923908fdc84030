/** node/open-volume.ts: the reader picked by content, the writer by name, one-line refusals. */
import { afterAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openVolume, openVolumeSink, volumeOutputFormat } from '../node/open-volume.ts';
import { TiffVolume } from '../node/tiff-volume.ts';
import { OmeZarrSource } from '../node/ome-zarr-source.ts';
import { OmeZarrSink } from '../node/ome-zarr-sink.ts';
import { BigTiffSink } from '../node/bigtiff-sink.ts';
import { encodePng } from '../node/png.ts';
import { allChunks, chunkBox } from '../core/volume.ts';

const folder = mkdtempSync(join(tmpdir(), 'emseg-open-volume-'));
afterAll(() => rmSync(folder, { recursive: true, force: true }));
const sinkOptions = { width: 40, height: 30, depth: 1, sampleType: 'uint8' as const, kind: 'mask' as const, job: 'j', chunkSize: 16 };

describe('openVolume', () => {
  it('opens a TIFF, a PNG and an OME-Zarr folder by content (the name does not matter)', async () => {
    const tiff = join(folder, 'stack.data');
    writeFileSync(tiff, (await import('node:fs')).readFileSync(join(import.meta.dirname, 'fixtures', 'tiff', 'u16-tiles-be.tif')));
    const t = await openVolume(tiff);
    expect(t).toBeInstanceOf(TiffVolume);
    expect(t.bitDepth).toBe(16);
    await t.close();

    const png = join(folder, 'slice.png');
    const data = new Uint8Array(20 * 10).map((_, i) => i % 251);
    writeFileSync(png, await encodePng({ width: 20, height: 10, data }));
    const p = await openVolume(png);
    expect([p.width, p.height, p.depth, p.bitDepth]).toEqual([20, 10, 1, 8]);
    expect([...(await p.readRegion(0, { x: 3, y: 2, width: 2, height: 2 })).data]).toEqual([data[43], data[44], data[63], data[64]]);

    const store = join(folder, 'out.ome.zarr');
    const sink = await openVolumeSink(store, sinkOptions);
    expect(sink).toBeInstanceOf(OmeZarrSink);
    await expect(openVolume(store)).rejects.toThrow(/out\.ome\.zarr: an emseg output whose final step has not run yet/);
    for (const chunk of allChunks(sink)) {
      const box = chunkBox(sink, chunk);
      await sink.writeChunk(chunk, new Uint8Array(box.width * box.height));
    }
    await sink.finalize();
    const z = await openVolume(store);
    expect(z).toBeInstanceOf(OmeZarrSource);
    expect([z.width, z.height]).toEqual([40, 30]);
  });

  it('gives one line for a folder, a text file and a missing path', async () => {
    const plain = join(folder, 'plain');
    mkdirSync(plain);
    await expect(openVolume(plain)).rejects.toThrow(/plain: is a folder but no Zarr store \(no \.zgroup, \.zarray or zarr\.json\)/);
    const text = join(folder, 'notes.tif');
    writeFileSync(text, 'hello there');
    await expect(openVolume(text)).rejects.toMatchObject({ code: 'E_NOT_AN_IMAGE', message: `${text}: not a TIFF, PNG or JPEG image nor an OME-Zarr folder (starts with bytes 68 65 6c 6c)` });
    await expect(openVolume(join(folder, 'missing.tif'))).rejects.toMatchObject({ code: 'E_NOT_FOUND' });
  });
});

describe('openVolumeSink', () => {
  it('picks the writer from the name', async () => {
    expect(['a.zarr', 'a.ome.zarr/', 'A.TIF', 'b.tiff', 'c.png'].map(volumeOutputFormat)).toEqual(['ome-zarr', 'ome-zarr', 'bigtiff', 'bigtiff', undefined]);
    const tif = await openVolumeSink(join(folder, 'big.tif'), { ...sinkOptions, levels: 0 });
    expect(tif).toBeInstanceOf(BigTiffSink);
    for (const chunk of allChunks(tif)) {
      const box = chunkBox(tif, chunk);
      await tif.writeChunk(chunk, new Uint8Array(box.width * box.height));
    }
    await tif.finalize();
    await expect(openVolume(join(folder, 'big.tif'), { level: 1 })).rejects.toThrow(/big\.tif: level 1 does not exist, page 0 has levels 0-0/);
    await expect(openVolumeSink(join(folder, 'big2.tif'), { ...sinkOptions, levels: -1 })).rejects.toThrow(/levels: expected an integer >= 0, found -1/);
    await expect(openVolumeSink(join(folder, 'x.png'), sinkOptions)).rejects.toMatchObject({ code: 'E_BAD_ARGUMENT', message: expect.stringMatching(/x\.png: large outputs are written as OME-Zarr/) });
  });
});
