/**
 * The TIFF/BigTIFF volume reader (node/tiff-volume.ts) on files written by an independent writer,
 * Python's tifffile: classic and BigTIFF, both byte orders, strips and tiles, every compression we
 * claim, 8/16/32-bit and float, stacks, OME and ImageJ pixel sizes; and the guards on broken files.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openTiffVolume } from '../node/tiff-volume.ts';
import { withBlockCache } from '../core/block-cache.ts';
import { decodeTiff, encodeTiff } from '../core/tiff.ts';
import { makeImage, makeStack } from '../core/image.ts';
import { pythonCanRun, runPythonJson } from './helpers/python.ts';

const folder = mkdtempSync(join(tmpdir(), 'emseg-tiff-volume-'));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

// The same patterns in Python (below) and here.
const W = 203;
const H = 150;
const D = 3;
const u8 = (x: number, y: number, z: number): number => (x * 7 + y * 13 + z * 29) % 256;
const u16 = (x: number, y: number, z: number): number => (x * 37 + y * 101 + z * 7919) % 65536;
const f32 = (x: number, y: number, z: number): number => Math.fround(x * 0.5 - y * 0.25 + z);
const i16 = (x: number, y: number, z: number): number => ((x * 37 + y * 101 + z * 7) % 2000) - 1000;

const makeScript = `
import sys, json, numpy as np, tifffile
out = sys.argv[1]
W, H, D = ${W}, ${H}, ${D}
z, y, x = np.meshgrid(np.arange(D), np.arange(H), np.arange(W), indexing='ij')
u8 = ((x * 7 + y * 13 + z * 29) % 256).astype(np.uint8)
u16 = ((x * 37 + y * 101 + z * 7919) % 65536).astype(np.uint16)
f32 = (x * 0.5 - y * 0.25 + z).astype(np.float32)
i16 = (((x * 37 + y * 101 + z * 7) % 2000) - 1000).astype(np.int16)
def w(name, data, **kw):
    tifffile.imwrite(f'{out}/{name}.tif', data, photometric='minisblack', **kw)
w('u8-strips-none', u8, rowsperstrip=16)
w('u8-strips-deflate-be', u8, rowsperstrip=7, compression='zlib', byteorder='>')
w('u8-big-tiles-deflate-predictor', u8, bigtiff=True, tile=(64, 48), compression='zlib', predictor=True)
w('u16-big-tiles-deflate', u16, bigtiff=True, tile=(32, 32), compression='zlib')
w('u16-big-tiles-be', u16, bigtiff=True, byteorder='>', tile=(64, 64))
w('f32-big-tiles-be-deflate', f32, bigtiff=True, byteorder='>', tile=(48, 32), compression='zlib')
w('i16-strips', i16, rowsperstrip=32)
tifffile.imwrite(f'{out}/rgb.tif', np.stack([u8[0], u8[0] // 2, 255 - u8[0]], axis=-1), photometric='rgb')
tifffile.imwrite(f'{out}/ome.ome.tif', u8, bigtiff=True, tile=(64, 64), metadata={'axes': 'ZYX', 'PhysicalSizeX': 4.0, 'PhysicalSizeXUnit': 'nm', 'PhysicalSizeY': 4.5, 'PhysicalSizeYUnit': 'nm', 'PhysicalSizeZ': 0.05, 'PhysicalSizeZUnit': 'µm'})
tifffile.imwrite(f'{out}/imagej.tif', u8, imagej=True, resolution=(1 / 0.004, 1 / 0.004), metadata={'unit': 'um', 'spacing': 0.05, 'axes': 'ZYX'})
tifffile.imwrite(f'{out}/imagej-8nm.tif', u8, imagej=True, resolution=(1 / 8, 1 / 8), metadata={'unit': 'nm', 'axes': 'ZYX'})
tifffile.imwrite(f'{out}/resolution-cm.tif', u8[0], resolution=(2500000, 2000000), resolutionunit='CENTIMETER', metadata=None)
tifffile.imwrite(f'{out}/resolution-none.tif', u8[0], resolution=(1, 1), resolutionunit='NONE', metadata=None)
tifffile.imwrite(f'{out}/ome-channels.ome.tif', np.stack([u8, u8]), metadata={'axes': 'CZYX'})
tifffile.imwrite(f'{out}/bomb.tif', np.zeros((2048, 2048), np.uint8), bigtiff=True, tile=(2048, 2048), compression='zlib')
tifffile.imwrite(f'{out}/outside.tif', u8[0], bigtiff=True, tile=(64, 64))
with tifffile.TiffFile(f'{out}/outside.tif', mode='r+b') as t:
    tag = t.pages[0].tags['TileOffsets']
    values = list(tag.value)
    values[5] = 10 ** 9
    tag.overwrite(values)
import zlib
tifffile.imwrite(f'{out}/zipbomb.tif', u8[0], bigtiff=True, tile=(64, 64), compression='zlib')
bomb = zlib.compress(bytes(50_000_000), 9)
with open(f'{out}/zipbomb.tif', 'ab') as f:
    at = f.tell()
    f.write(bomb)
with tifffile.TiffFile(f'{out}/zipbomb.tif', mode='r+b') as t:
    for name, value in (('TileOffsets', at), ('TileByteCounts', len(bomb))):
        tag = t.pages[0].tags[name]
        values = list(tag.value)
        values[0] = value
        tag.overwrite(values)
with tifffile.TiffWriter(f'{out}/pyramid.ome.tif', bigtiff=True, ome=True) as tw:
    tw.write(u8[0], subifds=1, tile=(64, 64), compression='zlib', photometric='minisblack', metadata={'axes': 'YX', 'PhysicalSizeX': 4.0, 'PhysicalSizeXUnit': 'nm', 'PhysicalSizeY': 4.0, 'PhysicalSizeYUnit': 'nm'})
    tw.write(np.ascontiguousarray(u8[0][::2, ::2]), subfiletype=1, tile=(64, 64), compression='zlib', photometric='minisblack')
tifffile.imwrite(f'{out}/one-strip.tif', np.tile(u8[0], (14, 10)), photometric='minisblack', rowsperstrip=H * 14)
print(json.dumps('ok'))
`;

const canRun = pythonCanRun('tifffile, numpy', 'volume-tiff-source', 'python3-tifffile python3-numpy');

describe.skipIf(!canRun)('TIFF volume reader on files written by tifffile', () => {
  beforeAll(() => {
    runPythonJson(makeScript, [folder]);
  }, 60_000);

  const region = { x: 37, y: 21, width: 101, height: 90 }; // crosses strip and tile borders

  it.each([
    ['u8-strips-none', 8, u8],
    ['u8-strips-deflate-be', 8, u8],
    ['u8-big-tiles-deflate-predictor', 8, u8],
    ['u16-big-tiles-deflate', 16, u16],
    ['u16-big-tiles-be', 16, u16],
    ['f32-big-tiles-be-deflate', 32, f32],
    ['i16-strips', 32, i16],
  ] as const)('%s: size, depth, sample type and every pixel of a region of each slice, also read tile by tile', async (name, bitDepth, pattern) => {
    const volume = await openTiffVolume(join(folder, `${name}.tif`));
    expect([volume.width, volume.height, volume.depth, volume.bitDepth]).toEqual([W, H, D, bitDepth]);
    // Whole tiles and strips take the reader's direct path; uncompressed strips have no blocks.
    const blocks = withBlockCache(volume, { maxBlocks: 2 });
    expect(blocks === volume).toBe(name === 'u8-strips-none' || name === 'i16-strips');
    const expectedOf = (image: { data: ArrayLike<number> }, box: typeof region, z: number) => {
      const expected = new (image.data.constructor as new (n: number) => Uint8Array)(box.width * box.height);
      for (let y = 0; y < box.height; y += 1) for (let x = 0; x < box.width; x += 1) expected[y * box.width + x] = pattern(box.x + x, box.y + y, z);
      return expected;
    };
    for (let z = 0; z < D; z += 1) {
      const image = await volume.readRegion(z, region);
      expect(image.data.constructor).toBe(bitDepth === 8 ? Uint8Array : bitDepth === 16 ? Uint16Array : Float32Array);
      expect(image.data).toEqual(expectedOf(image, region, z));
      const all = { x: 0, y: 0, width: W, height: H };
      const whole = await blocks.readRegion(z, all);
      expect(whole.data.constructor).toBe(image.data.constructor);
      expect(whole.data).toEqual(expectedOf(whole, all, z));
    }
    const corner = await volume.readRegion(D - 1, { x: W - 1, y: H - 1, width: 1, height: 1 });
    expect([...corner.data]).toEqual([pattern(W - 1, H - 1, D - 1)]);
    await volume.close();
  });

  it('RGB becomes grey with the BT.601 weights', async () => {
    const volume = await openTiffVolume(join(folder, 'rgb.tif'));
    const image = await volume.readRegion(0, { x: 5, y: 3, width: 1, height: 1 });
    const r = u8(5, 3, 0);
    expect([...image.data]).toEqual([Math.round((299 * r + 587 * Math.floor(r / 2) + 114 * (255 - r)) / 1000)]);
    await volume.close();
  });

  it('reads the OME-XML and ImageJ pixel sizes (z in the unit of x)', async () => {
    const ome = await openTiffVolume(join(folder, 'ome.ome.tif'));
    expect(ome.depth).toBe(D);
    expect(ome.pixelSize).toEqual({ x: 4, y: 4.5, z: 50, unit: 'nanometer', from: 'OME-XML' });
    const imagej = await openTiffVolume(join(folder, 'imagej.tif'));
    expect(imagej.depth).toBe(D);
    expect(imagej.pixelSize?.unit).toBe('micrometer');
    expect(imagej.pixelSize?.x).toBeCloseTo(0.004, 9);
    expect(imagej.pixelSize?.z).toBe(0.05);
    const plain = await openTiffVolume(join(folder, 'u8-strips-none.tif'));
    expect(plain.pixelSize).toBeUndefined();
    await Promise.all([ome.close(), imagej.close(), plain.close()]);
    // Resolution tags are rationals: (1, 8) pixels per nm is 8 nm, not 1 (the numerator).
    const eight = await openTiffVolume(join(folder, 'imagej-8nm.tif'));
    expect(eight.pixelSize).toEqual({ x: 8, y: 8, unit: 'nanometer', from: 'ImageJ description' });
    // A plain TIFF's resolution in pixels per centimeter states a size; ResolutionUnit none does not.
    const cm = await openTiffVolume(join(folder, 'resolution-cm.tif'));
    expect(cm.pixelSize).toEqual({ x: 4, y: 5, unit: 'nanometer', from: 'resolution tags (per centimeter)' });
    const none = await openTiffVolume(join(folder, 'resolution-none.tif'));
    expect(none.pixelSize).toBeUndefined();
    await Promise.all([eight.close(), cm.close(), none.close()]);
    await expect(openTiffVolume(join(folder, 'ome-channels.ome.tif'))).rejects.toThrow(/SizeC=2.*emseg reads one channel of one time point/);
  });

  it('reads an uncompressed page stored as one strip row by row, whatever the strip size', async () => {
    const volume = await openTiffVolume(join(folder, 'one-strip.tif'), { maxSegmentBytes: 1 << 16 });
    expect([volume.width, volume.height, volume.depth]).toEqual([W * 10, H * 14, 1]);
    const box = { x: W * 5 + 3, y: H * 7 + 2, width: 40, height: 30 };
    expect([...(await volume.readRegion(0, box)).data]).toEqual(Array.from({ length: 30 * 40 }, (_, i) => u8((box.x + (i % 40)) % W, (box.y + Math.floor(i / 40)) % H, 0)));
    await volume.close();
  });

  it('reads level 1 of a pyramidal OME-TIFF (SubIFDs) with its larger pixel size; refuses a level it lacks', async () => {
    const path = join(folder, 'pyramid.ome.tif');
    const full = await openTiffVolume(path);
    expect([full.width, full.height, full.depth, full.pixelSize?.x]).toEqual([W, H, 1, 4]);
    await full.close();
    const half = await openTiffVolume(path, { level: 1 });
    expect([half.width, half.height, half.depth]).toEqual([Math.ceil(W / 2), Math.ceil(H / 2), 1]);
    expect(half.pixelSize).toEqual({ x: 4 * (W / Math.ceil(W / 2)), y: 4 * (H / Math.ceil(H / 2)), unit: 'nanometer', from: 'OME-XML' });
    const box = { x: 10, y: 20, width: 60, height: 40 };
    expect([...(await half.readRegion(0, box)).data]).toEqual(Array.from({ length: 60 * 40 }, (_, i) => u8(2 * (box.x + (i % 60)), 2 * (box.y + Math.floor(i / 60)), 0)));
    await half.close();
    await expect(openTiffVolume(path, { level: 2 })).rejects.toThrow(/pyramid\.ome\.tif: level 2 does not exist, page 0 has levels 0-1$/);
  });

  it('refuses a tile that would decode to more than the limit, before reading it', async () => {
    await expect(openTiffVolume(join(folder, 'bomb.tif'), { maxSegmentBytes: 1 << 20 })).rejects.toMatchObject({
      code: 'E_TOO_LARGE',
      message: expect.stringMatching(/bomb\.tif: page 0: one tile of 2048x2048 pixels decodes to 4194304 bytes, over the limit of 1048576/),
    });
  });

  it('inflates a zip bomb (50 MB of zeros in a 64x64 tile) only to the tile size', async () => {
    const volume = await openTiffVolume(join(folder, 'zipbomb.tif'));
    const before = process.memoryUsage().arrayBuffers;
    const tile = await volume.readRegion(0, { x: 0, y: 0, width: 64, height: 64 });
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(20e6);
    expect(tile.data.every((v) => v === 0)).toBe(true);
    const next = await volume.readRegion(0, { x: 64, y: 0, width: 1, height: 1 });
    expect([...next.data]).toEqual([u8(64, 0, 0)]);
    await volume.close();
  });

  it('names a tile pointing outside the file; the tiles before it still read', async () => {
    const volume = await openTiffVolume(join(folder, 'outside.tif'));
    await expect(volume.readRegion(0, { x: 0, y: 64, width: 128, height: 10 })).rejects.toMatchObject({
      code: 'E_CORRUPT',
      message: expect.stringMatching(/outside\.tif: page 0 tile 5 at byte 1000000000 \(\d+ bytes\) runs past the end of the file \(truncated or corrupt TIFF, \d+ bytes\)$/),
    });
    const ok = await volume.readRegion(0, { x: 0, y: 0, width: 64, height: 64 });
    expect(ok.data[64 * 10 + 3]).toBe(u8(3, 10, 0));
    await volume.close();
  });

  it('a truncated BigTIFF: cut in the pixel data names the tile, cut in the header names the header', async () => {
    const path = join(folder, 'cut.tif');
    writeFileSync(path, readFileSync(join(folder, 'u16-big-tiles-deflate.tif')));
    const size = statSync(path).size;
    truncateSync(path, size - 50); // tifffile writes each page's IFD before its tiles: the last tile is cut
    const volume = await openTiffVolume(path);
    await expect(volume.readRegion(D - 1, { x: 0, y: 0, width: W, height: H })).rejects.toThrow(/cut\.tif: page 2 tile \d+ at byte \d+ \(\d+ bytes\) runs past the end of the file/);
    await volume.close();
    truncateSync(path, Math.floor(size * 0.6));
    await expect(openTiffVolume(path)).rejects.toThrow(/cut\.tif: image directory 2 at byte \d+ lies outside the file \(truncated or corrupt TIFF, \d+ bytes\)$/);
    truncateSync(path, 12);
    await expect(openTiffVolume(path)).rejects.toThrow(/cut\.tif: the 16-byte header is cut short \(truncated or corrupt TIFF, 12 bytes\)/);
  });

  it('a loop in the IFD chain is named, not followed forever', async () => {
    const path = join(folder, 'loop.tif');
    const bytes = readFileSync(join(folder, 'u8-strips-none.tif'));
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const second = view.getUint32(4 + 0, true); // first IFD
    const entries = view.getUint16(second, true);
    const next = view.getUint32(second + 2 + entries * 12, true); // second IFD
    const nextEntries = view.getUint16(next, true);
    view.setUint32(next + 2 + nextEntries * 12, second, true); // second -> first
    writeFileSync(path, bytes);
    await expect(openTiffVolume(path)).rejects.toThrow(/loop\.tif: image directory 2 at byte \d+ repeats an earlier one \(a loop in the IFD chain\)/);
    await expect(openTiffVolume(join(folder, 'u8-strips-none.tif'), { maxPages: 2 })).rejects.toMatchObject({ code: 'E_TOO_LARGE' });
  });
});

describe('TIFF volume reader against core/tiff.ts on the TIFF fixtures (LZW, PackBits, palette, WhiteIsZero...)', () => {
  const fixtures = join(import.meta.dirname, 'fixtures', 'tiff');
  // JPEG in YCbCr (PhotometricInterpretation 6) is refused here; core/tiff.ts reads it.
  const names = readdirSync(fixtures).filter((f) => f.endsWith('.tif') && !f.startsWith('bad-') && f !== 'jpeg-ycbcr.tif');

  it.each(names)('%s: every page equals decodeTiff, read in four regions', async (name) => {
    const path = join(fixtures, name);
    const stack = decodeTiff(new Uint8Array(readFileSync(path)), name); // a copy: utif's PackBits reads `.buffer`
    const volume = await openTiffVolume(path);
    expect([volume.width, volume.height, volume.depth]).toEqual([stack.width, stack.height, stack.pages.length]);
    const hw = Math.ceil(stack.width / 2);
    const hh = Math.ceil(stack.height / 2);
    for (const [z, page] of stack.pages.entries()) {
      for (const box of [{ x: 0, y: 0, width: hw, height: hh }, { x: hw - 1, y: 0, width: stack.width - hw + 1, height: hh }, { x: 0, y: hh, width: stack.width, height: stack.height - hh }]) {
        if (box.width <= 0 || box.height <= 0) continue;
        const region = await volume.readRegion(z, box);
        const expected = new (page.data.constructor as new (n: number) => typeof page.data)(box.width * box.height);
        for (let y = 0; y < box.height; y += 1) expected.set(page.data.subarray((box.y + y) * stack.width + box.x, (box.y + y) * stack.width + box.x + box.width), y * box.width);
        expect(region.data, `page ${z} ${JSON.stringify(box)}`).toEqual(expected);
      }
    }
    await volume.close();
  });

  // bad-float64 and bad-uint32 are read here (as float32); the other bad fixtures are refused.
  it.each(names.length ? [...readdirSync(fixtures).filter((f) => f.startsWith('bad-') && f !== 'bad-float64.tif' && f !== 'bad-uint32.tif'), 'jpeg-ycbcr.tif'] : [])('%s is refused with one line', async (name) => {
    const error = await openTiffVolume(join(fixtures, name)).then(async (v) => { await v.readRegion(0, { x: 0, y: 0, width: v.width, height: v.height }); await v.close(); return undefined; }, (e: unknown) => e);
    expect(error).toMatchObject({ name: 'EmsegError', message: expect.stringMatching(new RegExp(`^${join(fixtures, name)}: [^\\n]+$`)) });
  });
});

describe('TIFF volume reader: an ImageJ stack stored with a single IFD (as ImageJ writes stacks over 4 GiB)', () => {
  it('reads its pages one after the other, and refuses a truncated one', async () => {
    const pages = [0, 1, 2].map((z) => makeImage(50, 40, Uint16Array.from({ length: 2000 }, (_, i) => u16(i % 50, Math.floor(i / 50), z))));
    const bytes = encodeTiff(makeStack(pages));
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const ifd = view.getUint32(4, true);
    view.setUint32(ifd + 2 + view.getUint16(ifd, true) * 12, 0, true); // cut the chain after IFD 0
    const path = join(folder, 'imagej-one-ifd.tif');
    writeFileSync(path, bytes);
    const volume = await openTiffVolume(path);
    expect([volume.width, volume.height, volume.depth, volume.bitDepth]).toEqual([50, 40, 3, 16]);
    for (let z = 0; z < 3; z += 1) expect((await volume.readRegion(z, { x: 0, y: 0, width: 50, height: 40 })).data).toEqual(pages[z]!.data);
    await volume.close();
    truncateSync(path, bytes.length - 10);
    await expect(openTiffVolume(path)).rejects.toThrow(/imagej-one-ifd\.tif: an ImageJ stack of 3 images needs \d+ bytes, the file has \d+ \(truncated\)/);
  });
});

describe('TIFF volume reader: not a TIFF, missing file', () => {
  it('gives one-line errors', async () => {
    const path = join(folder, 'notes.tif');
    writeFileSync(path, 'these are notes');
    await expect(openTiffVolume(path)).rejects.toMatchObject({ code: 'E_NOT_AN_IMAGE', message: `${path}: not a TIFF file (starts with bytes 74 68 65 73)` });
    await expect(openTiffVolume(join(folder, 'missing.tif'))).rejects.toMatchObject({ code: 'E_NOT_FOUND' });
  });
});
