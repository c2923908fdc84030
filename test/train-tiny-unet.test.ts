/**
 * The real loop on real ISBI crops with a tiny U-Net (depth 2, 4 filters, 64-pixel crops) on the
 * wasm backend in one thread: the loss goes down; a run interrupted at step k and resumed gives
 * the same losses and the same final weights and Adam moments as an uninterrupted run; the output
 * folder is complete (tfjs models, config, log, curve, checkpoints).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadCheckpoint } from '../train/checkpoint.ts';
import { resolveTrainConfig, type TrainConfigInput } from '../train/config.ts';
import type { EngineState } from '../train/engine.ts';
import { readLog, type TrainLogLine, type ValidationLogLine } from '../train/log.ts';
import { trainModel } from '../train/loop.ts';

const root = mkdtempSync(join(tmpdir(), 'emseg-tiny-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const tiny: TrainConfigInput = {
  model: { depth: 2, baseFilters: 4 },
  cropSize: 64,
  batchSize: 2,
  validationSlices: [25],
  backend: 'wasm',
  workers: 1,
  warmupSteps: 0,
};

const trainLines = (dir: string) => readLog(join(dir, 'train.log.jsonl')).filter((l): l is TrainLogLine => l.type === 'train');

describe('training a tiny U-Net on ISBI crops', () => {
  it('lowers the loss and leaves a complete output folder', async () => {
    const outDir = join(root, 'learn');
    const config = resolveTrainConfig({ ...tiny, steps: 40, learningRate: 1e-2, logEvery: 10, validateEvery: 40, checkpointEvery: 20, outDir, augment: false });
    const result = await trainModel(config, { command: 'emseg train (test)' });
    expect(result.status).toBe('completed');
    expect(result.cropsSeen).toBe(80);
    const losses = trainLines(outDir).map((l) => l.loss);
    expect(losses).toHaveLength(4);
    // mean loss of the last 10 steps clearly below that of the first 10
    expect(losses[3]!).toBeLessThan(losses[0]! * 0.9);
    const validation = readLog(join(outDir, 'train.log.jsonl')).filter((l): l is ValidationLogLine => l.type === 'validation');
    expect(validation).toHaveLength(1);
    for (const key of ['vRandBest', 'vInfoBest', 'vRand', 'vInfo', 'pixelError', 'dice', 'iou'] as const) {
      expect(validation[0]![key]).toBeGreaterThanOrEqual(0);
      expect(validation[0]![key]).toBeLessThanOrEqual(1);
    }
    // The best over the sweep includes the validation threshold itself: never below the value there.
    expect(validation[0]!.threshold).toBe(0.5);
    expect(validation[0]!.vRandBest).toBeGreaterThanOrEqual(validation[0]!.vRand);
    expect(validation[0]!.vInfoBest).toBeGreaterThanOrEqual(validation[0]!.vInfo);
    for (const file of ['model/model.json', 'model/weights.bin', 'last-model/model.json', 'config.json', 'curve.svg', 'checkpoints/latest/checkpoint.json', 'checkpoints/best/tensors.bin']) {
      expect(existsSync(join(outDir, file)), file).toBe(true);
    }
    const modelJson = JSON.parse(readFileSync(join(outDir, 'model', 'model.json'), 'utf8'));
    expect(modelJson.format).toBe('layers-model');
    const saved = JSON.parse(readFileSync(join(outDir, 'config.json'), 'utf8'));
    expect(saved).toMatchObject({ command: 'emseg train (test)', status: 'completed', stepsDone: 40, cropsSeen: 80, backend: 'wasm' });
  });

  it('resumes from an interrupted run to exactly the uninterrupted result', async () => {
    const common = { ...tiny, steps: 8, learningRate: 3e-3, logEvery: 2, validateEvery: 4, checkpointEvery: 3 };
    const refDir = join(root, 'reference');
    await trainModel(resolveTrainConfig({ ...common, outDir: refDir }));

    const outDir = join(root, 'interrupted');
    const controller = new AbortController();
    const first = await trainModel(resolveTrainConfig({ ...common, outDir }), {
      signal: controller.signal,
      onEvent: (event) => {
        if (event.type === 'step' && event.step === 5) controller.abort();
      },
    });
    expect(first.status).toBe('interrupted');
    expect(loadCheckpoint(outDir, 'latest').loop.step).toBe(5);
    const second = await trainModel(resolveTrainConfig({ ...common, outDir, resume: true }));
    expect(second.status).toBe('completed');

    expect(trainLines(outDir).map((l) => l.loss)).toEqual(trainLines(refDir).map((l) => l.loss));
    const a = loadCheckpoint(outDir, 'latest').engineState as EngineState;
    const b = loadCheckpoint(refDir, 'latest').engineState as EngineState;
    expect(a.meta).toEqual(b.meta);
    expect(a.buffers.length).toBe(b.buffers.length);
    a.buffers.forEach((buffer, i) => expect(Buffer.from(buffer.buffer, buffer.byteOffset, buffer.byteLength).equals(Buffer.from(b.buffers[i]!.buffer, b.buffers[i]!.byteOffset, b.buffers[i]!.byteLength)), a.meta.buffers[i]!.name).toBe(true));
    expect(readFileSync(join(outDir, 'last-model', 'weights.bin')).equals(readFileSync(join(refDir, 'last-model', 'weights.bin')))).toBe(true);
  });
});
