// The project's wasm Sum over leading axes, Concat, SplitV, Identity and same-dtype Cast
// (train/kernels/sum-leading-axes.ts, concat-split.ts, identity-shared.ts) against the cpu
// backend, and the cases that must still go to tfjs's own kernels.
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../train/backend.ts';

function randomTensor(shape: number[], seed: number): tf.Tensor {
  let a = seed >>> 0;
  const values = Float32Array.from({ length: shape.reduce((x, y) => x * y, 1) }, () => {
    a = (Math.imul(a, 1664525) + 1013904223) >>> 0;
    return a / 2 ** 31 - 1;
  });
  return tf.tensor(values, shape);
}

/** Runs `f` on cpu and on wasm with the same inputs and returns both results' values. */
function both(f: () => tf.Tensor | tf.Tensor[]): [number[][], number[][]] {
  const run = (backend: string) => {
    tf.setBackend(backend);
    return tf.tidy(() => {
      const out = f();
      return (Array.isArray(out) ? out : [out]).map((t) => [...t.dataSync()]);
    });
  };
  return [run('cpu'), run('wasm')];
}

function expectClose(expected: number[][], actual: number[][], tolerance = 1e-5): void {
  expect(actual.length).toBe(expected.length);
  expected.forEach((e, i) => {
    expect(actual[i]!.length).toBe(e.length);
    const scale = Math.max(1, ...e.map(Math.abs));
    e.forEach((v, k) => expect(Math.abs(actual[i]![k]! - v) / scale).toBeLessThan(tolerance));
  });
}

describe('wasm reshaping and reduction kernels', () => {
  beforeAll(async () => {
    await selectBackend(tf, 'wasm');
  });

  it('sums over all axes but the last (bias gradients), with and without keepDims', () => {
    for (const shape of [[2, 5, 7, 3], [6, 4], [1, 1, 1, 9]]) {
      const axes = shape.slice(0, -1).map((_, i) => i);
      expectClose(...both(() => tf.sum(randomTensor(shape, 3), axes)));
      expectClose(...both(() => tf.sum(randomTensor(shape, 4), axes, true)));
      const wasmShape = (() => {
        tf.setBackend('wasm');
        return tf.tidy(() => tf.sum(randomTensor(shape, 4), axes, true).shape);
      })();
      expect(wasmShape).toEqual([...shape.slice(0, -1).map(() => 1), shape[shape.length - 1]]);
    }
  });

  it('leaves other reductions to tfjs (inner axes, all axes, int32)', () => {
    expectClose(...both(() => tf.sum(randomTensor([2, 5, 7, 3], 5), [1, 2])));
    expectClose(...both(() => tf.sum(randomTensor([2, 5, 7, 3], 6))));
    expectClose(...both(() => tf.sum(randomTensor([2, 5, 3], 7), -1)));
    expectClose(...both(() => tf.sum(tf.tensor([[1, 2], [3, 4]], undefined, 'int32'), 0)));
  });

  it('concatenates and splits along every axis, like cpu', () => {
    const shapes = [[2, 4, 5, 3], [2, 4, 5, 6]];
    expectClose(...both(() => tf.concat([randomTensor(shapes[0]!, 8), randomTensor(shapes[1]!, 9)], 3)));
    expectClose(...both(() => tf.concat([randomTensor([2, 3, 5, 3], 8), randomTensor([2, 4, 5, 3], 9), randomTensor([2, 1, 5, 3], 10)], 1)));
    expectClose(...both(() => tf.concat([randomTensor([1, 3], 8), randomTensor([2, 3], 9)], 0)));
    expectClose(...both(() => tf.split(randomTensor([2, 4, 5, 9], 11), [3, 6], 3)));
    expectClose(...both(() => tf.split(randomTensor([2, 4, 6, 3], 12), 3, 2)));
    expectClose(...both(() => tf.split(randomTensor([4, 3], 13), [1, -1], 0)));
  });

  it('gives the gradient of a channel concatenation like cpu', () => {
    expectClose(
      ...both(() => {
        const a = randomTensor([2, 4, 4, 3], 14);
        const b = randomTensor([2, 4, 4, 5], 15);
        const weights = randomTensor([2, 4, 4, 8], 16);
        return tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(tf.concat([x, y], 3), weights)))([a, b]);
      }),
    );
  });

  it('shares buffers for Identity and same-dtype Cast, and still converts between dtypes', () => {
    tf.setBackend('wasm');
    const x = tf.tensor([1.7, -2.2, 3.5]);
    const y = tf.clone(x);
    const z = tf.cast(x, 'float32');
    const i = tf.cast(x, 'int32');
    x.dispose(); // the copies must survive their source
    expect([...y.dataSync()]).toEqual([...new Float32Array([1.7, -2.2, 3.5])]);
    expect([...z.dataSync()]).toEqual([...new Float32Array([1.7, -2.2, 3.5])]);
    expect(i.dtype).toBe('int32');
    expect([...i.dataSync()]).toEqual([1, -2, 3]);
    tf.dispose([y, z, i]);
  });
});
