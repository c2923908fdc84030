/**
 * `emseg predict` through runCli in-process, with a tiny exported U-Net and real ISBI slices:
 * PNG, JPEG and multi-page TIFF in; mask PNG/TIFF, float32 probability TIFF and overlay PNG out,
 * equal to a direct segmentImage run; folders; inputs never overwritten; bad input gives one line.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { GreyImage } from '../core/image.ts';
import { segmentImage } from '../core/inference.ts';
import { decodeTiff, encodeTiff } from '../core/tiff.ts';
import { readImageFile } from '../node/image-files.ts';
import { encodePng } from '../node/png.ts';
import { runCli } from '../cli/run.ts';
import { predictProgressLine } from '../cli/commands/predict.ts';
import { loadOnnxModel, type LoadedModel } from '../node/load-onnx-model.ts';
import { tinyUNetOnnx, type TinyUNetOnnx } from './helpers/tiny-unet-onnx.ts';

let tiny: TinyUNetOnnx;
let model: LoadedModel;
let slices: GreyImage<Uint8Array>[];
let dir: string;

beforeAll(async () => {
  tiny = await tinyUNetOnnx({ depth: 2, baseFilters: 4 });
  model = await loadOnnxModel(tiny.path, { providers: 'cpu' });
  slices = (await readImageFile('data/isbi2012/train-volume.tif')).pages.slice(0, 3) as GreyImage<Uint8Array>[];
  dir = mkdtempSync(join(tmpdir(), 'emseg-predict-'));
  // Quiet: the command prints its progress and summary on the real stdout/stderr.
  vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
  vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
});

afterAll(async () => {
  vi.restoreAllMocks();
  await model?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function predict(...args: string[]): Promise<{ code: number; stderr: string }> {
  let stderr = '';
  const code = await runCli(['predict', ...args, '--model', tiny.path, '--ep', 'cpu'], {
    stdout: () => {},
    stderr: (text) => {
      stderr += text;
    },
  });
  return { code, stderr };
}

async function pngGrey(path: string): Promise<Uint8Array> {
  const stack = await readImageFile(path);
  expect(stack.pages).toHaveLength(1);
  expect(stack.pages[0]!.data).toBeInstanceOf(Uint8Array);
  return stack.pages[0]!.data as Uint8Array;
}

const same = (a: ArrayLike<number>, b: ArrayLike<number>) => a.length === b.length && Array.prototype.every.call(a, (v: number, i: number) => v === b[i]);

describe('emseg predict', () => {
  it('writes the mask of a PNG slice, equal to a direct segmentImage run', async () => {
    const input = join(dir, 'slice.png');
    writeFileSync(input, await encodePng(slices[0]!));
    const before = readFileSync(input);
    const out = join(dir, 'slice-mask.png');
    expect((await predict(input, '-o', out)).code).toBe(0);
    const direct = await segmentImage(slices[0]!, model.predictor, { threshold: model.card.threshold });
    const written = await pngGrey(out);
    expect(same(written, direct.mask.data)).toBe(true);
    expect(written.some((v) => v === 255) && written.some((v) => v === 0)).toBe(true);
    expect(readFileSync(input).equals(before)).toBe(true);
  });

  it('writes a multi-page mask TIFF and a float32 probability TIFF for a stack', async () => {
    const input = join(dir, 'stack.tif');
    writeFileSync(input, encodeTiff({ width: 512, height: 512, pages: slices }));
    const outDir = join(dir, 'stack-out');
    expect((await predict(input, '-o', outDir)).code).toBe(0);
    expect((await predict(input, '-o', outDir, '--output', 'probability', '--threshold', '0.3')).code).toBe(0);
    const masks = decodeTiff(readFileSync(join(outDir, 'stack-mask.tif')), 'masks');
    const probabilities = decodeTiff(readFileSync(join(outDir, 'stack-probability.tif')), 'probabilities');
    expect(masks.pages).toHaveLength(3);
    expect(probabilities.pages).toHaveLength(3);
    for (const [k, slice] of slices.entries()) {
      const direct = await segmentImage(slice, model.predictor);
      expect(same(masks.pages[k]!.data, direct.mask.data)).toBe(true);
      expect(probabilities.pages[k]!.data).toBeInstanceOf(Float32Array);
      expect(same(probabilities.pages[k]!.data, direct.probability.data)).toBe(true);
    }
  });

  it('segments a folder of PNG, JPEG and TIFF files, and writes overlays', async () => {
    const folder = join(dir, 'folder');
    mkdirSync(folder);
    writeFileSync(join(folder, 'a.png'), await encodePng(slices[0]!));
    writeFileSync(join(folder, 'b.jpg'), await sharp(slices[1]!.data, { raw: { width: 512, height: 512, channels: 1 } }).jpeg().toBuffer());
    writeFileSync(join(folder, 'c.tif'), encodeTiff({ width: 512, height: 512, pages: [slices[2]!] }));
    writeFileSync(join(folder, 'notes.txt'), 'not an image');
    const out = join(dir, 'folder-out');
    const result = await predict(folder, '-o', out);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(readdirSync(out).sort()).toEqual(['a-mask.png', 'b-mask.png', 'c-mask.tif']);
    expect((await predict(folder, '-o', out, '--output', 'overlay')).code).toBe(0);
    const { data, info } = await sharp(readFileSync(join(out, 'a-overlay.png'))).raw().toBuffer({ resolveWithObject: true });
    expect([info.width, info.height, info.channels]).toEqual([512, 512, 3]);
    // As everywhere in emseg (core/overlay.ts MEMBRANE_OVERLAY): membranes (mask 0) red, cells grey.
    const mask = (await sharp(readFileSync(join(out, 'a-mask.png'))).extractChannel(0).raw().toBuffer()) as Buffer;
    let membranes = 0;
    for (let i = 0; i < mask.length; i++) {
      const [r, g, b] = [data[3 * i]!, data[3 * i + 1]!, data[3 * i + 2]!];
      if (mask[i] === 0) {
        membranes += 1;
        expect(r - g).toBeGreaterThan(90);
      } else {
        expect([g, b]).toEqual([r, r]);
      }
    }
    expect(membranes).toBeGreaterThan(0);
  });

  it('never overwrites an input', async () => {
    const input = join(dir, 'keep.tif');
    writeFileSync(input, encodeTiff({ width: 512, height: 512, pages: [slices[0]!] }));
    const before = readFileSync(input);
    const result = await predict(input, '-o', input);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^emseg: .*keep\.tif: is also an input .*refusing to overwrite/);
    // an output folder equal to the input folder, where an input already has the output's name
    const folder = join(dir, 'clash');
    mkdirSync(folder);
    writeFileSync(join(folder, 'x.png'), await encodePng(slices[0]!));
    writeFileSync(join(folder, 'x-mask.png'), await encodePng(slices[1]!));
    const clash = await predict(folder, '-o', folder);
    expect(clash.code).toBe(1);
    expect(clash.stderr).toContain('is also an input');
    expect(readFileSync(input).equals(before)).toBe(true);
  });

  it('answers bad input with one line and exit code 1', async () => {
    const text = join(dir, 'text.png');
    writeFileSync(text, 'hello, I am not a PNG');
    const plain = join(dir, 'plain-file');
    writeFileSync(plain, 'x');
    const stack = join(dir, 'stack2.tif');
    writeFileSync(stack, encodeTiff({ width: 512, height: 512, pages: slices.slice(0, 2) }));
    const cases: [string[], RegExp][] = [
      [[text, '-o', join(dir, 'o1.png')], /text\.png/],
      [[join(dir, 'missing.png'), '-o', join(dir, 'o2.png')], /missing\.png: no such file/],
      [[stack, '-o', join(dir, 'o3.png')], /2 pages, but a PNG holds one/],
      [[stack, '-o', join(dir, 'o4'), '--output', 'overlay'], /overlay is one RGB picture/],
      [[text, '-o', join(dir, 'o5.png'), '--threshold', '2'], /--threshold: expected a number in \[0, 1\], found "2"/],
      [[text, '-o', join(dir, 'o6.png'), '--output', 'edges'], /--output: expected one of mask, probability, overlay, labels, found "edges"/],
      [[text, '-o', join(dir, 'o10.png'), '--halo', ''], /--halo: expected an integer >= 0, found ""/], // blank used to mean 0
      [[text, '-o', join(dir, 'o11.png'), '--thresold', '0.3'], /predict: unknown option --thresold \(closest: --threshold; see emseg predict --help\)/],
      [[text, '-o', join(dir, 'o7.png'), '--format', 'tiff'], /--format tiff does not match the output file/],
      [[text, '-o', join(dir, 'o9.jpg')], /predict writes PNG or TIFF .*not \.jpg/],
      [[dir, '-o', text], /looks like a file, but the input is a folder/],
      [[dir, '-o', plain], /is a file, but the outputs go into a folder/],
      [[text, '-o', join(dir, 'o8.png'), '--tile', '30'], /tile: expected a positive multiple of 4, found 30/], // the tiny U-Net has depth 2
    ];
    for (const [args, pattern] of cases) {
      const result = await predict(...args);
      expect(result.code, args.join(' ')).toBe(1);
      expect(result.stderr, args.join(' ')).toMatch(pattern);
      expect(result.stderr.trim().split('\n').filter((line) => line.startsWith('emseg: ') && !line.includes('warning'))).toHaveLength(1);
    }
    expect(existsSync(join(dir, 'o1.png')) || existsSync(join(dir, 'o3.png'))).toBe(false);
  });

  it('keeps going through a folder with a broken file, then names it', async () => {
    const folder = join(dir, 'mixed');
    mkdirSync(folder);
    writeFileSync(join(folder, 'good.png'), await encodePng(slices[0]!));
    writeFileSync(join(folder, 'broken.tif'), encodeTiff({ width: 512, height: 512, pages: [slices[0]!] }).slice(0, 300));
    const out = join(dir, 'mixed-out');
    const result = await predict(folder, '-o', out);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^emseg: 1 of 2 inputs failed \(1 written\): .*broken\.tif/);
    expect(readdirSync(out)).toEqual(['good-mask.png']);
  });
});

describe('the progress line', () => {
  it('counts pages and files and fills the bar in proportion', () => {
    const line = predictProgressLine({ file: 'b.tif', fileIndex: 1, files: 2, pagesDone: 15, pages: 30, tilesDone: 0, tiles: 0 }, 20);
    expect(line).toBe(`[${'#'.repeat(15)}${'.'.repeat(5)}] 15/30 pages (file 2/2) b.tif`);
    expect(predictProgressLine({ file: 's.tif', fileIndex: 0, files: 1, pagesDone: 0, pages: 4, tilesDone: 1, tiles: 2 }, 8)).toBe('[#.......] 0/4 pages s.tif');
  });
});
