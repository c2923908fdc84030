import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeImage, makeStack, type ImageStack, type PixelArray } from '../core/image.ts';
import { decodeTiff, encodeTiff } from '../core/tiff.ts';
import { probeImage } from '../core/image-probe.ts';
import { python, pythonCanRun } from './helpers/python.ts';

function stackOf<D extends PixelArray>(make: (n: number) => D, pages: number, width: number, height: number, f: (p: number, i: number) => number): ImageStack<D> {
  return makeStack(
    Array.from({ length: pages }, (_, p) => {
      const data = make(width * height);
      for (let i = 0; i < data.length; i += 1) data[i] = f(p, i);
      return makeImage(width, height, data);
    }),
  );
}

const u8 = stackOf((n) => new Uint8Array(n), 4, 33, 17, (p, i) => (i * 31 + p * 7) % 256);
const u16 = stackOf((n) => new Uint16Array(n), 3, 20, 9, (p, i) => (i * 7919 + p * 104729) % 65536);
const f32 = stackOf((n) => new Float32Array(n), 2, 16, 16, (p, i) => Math.sin(i + p) * 1e3);
f32.pages[0]!.data.set([NaN, Infinity, -Infinity, -0, 1e-40], 0);

function ascii(bytes: Uint8Array): string {
  return String.fromCharCode(...bytes);
}

describe('encodeTiff', () => {
  it.each([
    ['8-bit', u8],
    ['16-bit', u16],
    ['float32 (with NaN, infinities, -0 and a denormal)', f32],
  ] as const)('round-trips a %s stack bit-exactly through decodeTiff', (_, stack) => {
    const back = decodeTiff(encodeTiff(stack), 'encoded');
    expect(back.width).toBe(stack.width);
    expect(back.height).toBe(stack.height);
    expect(back.pages).toHaveLength(stack.pages.length);
    back.pages.forEach((page, p) => {
      const original = stack.pages[p]!.data;
      expect(page.data.constructor).toBe(original.constructor);
      expect(new Uint8Array(page.data.buffer, page.data.byteOffset, page.data.byteLength)).toEqual(
        new Uint8Array(original.buffer, original.byteOffset, original.byteLength),
      );
    });
  });

  it('writes an ImageJ description for stacks and stores the pages contiguously, as ImageJ expects', () => {
    const bytes = encodeTiff(u16);
    const text = ascii(bytes);
    expect(text).toContain('ImageJ=1.11a\nimages=3\nslices=3\nloop=false\nmin=');
    // ImageJ reads only the first IFD of its stacks and then the pages one after the other.
    const pageBytes = u16.width * u16.height * 2;
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const firstData = bytes.length - 3 * pageBytes;
    expect(view.getUint16(firstData, true)).toBe(u16.pages[0]!.data[0]);
    expect(view.getUint16(firstData + pageBytes, true)).toBe(u16.pages[1]!.data[0]);
    expect(firstData % 16).toBe(0);
  });

  it('reads an ImageJ stack stored with a single IFD (as ImageJ writes stacks over 4 GiB) as all its pages', () => {
    const bytes = encodeTiff(u16).slice();
    const view = new DataView(bytes.buffer);
    const first = view.getUint32(4, true);
    view.setUint32(first + 2 + view.getUint16(first, true) * 12, 0, true); // cut the IFD chain after page 0
    const back = decodeTiff(bytes, 'single-ifd.tif');
    expect(back.pages).toHaveLength(3);
    expect(probeImage(bytes, 'single-ifd.tif')).toMatchObject({ pages: 3, totalPixels: 3 * u16.width * u16.height });
    expect(Array.from(back.pages[2]!.data)).toEqual(Array.from(u16.pages[2]!.data));
    // Without the ImageJ description the same file is one page.
    expect(decodeTiff(encodeTiff(makeStack([u16.pages[0]!]), { imagej: false }), 'plain.tif').pages).toHaveLength(1);
  });

  it('can leave the ImageJ description out', () => {
    expect(ascii(encodeTiff(u8, { imagej: false }))).not.toContain('ImageJ=');
  });

  it('refuses a stack whose pages differ in depth', () => {
    const mixed = { width: 2, height: 1, pages: [makeImage(2, 1, new Uint8Array(2)), makeImage(2, 1, new Uint16Array(2))] };
    expect(() => encodeTiff(mixed)).toThrow(/page 1: expected 8-bit data like page 0, found 16-bit/);
  });
});

const runCrossCheck = pythonCanRun('tifffile, numpy, PIL', 'io-tiff-encode', 'python3-tifffile python3-numpy python3-pil');

describe.skipIf(!runCrossCheck)('encodeTiff output read by Python tifffile and Pillow (independent readers)', () => {
  const folder = mkdtempSync(join(tmpdir(), 'emseg-tiff-'));
  afterAll(() => rmSync(folder, { recursive: true, force: true }));

  it.each([
    ['u8', u8, 'uint8'],
    ['u16', u16, 'uint16'],
    ['f32', f32, 'float32'],
  ] as const)('%s stack', (name, stack, dtype) => {
    const path = join(folder, `${name}.tif`);
    writeFileSync(path, encodeTiff(stack));
    const script = [
      'import sys, json, hashlib, tifffile, numpy as np',
      'from PIL import Image',
      'with tifffile.TiffFile(sys.argv[1]) as t:',
      '    a = t.asarray()',
      '    info = dict(imagej=t.is_imagej, pages=len(t.pages), shape=list(a.shape), dtype=str(a.dtype),',
      "                sha=hashlib.sha256(a.astype(a.dtype.newbyteorder('<')).tobytes()).hexdigest())",
      'im = Image.open(sys.argv[1]); info["pil_size"] = list(im.size); info["pil_frames"] = im.n_frames',
      'print(json.dumps(info))',
    ].join('\n');
    const result = spawnSync(python, ['-c', script, path], { encoding: 'utf8' });
    expect(result.stderr).toBe('');
    const info = JSON.parse(result.stdout) as Record<string, unknown>;
    const hash = createHash('sha256');
    for (const page of stack.pages) hash.update(new Uint8Array(page.data.buffer, page.data.byteOffset, page.data.byteLength));
    expect(info).toEqual({
      imagej: true,
      pages: stack.pages.length,
      shape: [stack.pages.length, stack.height, stack.width],
      dtype,
      sha: hash.digest('hex'),
      pil_size: [stack.width, stack.height],
      pil_frames: stack.pages.length,
    });
  });
});
