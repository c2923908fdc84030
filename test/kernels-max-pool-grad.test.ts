// The project's wasm MaxPoolGrad (train/kernels/max-pool-grad.ts) against the cpu backend's, for
// 2x2 and 3x3 windows, strides 1 and 2, 'valid' and 'same', including ties (ReLU zeros).
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../train/backend.ts';

function randomArray(size: number, seed: number, ties = false): Float32Array {
  let a = seed >>> 0;
  return Float32Array.from({ length: size }, () => {
    a = (Math.imul(a, 1664525) + 1013904223) >>> 0;
    const v = a / 2 ** 31 - 1;
    return ties ? Math.max(0, Math.round(v * 3) / 3) : v;
  });
}

function gradient(backend: string, shape: [number, number, number, number], values: Float32Array, size: number, stride: number, pad: 'valid' | 'same'): Float32Array {
  tf.setBackend(backend);
  return tf.tidy(() => {
    const x = tf.tensor4d(values, shape);
    const f = (t: tf.Tensor) => tf.sum(tf.mul(tf.maxPool(t as tf.Tensor4D, size, stride, pad), tf.range(1, 1 + tf.maxPool(x, size, stride, pad).size).reshape(tf.maxPool(x, size, stride, pad).shape)));
    return tf.grad(f)(x).dataSync() as Float32Array;
  });
}

describe('wasm MaxPoolGrad', () => {
  beforeAll(async () => {
    await selectBackend(tf, 'wasm');
  });

  for (const { shape, size, stride, pad, ties } of [
    { shape: [2, 8, 8, 3] as [number, number, number, number], size: 2, stride: 2, pad: 'valid' as const, ties: false },
    { shape: [1, 9, 7, 2] as [number, number, number, number], size: 2, stride: 2, pad: 'same' as const, ties: false },
    { shape: [1, 7, 7, 2] as [number, number, number, number], size: 3, stride: 1, pad: 'same' as const, ties: false },
    { shape: [2, 9, 9, 3] as [number, number, number, number], size: 3, stride: 2, pad: 'valid' as const, ties: false },
    { shape: [2, 8, 8, 4] as [number, number, number, number], size: 2, stride: 2, pad: 'valid' as const, ties: true },
    { shape: [1, 6, 6, 2] as [number, number, number, number], size: 3, stride: 1, pad: 'valid' as const, ties: true },
  ]) {
    it(`matches cpu for ${shape.join('x')}, ${size}x${size} window, stride ${stride}, ${pad}${ties ? ', with ties' : ''}`, () => {
      const values = randomArray(shape.reduce((a, b) => a * b), 29, ties);
      const expected = gradient('cpu', shape, values, size, stride, pad);
      const actual = gradient('wasm', shape, values, size, stride, pad);
      expect([...actual]).toEqual([...expected]);
      expect(expected.some((v) => v !== 0)).toBe(true);
    });
  }
});
