// The project's wasm Conv2DBackpropFilter (train/kernels/conv2d-backprop-filter.ts) against the
// cpu backend's, directly and through tf.grads of conv2d, for strides 1 and 2, 'same' and
// 'valid', 1x1, 2x2 and 3x3 kernels, and batches that need several im2col chunks.
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../train/backend.ts';
import * as filterKernel from '../train/kernels/conv2d-backprop-filter.ts';
import { CONV_CASES, onBackend, randomArray, relativeError, type Shape4 } from './helpers/conv-kernel-cases.ts';

describe('wasm Conv2DBackpropFilter', () => {
  beforeAll(async () => {
    await selectBackend(tf, 'wasm');
  });

  for (const [path, viewMinColumns] of [
    ['padded-grid views', 1],
    ['im2col', Number.MAX_SAFE_INTEGER],
  ] as const) {
    for (const c of CONV_CASES) {
      it(`matches cpu for x ${c.x.join('x')}, ${c.k}x${c.k} kernel, stride ${c.stride}, ${c.pad} (stride-1 path: ${path})`, () => {
        filterKernel.setViewMinColumns(viewMinColumns);
        try {
          const filterShape: Shape4 = [c.k, c.k, c.x[3], c.cout];
          const xValues = randomArray(c.x.reduce((a, b) => a * b), 7);
          const wValues = randomArray(filterShape.reduce((a, b) => a * b), 11);
          const gradients = (backend: string) =>
            onBackend(backend, () => {
              const x = tf.tensor4d(xValues, c.x);
              const w = tf.tensor4d(wValues, filterShape);
              // A loss whose gradient dy is not constant, so that every tap is checked.
              const [, dw] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.square(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.stride, c.pad))))([x, w]);
              const result = dw!.dataSync() as Float32Array;
              tf.dispose([x, w, dw!]);
              return result;
            });
          expect(relativeError(gradients('cpu'), gradients('wasm'))).toBeLessThan(1e-4);
        } finally {
          filterKernel.setViewMinColumns(4096);
        }
      });
    }
  }

  it('gives the same result when the batch is processed in several im2col chunks', () => {
    const xShape: Shape4 = [3, 12, 12, 4];
    const dyShape: Shape4 = [3, 12, 12, 5];
    const x = tf.tensor4d(randomArray(3 * 12 * 12 * 4, 3), xShape);
    const dy = tf.tensor4d(randomArray(3 * 12 * 12 * 5, 5), dyShape);
    const run = () => {
      const out = tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { strides: 1, pad: 'same', dataFormat: 'NHWC', filterShape: [3, 3, 4, 5] }) as tf.Tensor;
      const values = out.dataSync() as Float32Array;
      out.dispose();
      return values;
    };
    const whole = run();
    const saved = filterKernel.COLUMN_BUDGET;
    // One image per chunk: 36 rows x 144 columns each.
    filterKernel.setColumnBudget(36 * 144);
    filterKernel.setViewMinColumns(Number.MAX_SAFE_INTEGER);
    try {
      const chunked = run();
      expect(relativeError(whole, chunked)).toBeLessThan(1e-6);
    } finally {
      filterKernel.setColumnBudget(saved);
      filterKernel.setViewMinColumns(4096);
    }
    const expected = onBackend('cpu', () => {
      const out = tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { strides: 1, pad: 'same', dataFormat: 'NHWC', filterShape: [3, 3, 4, 5] }) as tf.Tensor;
      return out.dataSync() as Float32Array;
    });
    tf.setBackend('wasm');
    expect(relativeError(expected, whole)).toBeLessThan(1e-4);
  });
});
