// train/loss.ts with ignored pixels (targets IGNORED_TARGET): the loss and its gradient equal
// those of the crop with the ignored pixels cut out, and whatever the prediction or the border
// weight at an ignored pixel, neither loss nor gradient moves.
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { IGNORED_TARGET } from '../train/batch.ts';
import { segmentationLoss } from '../train/loss.ts';
import { createRng } from '../core/random.ts';

const H = 6;
const W = 8;
const KEEP = 5; // columns 0-4 labelled, 5-7 ignored

function lossAndGrad(p: number[], t: number[], w: number[], n: number, width: number): { loss: number; grad: Float32Array } {
  return tf.tidy(() => {
    const shape: [number, number, number, number] = [n, H, width, 1];
    const target = tf.tensor4d(t, shape);
    const weights = tf.tensor4d(w, shape);
    const f = (x: tf.Tensor) => segmentationLoss(tf, x, target, weights);
    const { value, grad } = tf.valueAndGrad(f)(tf.tensor4d(p, shape));
    return { loss: value.dataSync()[0]!, grad: grad.dataSync() as Float32Array };
  });
}

/** The columns [0, KEEP) of an n x H x W array. */
function crop(values: number[], n: number): number[] {
  const out: number[] = [];
  for (let k = 0; k < n; k++) for (let y = 0; y < H; y++) for (let x = 0; x < KEEP; x++) out.push(values[(k * H + y) * W + x]!);
  return out;
}

describe('segmentationLoss with ignored pixels', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  const n = 2;
  const rng = createRng(5);
  const p = Array.from({ length: n * H * W }, () => 0.05 + 0.9 * rng.float());
  const labels = Array.from({ length: n * H * W }, () => (rng.float() < 0.6 ? 1 : 0));
  const weights = Array.from({ length: n * H * W }, () => 1 + 4 * rng.float());
  const ignored = labels.map((v, i) => (i % W >= KEEP ? IGNORED_TARGET : v));

  it('equals the loss of the masked-out crop, with the same gradient on the counted pixels and zero on the ignored', () => {
    const full = lossAndGrad(p, ignored, weights, n, W);
    const cut = lossAndGrad(crop(p, n), crop(labels, n), crop(weights, n), n, KEEP);
    expect(full.loss).toBeCloseTo(cut.loss, 6);
    expect(Math.abs(full.loss - lossAndGrad(p, labels, weights, n, W).loss)).toBeGreaterThan(1e-4); // the ignore changes something
    const counted = crop([...full.grad], n);
    counted.forEach((g, i) => expect(g).toBeCloseTo(cut.grad[i]!, 6));
    full.grad.forEach((g, i) => {
      if (i % W >= KEEP) expect(g).toBe(0);
    });
  });

  it('does not move when the prediction or the weight at an ignored pixel changes', () => {
    const base = lossAndGrad(p, ignored, weights, n, W);
    const p2 = p.map((v, i) => (i % W >= KEEP ? 1 - v : v));
    const w2 = weights.map((v, i) => (i % W >= KEEP ? 100 * v : v));
    const moved = lossAndGrad(p2, ignored, w2, n, W);
    expect(moved.loss).toBe(base.loss);
    expect([...moved.grad]).toEqual([...base.grad]);
  });
});
