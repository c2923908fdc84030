/**
 * `emseg evaluate` on a lab's data: several models side by side on the same slices (one table,
 * one JSON entry per model, each the single-model document), a 10-slice stack (default: all
 * slices, said in one line), folders of image/label pairs (the same figures as the stack they
 * came from), --pixel-size (each model's card rescales; the figures of the rescaled inference),
 * --invert (an inverted stack scores as the original), and outputs that exist refused without
 * --force. Tiny random-weight U-Nets on 128x128 crops of ISBI slices keep it quick.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { segmentOptionsFromCard } from '../core/card-options.ts';
import { scoreProbabilities } from '../core/evaluation.ts';
import { makeImage, makeStack, type GreyImage } from '../core/image.ts';
import { segmentImage } from '../core/inference.ts';
import { ISBI_TRAIN_IMAGES, ISBI_TRAIN_LABELS } from '../core/isbi-data.ts';
import { encodeTiff } from '../core/tiff.ts';
import { readImageFile } from '../node/image-files.ts';
import { encodePng } from '../node/png.ts';
import { loadOnnxModel } from '../node/load-onnx-model.ts';
import { runCliCaptured as run } from './helpers/run-cli-captured.ts';
import { tinyUNetOnnx, type TinyUNetOnnx } from './helpers/tiny-unet-onnx.ts';

const root = mkdtempSync(join(tmpdir(), 'emseg-evaluate-compare-'));
const SIDE = 128;
let parent: TinyUNetOnnx;
let child: TinyUNetOnnx;
let crops: { images: GreyImage<Uint8Array>[]; labels: GreyImage<Uint8Array>[] };
const lab = { images: join(root, 'lab.tif'), labels: join(root, 'lab-labels.tif'), inverted: join(root, 'lab-inverted.tif') };
const folders = { images: join(root, 'images'), labels: join(root, 'labels') };

function cropOf(page: GreyImage, x0: number, y0: number): GreyImage<Uint8Array> {
  const out = new Uint8Array(SIDE * SIDE);
  for (let y = 0; y < SIDE; y++) for (let x = 0; x < SIDE; x++) out[y * SIDE + x] = page.data[(y0 + y) * page.width + x0 + x]!;
  return makeImage(SIDE, SIDE, out);
}

interface Row { variant: string; seconds: number; vRand: number; vInfo: number; vRandBest: number; pixelError: number; dice: number; iou: number; threshold: number }
interface Doc { model: string; rows: Row[]; slices: number[]; threshold: number; pixelSize?: { nm: number; from: string; scale: number }; invert?: boolean }

beforeAll(async () => {
  parent = await tinyUNetOnnx({ depth: 2, baseFilters: 4, seed: 3, name: 'parent', trainingPixelSize: 4 });
  child = await tinyUNetOnnx({ depth: 2, baseFilters: 4, seed: 4, name: 'child', trainingPixelSize: 4 });
  const [images, labels] = await Promise.all([readImageFile(ISBI_TRAIN_IMAGES), readImageFile(ISBI_TRAIN_LABELS)]);
  // "The lab's stack": 10 slices, 128x128, from ISBI slices 0-9.
  crops = { images: [], labels: [] };
  for (let s = 0; s < 10; s++) {
    crops.images.push(cropOf(images.pages[s]!, 200, 160));
    crops.labels.push(cropOf(labels.pages[s]!, 200, 160));
  }
  writeFileSync(lab.images, encodeTiff(makeStack(crops.images)));
  writeFileSync(lab.labels, encodeTiff(makeStack(crops.labels)));
  writeFileSync(lab.inverted, encodeTiff(makeStack(crops.images.map((image) => makeImage(SIDE, SIDE, image.data.map((v) => 255 - v))))));
  // The same lab as folders of PNG pairs, slices 0-2 (names sort s0, s1, s2).
  mkdirSync(folders.images);
  mkdirSync(folders.labels);
  for (let s = 0; s < 3; s++) {
    writeFileSync(join(folders.images, `s${s}.png`), await encodePng(crops.images[s]!));
    writeFileSync(join(folders.labels, `s${s}.png`), await encodePng(crops.labels[s]!));
  }
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const readDoc = <T>(path: string) => JSON.parse(readFileSync(path, 'utf8')) as T;
/** The rows without their timing, which differs run to run. */
const figures = (rows: readonly Row[]) => rows.map(({ seconds: _seconds, ...figures }) => figures);

describe('emseg evaluate on a lab stack', () => {
  it('scores several models side by side on the same slices; each JSON entry is that model evaluated alone', async () => {
    const both = join(root, 'both.json');
    const result = await run(['evaluate', parent.path, child.path, '--images', lab.images, '--labels', lab.labels, '--slices', '2-4', '--ep', 'cpu', '--json', both]);
    expect(result.stderr).not.toMatch(/emseg: /);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^slices 2-4, the models side by side:\nfigure +parent +child\nV_rand best \(thr\) +\d\.\d{4} \(\d\.\d\) +\d\.\d{4} \(\d\.\d\)\n/);
    for (const figure of ['V_info best (thr)', 'thr', 'V_rand', 'V_info', 'pixel error', 'Dice (cell interior)', 'IoU (cell interior)']) expect(result.stdout).toMatch(new RegExp(`\\n${figure.replace(/[()]/g, '\\$&')} +[\\d.]+`));
    const doc = readDoc<{ models: Doc[]; slices: number[]; command: string }>(both);
    expect(doc.slices).toEqual([2, 3, 4]);
    expect(doc.models.map((m) => m.model)).toEqual([parent.path, child.path]);
    expect(doc.command).toBe(`emseg evaluate ${parent.path} ${child.path} --images ${lab.images} --labels ${lab.labels} --slices 2-4 --ep cpu --json ${both}`);
    for (const model of [parent, child]) {
      const alone = join(root, `${model.card.name}-alone.json`);
      expect((await run(['evaluate', model.path, '--images', lab.images, '--labels', lab.labels, '--slices', '2-4', '--ep', 'cpu', '--json', alone])).code).toBe(0);
      const single = readDoc<Doc>(alone);
      const entry = doc.models.find((m) => m.model === model.path)!;
      expect(figures(entry.rows)).toEqual(figures(single.rows));
      expect(Object.keys(entry)).toEqual(Object.keys(single));
    }
    // Two different models: the columns differ.
    expect(doc.models[0]!.rows[0]!.vRand).not.toBe(doc.models[1]!.rows[0]!.vRand);
    // With TTA each model has two columns.
    const tta = await run(['evaluate', parent.path, child.path, '--images', lab.images, '--labels', lab.labels, '--slices', '0', '--tta', '--ep', 'cpu']);
    expect(tta.stdout).toMatch(/\nfigure +parent plain +parent TTA x8 +child plain +child TTA x8\n/);
  });

  it('defaults to all slices of a stack that is not ISBI, and says so', async () => {
    const json = join(root, 'default.json');
    const result = await run(['evaluate', parent.path, '--images', lab.images, '--labels', lab.labels, '--ep', 'cpu', '--json', json]);
    expect(result.code).toBe(0);
    expect(result.stderr).toContain(`slices 0-9: --slices not given, all 10 slices of ${lab.images} (25-29 is the default on the ISBI training stack only)\n`);
    expect(readDoc<Doc>(json).slices).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const select = await run(['evaluate', parent.path, '--images', lab.images, '--labels', lab.labels, '--select-slices', '0-1', '--ep', 'cpu']);
    expect(select.code).toBe(0);
    expect(select.stderr).toContain(`slices 2-9: --slices not given, all 10 slices of ${lab.images} without the --select-slices`);
  });

  it('reads folders of image/label pairs like emseg train, with the figures of the stack they came from', async () => {
    const [fromFolders, fromStack] = [join(root, 'folders.json'), join(root, 'stack.json')];
    const a = await run(['evaluate', parent.path, '--images', folders.images, '--labels', folders.labels, '--ep', 'cpu', '--json', fromFolders]);
    expect(a.stderr).not.toMatch(/emseg: /);
    const b = await run(['evaluate', parent.path, '--images', lab.images, '--labels', lab.labels, '--slices', '0-2', '--ep', 'cpu', '--json', fromStack]);
    expect([a.code, b.code]).toEqual([0, 0]);
    expect(readDoc<Doc>(fromFolders).slices).toEqual([0, 1, 2]);
    expect(figures(readDoc<Doc>(fromFolders).rows)).toEqual(figures(readDoc<Doc>(fromStack).rows));
  });

  it('--pixel-size rescales the images to the card\'s training pixel size, as segmentImage does', async () => {
    const json = join(root, 'pixel.json');
    const result = await run(['evaluate', parent.path, '--images', lab.images, '--labels', lab.labels, '--slices', '5', '--pixel-size', '8', '--ep', 'cpu', '--json', json]);
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('pixel size 8 nm (from --pixel-size): rescaled x2 to the model\'s 4 nm\n');
    const doc = readDoc<Doc>(json);
    expect(doc.pixelSize).toEqual({ nm: 8, from: 'option', scale: 2 });
    const model = await loadOnnxModel(parent.path, { providers: 'cpu' });
    try {
      const { probability } = await segmentImage(crops.images[5]!, model.predictor, segmentOptionsFromCard(model.card, { pixelSize: 8 }));
      const direct = scoreProbabilities([{ image: crops.images[5]!, label: crops.labels[5]! }], [probability.data], parent.card.threshold);
      for (const key of ['vRand', 'vInfo', 'pixelError', 'dice', 'iou'] as const) expect(doc.rows[0]![key], key).toBeCloseTo(direct[key], 10);
      const { probability: plain } = await segmentImage(crops.images[5]!, model.predictor, segmentOptionsFromCard(model.card));
      expect(plain.data).not.toEqual(probability.data);
    } finally {
      await model.close();
    }
  });

  it('--invert on the inverted stack gives the figures of the original', async () => {
    const [original, inverted] = [join(root, 'original.json'), join(root, 'inverted.json')];
    expect((await run(['evaluate', child.path, '--images', lab.images, '--labels', lab.labels, '--slices', '6-7', '--ep', 'cpu', '--json', original])).code).toBe(0);
    const result = await run(['evaluate', child.path, '--images', lab.inverted, '--labels', lab.labels, '--slices', '6-7', '--invert', '--ep', 'cpu', '--json', inverted]);
    expect(result.code).toBe(0);
    expect(result.stderr).not.toMatch(/warning/);
    const [a, b] = [readDoc<Doc>(original).rows[0]!, readDoc<Doc>(inverted).rows[0]!];
    for (const key of ['vRand', 'vInfo', 'pixelError', 'dice', 'iou'] as const) expect(b[key], key).toBeCloseTo(a[key], 6);
    expect(readDoc<Doc>(inverted).invert).toBe(true);
  });

  it('refuses an existing output without --force, and what needs one model with several', async () => {
    const json = join(root, 'card-like.json');
    writeFileSync(json, '{"a model card": "written by emseg convert"}\n');
    const refused = await run(['evaluate', parent.path, '--images', lab.images, '--labels', lab.labels, '--slices', '0', '--ep', 'cpu', '--json', json]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toBe(`emseg: --json ${json}: exists already; pass --force to replace it, or choose another path\n`);
    expect(readFileSync(json, 'utf8')).toBe('{"a model card": "written by emseg convert"}\n');
    const forced = await run(['evaluate', parent.path, '--images', lab.images, '--labels', lab.labels, '--slices', '0', '--ep', 'cpu', '--json', json, '--force']);
    expect(forced.code).toBe(0);
    expect(readDoc<Doc>(json).slices).toEqual([0]);

    const report = join(root, 'two.report.md');
    const two = await run(['evaluate', parent.path, child.path, '--images', lab.images, '--labels', lab.labels, '--report', report]);
    expect(two.code).toBe(1);
    expect(two.stderr).toBe('emseg: --report: for one model at a time (2 models given); compare them without it, then report each on its own\n');
    expect(existsSync(report)).toBe(false);
  });
});
