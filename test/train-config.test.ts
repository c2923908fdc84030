/** train/config.ts: defaults, budget in crops, and one clear error per bad option. */
import { describe, expect, it } from 'vitest';
import { EmsegError } from '../core/errors.ts';
import { formatSliceList } from '../core/slice-list.ts';
import { reproducibilityKey, resolveTrainConfig, TRAIN_DEFAULTS } from '../train/config.ts';

describe('resolveTrainConfig', () => {
  it('fills in the documented defaults', () => {
    const c = resolveTrainConfig();
    expect(c.trainSlices).toEqual(Array.from({ length: 25 }, (_, i) => i));
    expect(c.validationSlices).toEqual([25, 26, 27, 28, 29]);
    expect([c.cropSize, c.batchSize, c.steps, c.maxMinutes]).toEqual([256, 4, 2500, null]);
    expect(c.model).toMatchObject({ depth: 4, baseFilters: 16, seed: 42 });
    expect(c.images).toBe('data/isbi2012/train-volume.tif');
    expect(c).toEqual(TRAIN_DEFAULTS);
  });

  it('turns a crops budget into steps and follows the seed in the model', () => {
    const c = resolveTrainConfig({ crops: 10001, batchSize: 4, seed: 7 });
    expect(c.steps).toBe(2501);
    expect(c.model.seed).toBe(7);
  });

  const bad: Array<[string, Parameters<typeof resolveTrainConfig>[0], RegExp]> = [
    ['crop size not a multiple of 2^depth', { cropSize: 100 }, /cropSize \(--crop-size\): expected a multiple of 16.*found 100/],
    ['crop size for depth 2', { cropSize: 30, model: { depth: 2 } }, /multiple of 4.*found 30/],
    ['zero batch', { batchSize: 0 }, /batchSize \(--batch-size\): expected an integer from 1 to 256, found 0/],
    ['fractional steps', { steps: 2.5 }, /steps \(--steps\): expected an integer >= 1, found 2.5/],
    ['steps and crops', { steps: 10, crops: 40 }, /either a steps or a crops budget/],
    ['negative minutes', { maxMinutes: -1 }, /maxMinutes \(--max-minutes\).*found -1/],
    ['NaN learning rate', { learningRate: Number.NaN }, /learningRate \(--learning-rate\).*found NaN/],
    ['warm-up beyond budget', { steps: 10, warmupSteps: 11 }, /warmupSteps.*from 0 to 10, found 11/],
    ['overlapping split', { trainSlices: [0, 1, 2], validationSlices: [2, 3] }, /validationSlices \(--validation-slices\): expected slices disjoint.*"2 in both"/],
    ['empty split', { validationSlices: [] }, /validationSlices.*non-empty list/],
    ['unknown backend', { backend: 'tpu' as never }, /backend \(--backend\): expected one of auto, gpu, native, wasm, cpu, found "tpu"/],
    ['unknown schedule', { schedule: 'step' as never }, /schedule \(--schedule\): expected one of cosine, constant/],
    ['both loss weights zero', { loss: { bce: 0, dice: 0 } }, /non-zero weight/],
    ['negative w0', { borderWeights: { w0: -1 } }, /borderWeights.w0 \(--border-w0\).*found -1/],
    ['depth out of range', { model: { depth: 9 } }, /model.depth \(--depth\): expected an integer from 1 to 6, found 9/],
    ['dropout 1', { model: { dropout: 1 } }, /model.dropout \(--dropout\).*found 1/],
    ['zero validation cadence', { validateEvery: 0 }, /validateEvery \(--validate-every\)/],
    ['empty output', { outDir: '' }, /outDir \(--out\): expected a non-empty path/],
  ];
  for (const [what, input, message] of bad) {
    it(`rejects ${what}`, () => {
      let error: unknown;
      try {
        resolveTrainConfig(input);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(EmsegError);
      expect((error as EmsegError).code).toBe('E_BAD_ARGUMENT');
      expect((error as Error).message).toMatch(message);
    });
  }

  it('keys reproducibility on data, schedule and model, not on cadence or backend', () => {
    const a = resolveTrainConfig();
    expect(reproducibilityKey(resolveTrainConfig({ backend: 'cpu', validateEvery: 7, maxMinutes: 3, outDir: 'x' }))).toBe(reproducibilityKey(a));
    expect(reproducibilityKey(resolveTrainConfig({ seed: 1 }))).not.toBe(reproducibilityKey(a));
    expect(reproducibilityKey(resolveTrainConfig({ steps: 10 }))).not.toBe(reproducibilityKey(a));
  });
});

describe('formatSliceList', () => {
  it('writes sorted indices back compactly', () => {
    expect(formatSliceList([0, 1, 2, 3, 10, 12, 13])).toBe('0-3,10,12-13');
    expect(formatSliceList([25, 26, 27, 28, 29])).toBe('25-29');
  });
});
