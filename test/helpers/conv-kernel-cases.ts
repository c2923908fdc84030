/**
 * Shared pieces of the tests of the project's wasm convolution gradients
 * (kernels-conv2d-backprop-*.test.ts): the cases both run, seeded random inputs, the relative
 * error against the cpu backend, and running on a named backend.
 */
import { expect } from 'vitest';
import * as tf from '@tensorflow/tfjs';

export type Shape4 = [number, number, number, number];

/** Max |expected - actual| over max |expected|; expects equal lengths and a non-zero `expected`. */
export function relativeError(expected: Float32Array, actual: Float32Array): number {
  expect(actual.length).toBe(expected.length);
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < expected.length; i++) {
    diff = Math.max(diff, Math.abs(expected[i]! - actual[i]!));
    scale = Math.max(scale, Math.abs(expected[i]!));
  }
  expect(scale).toBeGreaterThan(0);
  return diff / scale;
}

/** `size` values in [-1, 1) from a linear congruential generator seeded with `seed`. */
export function randomArray(size: number, seed: number): Float32Array {
  let a = seed >>> 0;
  return Float32Array.from({ length: size }, () => {
    a = (Math.imul(a, 1664525) + 1013904223) >>> 0;
    return a / 2 ** 31 - 1;
  });
}

/** Switches tfjs to the backend `name` (already initialized) and runs `run` there. */
export function onBackend<T>(name: string, run: () => T): T {
  tf.setBackend(name);
  return run();
}

/** Input shape (NHWC), square kernel size, output channels, stride and padding of a conv2d. */
export interface ConvCase {
  x: Shape4;
  k: number;
  cout: number;
  stride: number;
  pad: 'same' | 'valid';
}

/** Strides 1 and 2, 'same' and 'valid', 1x1, 2x2 and 3x3 kernels, odd and even sizes. */
export const CONV_CASES: readonly ConvCase[] = [
  { x: [2, 8, 8, 3], k: 3, cout: 4, stride: 1, pad: 'same' },
  { x: [1, 9, 7, 2], k: 3, cout: 5, stride: 1, pad: 'valid' },
  { x: [2, 9, 7, 3], k: 3, cout: 2, stride: 2, pad: 'same' },
  { x: [1, 10, 11, 2], k: 3, cout: 3, stride: 2, pad: 'valid' },
  { x: [2, 8, 8, 4], k: 2, cout: 3, stride: 2, pad: 'same' },
  { x: [1, 7, 9, 2], k: 2, cout: 3, stride: 1, pad: 'same' },
  { x: [1, 7, 7, 3], k: 2, cout: 2, stride: 2, pad: 'valid' },
  { x: [3, 6, 5, 4], k: 1, cout: 2, stride: 1, pad: 'valid' },
  { x: [2, 6, 6, 3], k: 1, cout: 5, stride: 2, pad: 'same' },
];
