/**
 * `emseg evaluate` on a tiny U-Net (random weights), as ONNX and as a tfjs folder: the table,
 * the JSON (values in range, both variants with --tta), the same figures from both formats, the
 * report with its montages and curve, and clear errors.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCliCaptured } from './helpers/run-cli-captured.ts';
import { segmentOptionsFromCard } from '../core/card-options.ts';
import { scoreProbabilities } from '../core/evaluation.ts';
import { segmentImage } from '../core/inference.ts';
import { ISBI_TRAIN_IMAGES, ISBI_TRAIN_LABELS } from '../core/isbi-data.ts';
import { readImageFile } from '../node/image-files.ts';
import { loadOnnxModel } from '../node/load-onnx-model.ts';
import { saveTfjsModelDir } from '../convert/tfjs-model-dir.ts';
import { tinyUNetOnnx, type TinyUNetOnnx } from './helpers/tiny-unet-onnx.ts';

const root = mkdtempSync(join(tmpdir(), 'emseg-evaluate-'));
let tiny: TinyUNetOnnx;
let tfjsDir: string;

beforeAll(async () => {
  tiny = await tinyUNetOnnx({ depth: 2, baseFilters: 4, seed: 3 });
  // A tfjs run folder around the same weights: run/model plus the run's config and log.
  tfjsDir = join(root, 'run', 'model');
  mkdirSync(tfjsDir, { recursive: true });
  await saveTfjsModelDir(tf, tiny.model, tfjsDir);
  writeFileSync(
    join(root, 'run', 'config.json'),
    JSON.stringify({
      command: 'emseg train --depth 2 --filters 4 --steps 20',
      invocations: [{ command: 'emseg train --depth 2 --filters 4 --steps 20', fromStep: 0, toStep: 20, status: 'completed' }],
      status: 'completed', stepsDone: 20, cropsSeen: 80, wallTimeSeconds: 42, backend: 'wasm',
      split: { train: '0-24', validation: '25' },
      best: { step: 10, vRand: 0.6, threshold: 0.4 },
      config: { steps: 20, batchSize: 4, cropSize: 64, model: { depth: 2, baseFilters: 4, batchNorm: false, dropout: 0 } },
    }),
  );
  writeFileSync(
    join(root, 'run', 'train.log.jsonl'),
    [
      { type: 'train', step: 10, crops: 40, loss: 1.2, lr: 1e-3, cropsPerSecond: 3, elapsedSeconds: 20 },
      { type: 'validation', step: 10, crops: 40, vRand: 0.6, vInfo: 0.6, threshold: 0.4, pixelError: 0.3, dice: 0.7, iou: 0.5, atThreshold: 0.5, vRandAtThreshold: 0.5, vInfoAtThreshold: 0.6, seconds: 1, elapsedSeconds: 21 },
      { type: 'train', step: 20, crops: 80, loss: 0.9, lr: 1e-5, cropsPerSecond: 3, elapsedSeconds: 40 },
      { type: 'validation', step: 20, crops: 80, vRand: 0.5, vInfo: 0.6, threshold: 0.5, pixelError: 0.3, dice: 0.7, iou: 0.5, atThreshold: 0.5, vRandAtThreshold: 0.5, vInfoAtThreshold: 0.6, seconds: 1, elapsedSeconds: 41 },
    ].map((l) => JSON.stringify(l)).join('\n'),
  );
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const run = runCliCaptured;

interface Row { variant: string; vRandBest: number; vInfoBest: number; vRand: number; vInfo: number; pixelError: number; dice: number; iou: number; bestThreshold: number; threshold: number }

describe('emseg evaluate', () => {
  it('prints the table and writes JSON for an ONNX model, with and without TTA', async () => {
    const json = join(root, 'onnx.json');
    const { code, stdout, stderr } = await run(['evaluate', tiny.path, '--slices', '25', '--tta', '--ep', 'cpu', '--json', json]);
    expect(stderr).not.toMatch(/emseg: /);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^variant\s+V_rand best \(thr\)\s+V_info best \(thr\)\s+thr\s+V_rand\s+V_info\s+pixel error\s+Dice \(cell interior\)\s+IoU \(cell interior\)\n/);
    expect(stdout).toMatch(/\nplain\s+\d\.\d{4} \(\d\.\d\)/);
    expect(stdout).toMatch(/\nTTA x8\s+\d\.\d{4}/);
    const doc = JSON.parse(readFileSync(json, 'utf8')) as { rows: Row[]; slices: number[]; threshold: number; sha256: string; command: string };
    expect(doc.slices).toEqual([25]);
    expect(doc.threshold).toBe(tiny.card.threshold);
    expect(doc.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(doc.command).toBe(`emseg evaluate ${tiny.path} --slices 25 --tta --ep cpu --json ${json}`);
    expect(doc.rows.map((r) => r.variant)).toEqual(['plain', 'tta']);
    for (const row of doc.rows) {
      for (const key of ['vRandBest', 'vInfoBest', 'vRand', 'vInfo', 'pixelError', 'dice', 'iou'] as const) {
        expect(row[key], key).toBeGreaterThanOrEqual(0);
        expect(row[key], key).toBeLessThanOrEqual(1);
      }
      expect(row.vRandBest).toBeGreaterThanOrEqual(row.vRand);
    }
    // The plain row is exactly what the inference core and the scorer give for that slice.
    const model = await loadOnnxModel(tiny.path, { providers: 'cpu' });
    try {
      const [images, labels] = await Promise.all([readImageFile(ISBI_TRAIN_IMAGES), readImageFile(ISBI_TRAIN_LABELS)]);
      const { probability } = await segmentImage(images.pages[25]!, model.predictor, segmentOptionsFromCard(model.card));
      const direct = scoreProbabilities([{ image: images.pages[25]!, label: labels.pages[25]! }], [probability.data], tiny.card.threshold);
      const plain = doc.rows[0]!;
      for (const key of ['vRandBest', 'vInfoBest', 'bestThreshold', 'vRand', 'vInfo', 'pixelError', 'dice', 'iou'] as const) expect(plain[key], key).toBeCloseTo(direct[key], 10);
    } finally {
      await model.close();
    }
  });

  it('gives the same figures for the tfjs folder of the same weights, and writes the full report', async () => {
    const onnxJson = join(root, 'onnx-plain.json');
    expect((await run(['evaluate', tiny.path, '--slices', '25', '--providers', 'cpu', '--json', onnxJson])).code).toBe(0);
    const report = join(root, 'report', 'tiny.report.md');
    const json = join(root, 'tfjs.json');
    const result = await run(['evaluate', tfjsDir, '--backend', 'wasm', '--slices', '25', '--json', json, '--report', report, '--test-slices', '3', '--shrink', '4']);
    expect(result.stderr).not.toMatch(/emseg: /);
    expect(result.code).toBe(0);
    const a = (JSON.parse(readFileSync(onnxJson, 'utf8')) as { rows: Row[] }).rows[0]!;
    const b = (JSON.parse(readFileSync(json, 'utf8')) as { rows: Row[] }).rows[0]!;
    for (const key of ['vRandBest', 'vRand', 'pixelError', 'dice', 'iou'] as const) expect(b[key], key).toBeCloseTo(a[key], 3);

    for (const file of ['tiny.report.md', 'tiny.report.validation.png', 'tiny.report.test.png', 'tiny.report.curve.svg']) {
      expect(existsSync(join(root, 'report', file)), file).toBe(true);
    }
    const md = readFileSync(report, 'utf8');
    expect(md).toContain('| variant | V_rand best (thr) |');
    expect(md).toContain('![validation montage](tiny.report.validation.png)');
    expect(md).toContain('![test montage](tiny.report.test.png)');
    expect(md).toContain('![training curve](tiny.report.curve.svg)');
    expect(md).toContain('| crops seen | 80 |');
    // The evaluated slice is the run's validation split, which chose the checkpoint: the report says so.
    expect(md).toContain("Slices 25 are the training run's validation slices: they chose the checkpoint kept (step 10)");
    expect(md).toContain('the model of the last step (20) scored V_rand 0.5000 on them during training');
    expect(md).toContain('# train (steps 0-20, completed)\nemseg train --depth 2 --filters 4 --steps 20');
    expect(md).toMatch(/# evaluate \(this report\)\nemseg evaluate .*--report/);
    // PNG signature
    expect([...readFileSync(join(root, 'report', 'tiny.report.validation.png')).subarray(1, 4)]).toEqual([0x50, 0x4e, 0x47]);
  });

  it('reports bad arguments as one line', async () => {
    const missing = await run(['evaluate', join(root, 'nope.onnx')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^emseg: <model> .*nope\.onnx: no such file or folder\n$/);
    const threshold = await run(['evaluate', tiny.path, '--threshold', '1.5']);
    expect(threshold.code).toBe(1);
    expect(threshold.stderr).toMatch(/--threshold: expected a number in \[0, 1\], found "1.5"/);
    const slices = await run(['evaluate', tiny.path, '--slices', '25-40']);
    expect(slices.stderr).toMatch(/--slices: slice 40 is out of range/);
    const onto = await run(['evaluate', tiny.path, '--slices', '25', '--json', 'data/isbi2012/train-labels.tif']);
    expect(onto.stderr).toMatch(/is also an input/);
  });
});
