// train/engine-adam.ts against tf.train.adam (cpu backend) as the oracle: the same update with
// epsilon 0, and with epsilon > 0 the update of tf.train.adam with epsilon / sqrt(1 - beta2^t).
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { adamUpdate } from '../train/engine-adam.ts';

const grads = [
  [0.5, -1.5, 2e-4, 3],
  [0.25, -1, -3e-4, 2],
  [-0.75, 0.5, 1e-4, -1],
];

/** Weights after each step of tf.train.adam with the given epsilon, on the fixed gradients above. */
function tfjsAdam(epsilon: number, learningRate = 0.01): number[][] {
  const w = tf.variable(tf.tensor1d([1, -2, 0.5, 0]));
  const optimizer = tf.train.adam(learningRate, 0.9, 0.999, epsilon);
  const out: number[][] = [];
  for (const g of grads) {
    optimizer.applyGradients([{ name: w.name, tensor: tf.tensor1d(g) }]);
    out.push([...w.dataSync()]);
  }
  optimizer.dispose();
  w.dispose();
  return out;
}

function ourAdam(epsilon: number, learningRate = 0.01): number[][] {
  const w = Float32Array.from([1, -2, 0.5, 0]);
  const m = new Float32Array(4);
  const v = new Float32Array(4);
  return grads.map((g, i) => {
    adamUpdate(w, Float32Array.from(g), m, v, learningRate, i + 1, { beta1: 0.9, beta2: 0.999, epsilon });
    return [...w];
  });
}

const close = (a: number[][], b: number[][], tolerance: number) =>
  a.every((row, i) => row.every((x, k) => Math.abs(x - b[i]![k]!) <= tolerance));

describe('adamUpdate', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  it('is tf.train.adam when epsilon is 0', () => {
    expect(close(ourAdam(0), tfjsAdam(0), 1e-6)).toBe(true);
  });

  it('is tf.train.adam with epsilon / sqrt(1 - beta2^t) otherwise, not with epsilon itself', () => {
    // A large epsilon against a small gradient (the third weight) makes the difference visible.
    const epsilon = 1e-3;
    const ours = ourAdam(epsilon);
    expect(close(ours, tfjsAdam(epsilon), 1e-6)).toBe(false);
    // Step 1 alone: tfjs with the epsilon this module effectively uses at t = 1 gives the same weights.
    expect(close([ours[0]!], [tfjsAdam(epsilon / Math.sqrt(1 - 0.999))[0]!], 1e-6)).toBe(true);
  });
});
