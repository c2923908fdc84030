/**
 * The built-in parity check can fail: a session of another model (same architecture, other
 * weights) differs from the tfjs oracle by far more than 1e-4, and assertParity turns that into
 * E_MODEL naming the worst input. Random inputs are reproducible from their seed.
 */
import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { assertParity, compareModels, createCpuSession, nchwToNhwc, nhwcToNchw, randomInput } from '../convert/parity.ts';
import { exportLayersModel } from '../convert/tfjs-to-onnx.ts';
import { buildUNet } from '../train/unet.ts';
import { randomizeWeights } from './helpers/tiny-unet-onnx.ts';
import { isEmsegError } from '../core/errors.ts';

describe('parity check', () => {
  it('fails with E_MODEL when the ONNX graph computes something else', async () => {
    await tf.setBackend('cpu');
    const oracle = buildUNet(tf, { depth: 2, baseFilters: 4 });
    randomizeWeights(oracle, 1);
    const other = buildUNet(tf, { depth: 2, baseFilters: 4 });
    randomizeWeights(other, 2);
    const session = await createCpuSession(exportLayersModel(other));
    const inputs = [randomInput('a 32x32', [1, 1, 32, 32], 1), randomInput('b 16x48', [1, 1, 16, 48], 2)];
    const report = await compareModels(tf, oracle, session, inputs);
    await session.release();
    expect(report.maxAbsDiff).toBeGreaterThan(1e-3);
    expect(report.results.map((result) => result.label)).toEqual(['a 32x32', 'b 16x48']);
    let caught: unknown;
    try {
      assertParity(report);
    } catch (error) {
      caught = error;
    }
    expect(isEmsegError(caught) && caught.code).toBe('E_MODEL');
    expect(String((caught as Error).message)).toMatch(/parity check failed: .* on (a 32x32|b 16x48) \(tolerance 0.0001\)/);
    expect(() => assertParity({ maxAbsDiff: 5e-5, results: [{ label: 'x', maxAbsDiff: 5e-5 }] })).not.toThrow();
  });

  it('reports NaN and shape mismatches as infinite differences', async () => {
    await tf.setBackend('cpu');
    const input = tf.input({ shape: [null, null, 1] });
    const model = tf.model({ inputs: input, outputs: tf.layers.maxPooling2d({ poolSize: 2 }).apply(input) as tf.SymbolicTensor });
    const unpooled = tf.model({ inputs: input, outputs: tf.layers.activation({ activation: 'relu' }).apply(input) as tf.SymbolicTensor });
    const session = await createCpuSession(exportLayersModel(unpooled));
    const report = await compareModels(tf, model, session, [randomInput('8x8', [1, 1, 8, 8], 3)]);
    await session.release();
    expect(report.maxAbsDiff).toBe(Number.POSITIVE_INFINITY);
  });

  it('makes seeded, standard-normal random inputs and round-trips layouts', () => {
    const a = randomInput('a', [2, 3, 8, 8], 7);
    const b = randomInput('b', [2, 3, 8, 8], 7);
    const c = randomInput('c', [2, 3, 8, 8], 8);
    expect(a.data).toEqual(b.data);
    expect(a.data).not.toEqual(c.data);
    const mean = a.data.reduce((s, v) => s + v, 0) / a.data.length;
    const variance = a.data.reduce((s, v) => s + (v - mean) ** 2, 0) / a.data.length;
    expect(Math.abs(mean)).toBeLessThan(0.2);
    expect(variance).toBeGreaterThan(0.7);
    expect(variance).toBeLessThan(1.3);
    expect(nhwcToNchw(nchwToNhwc(a.data, [2, 3, 8, 8]), [2, 8, 8, 3])).toEqual(a.data);
  });
});
