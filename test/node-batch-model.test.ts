/**
 * The large-image path's model (node/batch-model.ts): on the CPU provider the plan's sessions side
 * by side, one thread each on two cores and one tile per call, giving the outputs of one
 * in-process session; the plan without the server's wide session.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_TILING } from '../core/tiling.ts';
import { loadBatchModel, BATCH_TILES_PER_CALL } from '../node/batch-model.ts';
import { inferenceCores } from '../node/inference-cores.ts';
import { BATCH_INFERENCE, inferencePlan } from '../node/inference-plan.ts';
import { loadOnnxModel } from '../node/load-onnx-model.ts';
import { tinyUNetOnnx } from './helpers/tiny-unet-onnx.ts';

describe('inferencePlan(BATCH_INFERENCE)', () => {
  it('runs two sessions on a CPU sharing its cores, one default session on a GPU, never a wide session', () => {
    expect(inferencePlan('cpu', BATCH_INFERENCE, 2)).toEqual({ workers: 2, intraOpThreads: 1, wideThreads: 0 });
    expect(inferencePlan('cpu', BATCH_INFERENCE, 16)).toEqual({ workers: 2, intraOpThreads: 8, wideThreads: 0 });
    expect(inferencePlan('cpu', BATCH_INFERENCE, 1)).toEqual({ workers: 1, intraOpThreads: 1, wideThreads: 0 });
    expect(inferencePlan('cuda', BATCH_INFERENCE, 16)).toEqual({ workers: 1, intraOpThreads: 0, wideThreads: 0 });
  });
});

describe('loadBatchModel', () => {
  it('loads the plan on the CPU provider and predicts what one in-process session predicts, calls at the same time included', async () => {
    const { path } = await tinyUNetOnnx({ depth: 2, baseFilters: 4 });
    const model = await loadBatchModel(path, { providers: 'cpu' });
    const direct = await loadOnnxModel(path, { providers: 'cpu' });
    try {
      const plan = inferencePlan('cpu', BATCH_INFERENCE, inferenceCores());
      expect(model.provider).toBe('cpu');
      expect(model.sessions).toBe(plan.workers);
      expect(model.intraOpThreads).toBe(plan.intraOpThreads);
      expect(model.tileBatch).toBe(plan.workers > 1 && plan.intraOpThreads === 1 ? BATCH_TILES_PER_CALL : DEFAULT_TILING.tileBatch);
      expect(model.card).toEqual(direct.card);
      const inputs = [0, 1, 2].map((k) => Float32Array.from({ length: 64 * 64 }, (_, i) => Math.sin((i + 31 * k) / 53) * 2));
      const expected = await Promise.all(inputs.map((input) => direct.predictor(input, 1, 64, 64)));
      const actual = await Promise.all(inputs.map((input) => model.predictor(input, 1, 64, 64)));
      for (const [k, output] of actual.entries()) expect(Array.from(output)).toEqual(Array.from(expected[k]!));
    } finally {
      await model.close();
      await direct.close();
    }
  });

  it('refuses an unknown provider, naming it', async () => {
    const { path } = await tinyUNetOnnx({ depth: 2, baseFilters: 4 });
    await expect(loadBatchModel(path, { providers: 'warp-drive' })).rejects.toThrow(/unknown execution provider "warp-drive"/);
  });
});
