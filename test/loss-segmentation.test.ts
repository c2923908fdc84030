// train/loss.ts on tensors small enough to work out by hand.
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { resolveLossOptions, segmentationLoss } from '../train/loss.ts';

const t4 = (values: number[], n: number) => tf.tensor4d(values, [n, 1, values.length / n, 1]);

function lossOf(p: number[], t: number[], n = 1, weights?: number[], options = {}): number {
  return tf.tidy(() => segmentationLoss(tf, t4(p, n), t4(t, n), weights && t4(weights, n), options).dataSync()[0]!);
}

describe('segmentationLoss', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  it('is BCE + (1 - Dice) with the values worked out by hand', () => {
    // p = [0.9, 0.2], t = [1, 0]
    const bce = (-Math.log(0.9) - Math.log(0.8)) / 2; // 0.16425
    const dice = (2 * 0.9 + 1) / (0.9 + 0.2 + 1 + 1); // (2 sum pt + 1) / (sum p + sum t + 1) = 2.8 / 3.1
    expect(lossOf([0.9, 0.2], [1, 0])).toBeCloseTo(bce + 1 - dice, 6);
    expect(lossOf([0.9, 0.2], [1, 0], 1, undefined, { diceWeight: 0 })).toBeCloseTo(bce, 6);
    expect(lossOf([0.9, 0.2], [1, 0], 1, undefined, { bceWeight: 0 })).toBeCloseTo(1 - dice, 6);
    expect(lossOf([0.9, 0.2], [1, 0], 1, undefined, { bceWeight: 2, diceWeight: 0.5 })).toBeCloseTo(2 * bce + 0.5 * (1 - dice), 6);
  });

  it('weights the cross-entropy per pixel and divides by the pixel count', () => {
    const bce = (2 * -Math.log(0.9) + 1 * -Math.log(0.8)) / 2;
    expect(lossOf([0.9, 0.2], [1, 0], 1, [2, 1], { diceWeight: 0 })).toBeCloseTo(bce, 6);
  });

  it('averages Dice over images, so the loss of a batch is the mean of its images', () => {
    const dice1 = (2 * 0.9 + 1) / (0.9 + 1 + 1);
    const dice2 = (0 + 1) / (0.2 + 0 + 1);
    expect(lossOf([0.9, 0.2], [1, 0], 2, undefined, { bceWeight: 0 })).toBeCloseTo(1 - (dice1 + dice2) / 2, 6);
    const whole = lossOf([0.9, 0.3, 0.2, 0.6], [1, 1, 0, 0], 2);
    const halves = (lossOf([0.9, 0.3], [1, 1]) + lossOf([0.2, 0.6], [0, 0])) / 2;
    expect(whole).toBeCloseTo(halves, 6);
  });

  it('is zero-ish for a perfect prediction and stays finite when the prediction is saturated and wrong', () => {
    expect(lossOf([1, 0], [1, 0])).toBeLessThan(1e-5);
    const wrong = lossOf([0, 1], [1, 0], 1, undefined, { diceWeight: 0 });
    expect(Number.isFinite(wrong)).toBe(true);
    // p = 0 is clipped to 1e-7 and p = 1 to float32(1 - 1e-7) = 1 - 2^-23: -(ln 1e-7 + ln 2^-23) / 2
    expect(wrong).toBeCloseTo(-(Math.log(1e-7) + Math.log(2 ** -23)) / 2, 3);
    const gradient = tf.tidy(() => tf.grad((p: tf.Tensor) => segmentationLoss(tf, p, t4([1, 0], 1), undefined))(t4([0, 1], 1)).dataSync());
    expect([...gradient].every(Number.isFinite)).toBe(true);
  });

  it('rejects bad options, naming them', () => {
    expect(() => resolveLossOptions({ bceWeight: -1 })).toThrow(/loss.bceWeight/);
    expect(() => resolveLossOptions({ bceWeight: 0, diceWeight: 0 })).toThrow(/both 0/);
    expect(() => resolveLossOptions({ epsilon: 0.7 })).toThrow(/epsilon/);
  });
});
