/**
 * Fine-tuning you can judge: with `--init`, the loop validates the parent at step 0 (before any
 * step), logs it as `parent: true` and reports it like any validation; the parent takes part in the
 * selection rule, so it stays the kept model only when every fine-tuned validation falls short of
 * it by the margin on both scores. Deterministic stand-ins for the engine and the scorer.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { summaryText } from '../cli/commands/train.ts';
import type { TrainBatch } from '../train/batch.ts';
import { resolveTrainConfig, type TrainConfigInput } from '../train/config.ts';
import { readLog, type ValidationLogLine } from '../train/log.ts';
import type { LoopRng, TrainingParts } from '../train/loop-parts.ts';
import { trainModel, type TrainEvent } from '../train/loop.ts';

const root = mkdtempSync(join(tmpdir(), 'emseg-init-validation-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A "model" whose weight is the number of steps trained; validations score from `scores` in order (V_rand, V_info). */
function parts(scores: Array<[number, number]>): TrainingParts {
  let weight = 0;
  let validations = 0;
  const rng: LoopRng = { getState: () => ({}), setState: () => undefined };
  return {
    engine: {
      backend: 'fake',
      step: () => ((weight += 1), { loss: 1 / weight }),
      predict: (images: Float32Array) => images,
      saveState: () => ({ weight }),
      loadState: (state: unknown) => {
        weight = (state as { weight: number }).weight;
      },
      saveLayersModel: async (dir: string) => {
        const { mkdirSync, writeFileSync } = await import('node:fs');
        mkdirSync(dir, { recursive: true });
        writeFileSync(join(dir, 'model.json'), JSON.stringify({ weight }));
      },
      dispose: () => undefined,
    },
    dataset: { sampleBatch: () => ({ images: new Float32Array(4), labels: new Float32Array(4), n: 1, height: 1, width: 4 }) as unknown as TrainBatch },
    createRng: () => rng,
    async scoreValidation() {
      const [vRand, vInfo] = scores[validations++]!;
      return { vRandBest: vRand, vInfoBest: vInfo, bestThreshold: 0.5, threshold: 0.5, vRand, vInfo, pixelError: 1 - vRand, dice: vRand, iou: vRand / 2 };
    },
    dispose: () => undefined,
  };
}

const base: TrainConfigInput = { steps: 6, batchSize: 1, cropSize: 32, model: { depth: 2, baseFilters: 4 }, warmupSteps: 1, logEvery: 2, validateEvery: 3, checkpointEvery: 3, init: 'parent.onnx' };

const validationsOf = (outDir: string) => readLog(join(outDir, 'train.log.jsonl')).filter((l): l is ValidationLogLine => l.type === 'validation');
const keptWeight = (outDir: string) => (JSON.parse(readFileSync(join(outDir, 'model', 'model.json'), 'utf8')) as { weight: number }).weight;

describe('emseg train --init: the parent at step 0', () => {
  it('validates the parent before the first step, logs it as the parent and reports it', async () => {
    const outDir = join(root, 'logged');
    const events: TrainEvent[] = [];
    const result = await trainModel(resolveTrainConfig({ ...base, outDir }), { parts: parts([[0.8, 0.9], [0.85, 0.92], [0.86, 0.93]]), onEvent: (e) => events.push(e) });
    const lines = validationsOf(outDir);
    expect(lines.map((l) => [l.step, l.crops, l.parent ?? false])).toEqual([[0, 0, true], [3, 3, false], [6, 6, false]]);
    expect(lines[0]!.vRand).toBe(0.8);
    const firstValidation = events.findIndex((e) => e.type === 'validation');
    const firstStep = events.findIndex((e) => e.type === 'step');
    expect(firstValidation).toBeGreaterThanOrEqual(0);
    expect(firstValidation).toBeLessThan(firstStep);
    // Fine-tuning helped: the last validation is kept, as without a parent.
    expect(result.best?.step).toBe(6);
    expect(keptWeight(outDir)).toBe(6);
    expect(summaryText(result)).not.toMatch(/the --init model itself/);
  });

  it('keeps the parent when every fine-tuned validation is worse by the margin on both scores', async () => {
    const outDir = join(root, 'worse');
    const result = await trainModel(resolveTrainConfig({ ...base, outDir }), { parts: parts([[0.9, 0.95], [0.85, 0.93], [0.88, 0.94]]) });
    expect(result.best?.step).toBe(0);
    expect(result.best?.parent).toBe(true);
    // model/ holds the parent's weights (no step trained), last-model/ the fine-tuned ones.
    expect(keptWeight(outDir)).toBe(0);
    expect((JSON.parse(readFileSync(join(outDir, 'last-model', 'model.json'), 'utf8')) as { weight: number }).weight).toBe(6);
    expect(summaryText(result)).toMatch(/kept \(step 0, the --init model itself: every fine-tuned validation fell short of it by at least the selection margin/);
    const config = JSON.parse(readFileSync(join(outDir, 'config.json'), 'utf8')) as { best: { step: number; parent: boolean } };
    expect(config.best).toMatchObject({ step: 0, parent: true });
  });

  it('lets a fine-tuned validation within the margin replace the parent', async () => {
    const outDir = join(root, 'within');
    // 0.897 is 0.003 under the parent's 0.9: inside the 0.005 margin, so the later model is kept.
    const result = await trainModel(resolveTrainConfig({ ...base, outDir }), { parts: parts([[0.9, 0.95], [0.85, 0.9], [0.897, 0.947]]) });
    expect(result.best?.step).toBe(6);
  });

  it('validates no parent without --init, and once only across a resume', async () => {
    const plain = join(root, 'plain');
    await trainModel(resolveTrainConfig({ ...base, init: null, outDir: plain }), { parts: parts([[0.8, 0.9], [0.85, 0.92]]) });
    expect(validationsOf(plain).map((l) => l.step)).toEqual([3, 6]);

    const outDir = join(root, 'resumed');
    const controller = new AbortController();
    await trainModel(resolveTrainConfig({ ...base, outDir }), {
      parts: parts([[0.8, 0.9], [0.85, 0.92]]),
      signal: controller.signal,
      onEvent: (e) => e.type === 'step' && e.step === 4 && controller.abort(),
    });
    // The first invocation checkpointed at step 3 (after its validation) and 4 (the abort).
    await trainModel(resolveTrainConfig({ ...base, outDir, resume: true }), { parts: parts([[0.86, 0.93]]) });
    expect(validationsOf(outDir).map((l) => [l.step, l.parent ?? false])).toEqual([[0, true], [3, false], [6, false]]);
  });
});
