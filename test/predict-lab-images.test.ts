/**
 * A lab's own images through `emseg predict` with the shipped model (issue 23): the pixel size an
 * ImageJ stack states is used without flags, exactly as `--pixel-size` would be, and the output
 * states it back (read by tifffile); an inverted slice with `--invert` gives the original slice's
 * mask, and without it a one-line warning; an existing output is not replaced without --force.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { halveImage } from '../core/downsample.ts';
import type { GreyImage } from '../core/image.ts';
import { decodeTiff, encodeTiff } from '../core/tiff.ts';
import { pythonCanRun, runPythonJson } from './helpers/python.ts';
import { runCliCaptured } from './helpers/run-cli-captured.ts';

const MODEL = 'models/isbi2012-unet.onnx';
let dir: string;
let slices: GreyImage<Uint8Array>[];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'emseg-lab-'));
  slices = decodeTiff(new Uint8Array(readFileSync('data/isbi2012/train-volume.tif')), 'train-volume').pages.slice(0, 2) as GreyImage<Uint8Array>[];
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const predict = (...args: string[]) => runCliCaptured(['predict', ...args, '--model', MODEL, '--ep', 'cpu', '--quiet']);
const foreground = (data: Uint8Array) => data.reduce((n, v) => n + (v === 255 ? 1 : 0), 0) / data.length;
const differing = (a: Uint8Array, b: Uint8Array) => a.reduce((n, v, i) => n + (v === b[i] ? 0 : 1), 0);

describe('emseg predict on a lab\'s own images', () => {
  it('uses the pixel size an ImageJ stack states, as --pixel-size would, and writes it back', async () => {
    // ISBI slices (4 nm) halved: 8 nm, as an ImageJ stack written by tifffile (or by emseg without python).
    const halved = slices.map((s) => halveImage(s, 'mean'));
    const plain = join(dir, 'plain.tif');
    writeFileSync(plain, encodeTiff({ width: 256, height: 256, pages: halved }));
    const stack8 = join(dir, 'stack-8nm.tif');
    const python = pythonCanRun('tifffile, numpy', 'predict-lab-images', 'python3-tifffile python3-numpy');
    if (python) {
      runPythonJson(
        "import sys, json, tifffile\na = tifffile.imread(sys.argv[1])\ntifffile.imwrite(sys.argv[2], a, imagej=True, resolution=(1/8, 1/8), metadata={'unit': 'nm', 'spacing': 50, 'axes': 'ZYX'})\nprint(json.dumps(list(a.shape)))",
        [plain, stack8],
      );
    } else {
      writeFileSync(stack8, encodeTiff({ width: 256, height: 256, pages: halved, pixelSize: { x: 8, y: 8, z: 50, unit: 'nanometer' } }));
    }

    const auto = await predict(stack8, '-o', join(dir, 'auto-mask.tif'));
    expect(auto.code, auto.stderr).toBe(0);
    expect(auto.stderr).toMatch(/^pixel size 8 nm \(from ImageJ description of .*stack-8nm\.tif\): rescaled x2 to the model's 4 nm$/m);
    const flag = await predict(stack8, '-o', join(dir, 'flag-mask.tif'), '--pixel-size', '8');
    expect(flag.code, flag.stderr).toBe(0);
    expect(flag.stderr).toMatch(/^pixel size 8 nm \(from --pixel-size\): rescaled x2/m);
    const none = await predict(plain, '-o', join(dir, 'none-mask.tif'));
    expect(none.stderr).toMatch(/^pixel size: .*plain\.tif states none, not rescaled \(the model was trained at 4 nm; --pixel-size P to set it\)$/m);

    const autoMask = decodeTiff(readFileSync(join(dir, 'auto-mask.tif')), 'auto');
    const flagMask = decodeTiff(readFileSync(join(dir, 'flag-mask.tif')), 'flag');
    const noneMask = decodeTiff(readFileSync(join(dir, 'none-mask.tif')), 'none');
    expect(autoMask.pages).toHaveLength(2);
    for (const k of [0, 1]) {
      expect(differing(autoMask.pages[k]!.data as Uint8Array, flagMask.pages[k]!.data as Uint8Array)).toBe(0);
      // Without the rescaling the mask is another one (the 45.3 % against 36.1 %).
      expect(differing(autoMask.pages[k]!.data as Uint8Array, noneMask.pages[k]!.data as Uint8Array)).toBeGreaterThan(1000);
    }
    const share = (stack: typeof autoMask) => foreground(Uint8Array.from(stack.pages.flatMap((p) => [...p.data])));
    console.log(`[predict-lab-images] 8 nm stack: ${(share(autoMask) * 100).toFixed(1)}% cell interior with its own pixel size, ${(share(noneMask) * 100).toFixed(1)}% not rescaled`);

    // The mask states 8 nm: emseg reads it back, and so does tifffile (independently).
    expect(autoMask.pixelSize).toMatchObject({ x: 8, y: 8, z: 50, unit: 'nanometer' });
    if (python) {
      const read = runPythonJson(
        "import sys, json, tifffile\nt = tifffile.TiffFile(sys.argv[1])\np = t.pages[0]\nx = p.tags['XResolution'].value\ny = p.tags['YResolution'].value\nm = t.imagej_metadata\nprint(json.dumps({'x': x[1] / x[0], 'y': y[1] / y[0], 'unit': m.get('unit'), 'spacing': m.get('spacing'), 'shape': list(t.asarray().shape)}))",
        [join(dir, 'auto-mask.tif')],
      ) as { x: number; y: number; unit: string; spacing: number; shape: number[] };
      expect(read).toEqual({ x: 8, y: 8, unit: 'nm', spacing: 50, shape: [2, 256, 256] });
    }
  });

  it('--invert on an inverted slice gives the mask of the original; without it, one warning', async () => {
    const original = join(dir, 'original.tif');
    const inverted = join(dir, 'inverted.tif');
    writeFileSync(original, encodeTiff({ width: 512, height: 512, pages: [slices[0]!] }));
    writeFileSync(inverted, encodeTiff({ width: 512, height: 512, pages: [{ width: 512, height: 512, data: Uint8Array.from(slices[0]!.data, (v) => 255 - v) }] }));
    const base = await predict(original, '-o', join(dir, 'original-mask.tif'));
    expect(base.code, base.stderr).toBe(0);
    expect(base.stderr).not.toMatch(/inverted/);
    const garbage = await predict(inverted, '-o', join(dir, 'inverted-mask.tif'));
    expect(garbage.stderr.match(/^emseg: warning: .*inverted\.tif: its contrast looks inverted .*use --invert$/gm)).toHaveLength(1);
    const fixed = await predict(inverted, '-o', join(dir, 'fixed-mask.tif'), '--invert');
    expect(fixed.code, fixed.stderr).toBe(0);
    expect(fixed.stderr).not.toMatch(/warning/);
    const read = (name: string) => decodeTiff(readFileSync(join(dir, name)), name).pages[0]!.data as Uint8Array;
    expect(differing(read('fixed-mask.tif'), read('original-mask.tif'))).toBe(0);
    expect(differing(read('inverted-mask.tif'), read('original-mask.tif'))).toBeGreaterThan(10000);
    console.log(`[predict-lab-images] slice 0: ${(foreground(read('original-mask.tif')) * 100).toFixed(1)}% cell interior; inverted ${(foreground(read('inverted-mask.tif')) * 100).toFixed(1)}%, inverted with --invert ${(foreground(read('fixed-mask.tif')) * 100).toFixed(1)}%`);
    // --invert on the original warns the other way.
    const wrong = await predict(original, '-o', join(dir, 'wrong-mask.tif'), '--invert');
    expect(wrong.stderr).toMatch(/^emseg: warning: .*original\.tif: with --invert its contrast looks inverted .*drop --invert$/m);
  });

  it('refuses to replace an existing output without --force', async () => {
    const input = join(dir, 'original.tif');
    const out = join(dir, 'original-mask.tif');
    const before = readFileSync(out);
    writeFileSync(out, 'a file the user keeps');
    const refused = await predict(input, '-o', out);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^emseg: -o .*original-mask\.tif: exists already; pass --force to replace it, or choose another path$/m);
    expect(readFileSync(out, 'utf8')).toBe('a file the user keeps');
    expect((await predict(input, '-o', out, '--force')).code).toBe(0);
    expect(readFileSync(out).equals(before)).toBe(true);
  });
});
