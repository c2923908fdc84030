/**
 * The arithmetic of `emseg quantize` (convert/quantize/quantize-math.ts) on hand-computed cases:
 * per-channel symmetric int8 weights (Conv's axis 0 and ConvTranspose's axis 1), activation scale
 * and zero point for uint8 and int8, the int32 bias, and QuantizeLinear's round-half-to-even.
 */
import { describe, expect, it } from 'vitest';
import {
  activationQuantization,
  quantizeBias,
  quantizeValue,
  quantizeWeightsPerChannel,
  roundHalfEven,
} from '../convert/quantize/quantize-math.ts';

describe('quantizeWeightsPerChannel', () => {
  it('gives each output channel (axis 0) the scale max|w|/127 and rounds w/scale', () => {
    // dims [2, 1, 1, 3]: channel 0 = [0.5, -1.27, 0.1], channel 1 = [2.54, 0, -0.02]
    const weights = Float32Array.of(0.5, -1.27, 0.1, 2.54, 0, -0.02);
    const { values, scales } = quantizeWeightsPerChannel(weights, [2, 1, 1, 3]);
    expect(scales[0]).toBeCloseTo(0.01, 7);
    expect(scales[1]).toBeCloseTo(0.02, 7);
    expect([...values]).toEqual([50, -127, 10, 127, 0, -1]);
  });

  it('uses axis 1 for ConvTranspose weights [in, out, kh, kw]', () => {
    // dims [2, 2, 1, 1]: element (i, o) = weights[i * 2 + o]; out channel 0 = {1, -4}, out channel 1 = {0.5, 0.25}
    const weights = Float32Array.of(1, 0.5, -4, 0.25);
    const { values, scales } = quantizeWeightsPerChannel(weights, [2, 2, 1, 1], 1);
    expect(scales[0]).toBeCloseTo(4 / 127, 7);
    expect(scales[1]).toBeCloseTo(0.5 / 127, 7);
    expect([...values]).toEqual([32, 127, -127, 64]);
  });

  it('keeps an all-zero channel at zero with scale 1 (a zero scale is invalid in ONNX)', () => {
    const { values, scales } = quantizeWeightsPerChannel(new Float32Array(4), [2, 2, 1, 1]);
    expect([...scales]).toEqual([1, 1]);
    expect([...values]).toEqual([0, 0, 0, 0]);
  });

  it('refuses dims that do not match the data', () => {
    expect(() => quantizeWeightsPerChannel(new Float32Array(5), [2, 1, 1, 3])).toThrow(RangeError);
  });
});

describe('activationQuantization', () => {
  it('maps a ReLU range [0, max] to uint8 with zero point 0 (onnxruntime then drops the ReLU)', () => {
    const q = activationQuantization(0, 5.1, 'uint8');
    expect(q.scale).toBeCloseTo(0.02, 7);
    expect(q.zeroPoint).toBe(0);
    expect(quantizeValue(5.1, q)).toBe(255);
    expect(quantizeValue(-1, q)).toBe(0);
  });

  it('maps the same range to int8 with zero point -128', () => {
    const q = activationQuantization(0, 5.1, 'int8');
    expect(q.zeroPoint).toBe(-128);
    expect(quantizeValue(5.1, q)).toBe(127);
  });

  it('widens the range to contain 0, so that zero is exact', () => {
    const q = activationQuantization(1, 2.55, 'uint8');
    expect(q.zeroPoint).toBe(0);
    expect(q.scale).toBeCloseTo(0.01, 7);
    const mixed = activationQuantization(-1, 3, 'uint8');
    expect(mixed.scale).toBeCloseTo(4 / 255, 7);
    expect(mixed.zeroPoint).toBe(64); // round(255 / 4) = round(63.75)
    expect(quantizeValue(0, mixed)).toBe(mixed.zeroPoint);
  });

  it('gives a constant zero tensor a valid scale', () => {
    expect(activationQuantization(0, 0, 'uint8')).toEqual({ scale: 1, zeroPoint: 0, type: 'uint8' });
  });
});

describe('quantizeBias and rounding', () => {
  it('stores the bias in int32 with scale inputScale * weightScale per channel', () => {
    const { values, scales } = quantizeBias(Float32Array.of(0.3, -0.1), 0.1, Float32Array.of(0.01, 0.5));
    expect(scales[0]).toBeCloseTo(0.001, 7);
    expect(scales[1]).toBeCloseTo(0.05, 7);
    expect([...values]).toEqual([300, -2]);
  });

  it('rounds half to even as QuantizeLinear does', () => {
    expect([0.5, 1.5, 2.5, -0.5, -1.5, 2.4, 2.6].map(roundHalfEven)).toEqual([0, 2, 2, 0, -2, 2, 3]);
  });
});
