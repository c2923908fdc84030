// The project's wasm Conv2DBackpropInput (train/kernels/conv2d-backprop-input.ts) against the
// cpu backend's: as the input gradient of conv2d and as the forward pass of conv2dTranspose, for
// strides 1 and 2, 'same' and 'valid', 1x1, 2x2 and 3x3 kernels (the fast paths and the cases
// that fall back to tfjs's own kernel).
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../train/backend.ts';
import { CONV_CASES, onBackend, randomArray, relativeError, type Shape4 } from './helpers/conv-kernel-cases.ts';

describe('wasm Conv2DBackpropInput', () => {
  beforeAll(async () => {
    await selectBackend(tf, 'wasm');
  });

  for (const c of CONV_CASES) {
    it(`gives conv2d's input gradient for x ${c.x.join('x')}, ${c.k}x${c.k} kernel, stride ${c.stride}, ${c.pad}`, () => {
      const filterShape: Shape4 = [c.k, c.k, c.x[3], c.cout];
      const xValues = randomArray(c.x.reduce((a, b) => a * b), 13);
      const wValues = randomArray(filterShape.reduce((a, b) => a * b), 17);
      const gradient = (backend: string) =>
        onBackend(backend, () => {
          const x = tf.tensor4d(xValues, c.x);
          const w = tf.tensor4d(wValues, filterShape);
          const [dx] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.square(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.stride, c.pad))))([x, w]);
          const result = dx!.dataSync() as Float32Array;
          tf.dispose([x, w, dx!]);
          return result;
        });
      expect(relativeError(gradient('cpu'), gradient('wasm'))).toBeLessThan(1e-4);
    });
  }

  for (const { k, stride, pad, size } of [
    { k: 2, stride: 2, pad: 'same' as const, size: 5 },
    { k: 3, stride: 1, pad: 'same' as const, size: 6 },
    { k: 3, stride: 2, pad: 'same' as const, size: 4 },
    { k: 1, stride: 1, pad: 'valid' as const, size: 7 },
  ]) {
    it(`computes conv2dTranspose (${k}x${k}, stride ${stride}, ${pad}) and its gradients like cpu`, () => {
      const inShape: Shape4 = [2, size, size, 6];
      const filterShape: Shape4 = [k, k, 3, 6]; // [kh, kw, outChannels, inChannels] for a transpose
      const outShape: Shape4 = [2, size * stride, size * stride, 3];
      const xValues = randomArray(inShape.reduce((a, b) => a * b), 19);
      const wValues = randomArray(filterShape.reduce((a, b) => a * b), 23);
      const run = (backend: string) =>
        onBackend(backend, () => {
          const x = tf.tensor4d(xValues, inShape);
          const w = tf.tensor4d(wValues, filterShape);
          const f = (a: tf.Tensor, b: tf.Tensor) => tf.conv2dTranspose(a as tf.Tensor4D, b as tf.Tensor4D, outShape, stride, pad);
          const y = f(x, w);
          const [dx, dw] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.square(f(a, b))))([x, w]);
          const result = [y, dx!, dw!].map((t) => t.dataSync() as Float32Array);
          tf.dispose([x, w, y, dx!, dw!]);
          return result;
        });
      const expected = run('cpu');
      const actual = run('wasm');
      expected.forEach((e, i) => expect(relativeError(e, actual[i]!)).toBeLessThan(1e-4));
    });
  }
});
