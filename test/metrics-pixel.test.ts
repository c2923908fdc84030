import { describe, expect, it } from 'vitest';
import { confusionCounts, pixelScores } from '../core/metrics/index.ts';

describe('pixel error, Dice and IoU', () => {
  it('match the hand-counted confusion matrix', () => {
    // prediction at 0.5: [fg, bg, fg, bg]; label: [fg, fg, bg, bg]
    // TP = pixel 0, FN = pixel 1, FP = pixel 2, TN = pixel 3
    const probability = new Float32Array([0.9, 0.2, 0.6, 0.4]);
    const label = new Uint8Array([255, 255, 0, 0]);
    expect(confusionCounts(probability, label, 0.5)).toEqual({ truePositives: 1, falsePositives: 1, falseNegatives: 1, trueNegatives: 1 });
    const s = pixelScores(probability, label, 0.5);
    expect(s.pixelError).toBeCloseTo(2 / 4, 12); // (FP + FN) / N
    expect(s.dice).toBeCloseTo((2 * 1) / (2 * 1 + 1 + 1), 12); // 0.5
    expect(s.iou).toBeCloseTo(1 / (1 + 1 + 1), 12); // 1/3
  });

  it('count a probability equal to the threshold as foreground (the contract mask is >=)', () => {
    const s = pixelScores(new Float32Array([0.5, 0.5]), new Uint8Array([255, 255]), 0.5);
    expect(s).toEqual({ pixelError: 0, dice: 1, iou: 1 });
  });

  it('treat any non-zero label value as foreground and define empty-vs-empty as perfect', () => {
    // labels 0/1 work like 0/255; 3 of 5 wrong
    const s = pixelScores(new Float32Array([1, 1, 0, 0, 1]), new Uint8Array([1, 0, 1, 0, 0]), 0.5);
    // TP 1 (pixel 0), FP 2 (pixels 1, 4), FN 1 (pixel 2), TN 1
    expect(s.pixelError).toBeCloseTo(3 / 5, 12);
    expect(s.dice).toBeCloseTo(2 / (2 + 2 + 1), 12);
    expect(s.iou).toBeCloseTo(1 / 4, 12);
    expect(pixelScores(new Float32Array(4), new Uint8Array(4), 0.5)).toEqual({ pixelError: 0, dice: 1, iou: 1 });
  });
});
