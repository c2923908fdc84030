/**
 * The arithmetic of int8 quantization as ONNX QuantizeLinear / DequantizeLinear define it
 * (x = (q - zeroPoint) * scale, q = saturate(roundHalfEven(x / scale) + zeroPoint)):
 *
 * - weights: int8, per output channel (axis 0), symmetric (zero point 0), range [-127, 127], so
 *   that +w and -w quantize to opposite values and no channel is biased by the unused -128;
 * - activations: per tensor, asymmetric, uint8 [0, 255] or int8 [-128, 127], the range widened
 *   to contain 0 so that zero (Conv's zero padding, ReLU's floor) is exactly representable;
 * - bias: int32 with scale inputScale * weightScale[c] and zero point 0, as QLinearConv expects.
 */

export type ActivationType = 'uint8' | 'int8';
export const ACTIVATION_TYPES: readonly ActivationType[] = ['uint8', 'int8'];

export interface ActivationQuantization {
  scale: number;
  zeroPoint: number;
  type: ActivationType;
}

const LIMITS: Record<ActivationType, { min: number; max: number }> = {
  uint8: { min: 0, max: 255 },
  int8: { min: -128, max: 127 },
};

/** Rounds half to even, as QuantizeLinear does. */
export function roundHalfEven(value: number): number {
  const floor = Math.floor(value);
  const diff = value - floor;
  if (diff > 0.5) return floor + 1;
  if (diff < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}

/** Scale and zero point for a tensor observed in [min, max] (widened to contain 0). */
export function activationQuantization(min: number, max: number, type: ActivationType): ActivationQuantization {
  if (!Number.isFinite(min) || !Number.isFinite(max) || min > max) throw new RangeError(`activation range [${min}, ${max}] is not a finite interval`);
  const { min: qmin, max: qmax } = LIMITS[type];
  const low = Math.min(min, 0);
  const high = Math.max(max, 0);
  if (high === low) return { scale: 1, zeroPoint: 0, type };
  // float32 scale, as stored in the file, so that the zero point is computed from the stored value.
  const scale = Math.fround((high - low) / (qmax - qmin));
  const zeroPoint = Math.min(qmax, Math.max(qmin, roundHalfEven(qmin - low / scale)));
  return { scale, zeroPoint, type };
}

/** Quantizes one value as QuantizeLinear does. */
export function quantizeValue(value: number, { scale, zeroPoint, type }: ActivationQuantization): number {
  const { min, max } = LIMITS[type];
  return Math.min(max, Math.max(min, roundHalfEven(value / scale) + zeroPoint));
}

export interface PerChannelWeights {
  /** int8 values, same layout as the float weights. */
  values: Int8Array;
  /** One scale per output channel (axis 0). */
  scales: Float32Array;
}

export const WEIGHT_LIMIT = 127;

/**
 * Symmetric per-channel int8 weights over `axis` (the output channels: 0 for Conv's OIHW, 1 for
 * ConvTranspose's IOHW): scale[c] = max |w| in channel c / 127 (1 for an all-zero channel),
 * q = round(w / scale[c]).
 */
export function quantizeWeightsPerChannel(data: Float32Array, dims: readonly number[], axis = 0): PerChannelWeights {
  const channels = dims[axis] ?? 0;
  const total = dims.reduce((a, b) => a * b, 1);
  if (channels <= 0 || total !== data.length) throw new RangeError(`weights of dims [${dims.join(', ')}] do not hold ${data.length} values in channels of axis ${axis}`);
  // Element i lies in channel floor(i / inner) % channels, inner = product of the dims after `axis`.
  const inner = dims.slice(axis + 1).reduce((a, b) => a * b, 1);
  const channelOf = (i: number) => Math.floor(i / inner) % channels;
  const largest = new Float64Array(channels);
  for (let i = 0; i < data.length; i++) largest[channelOf(i)] = Math.max(largest[channelOf(i)]!, Math.abs(data[i]!));
  const scales = Float32Array.from(largest, (value) => (value > 0 ? Math.fround(value / WEIGHT_LIMIT) : 1));
  const values = new Int8Array(data.length);
  for (let i = 0; i < data.length; i++) {
    values[i] = Math.min(WEIGHT_LIMIT, Math.max(-WEIGHT_LIMIT, roundHalfEven(data[i]! / scales[channelOf(i)]!)));
  }
  return { values, scales };
}

/** int32 bias for QLinearConv: round(b[c] / (inputScale * weightScales[c])), saturated to int32. */
export function quantizeBias(bias: Float32Array, inputScale: number, weightScales: Float32Array): { values: Int32Array; scales: Float32Array } {
  if (bias.length !== weightScales.length) throw new RangeError(`bias has ${bias.length} values for ${weightScales.length} channels`);
  const values = new Int32Array(bias.length);
  const scales = new Float32Array(bias.length);
  for (let c = 0; c < bias.length; c++) {
    const scale = Math.fround(inputScale * weightScales[c]!);
    scales[c] = scale;
    values[c] = Math.min(2147483647, Math.max(-2147483648, roundHalfEven(bias[c]! / scale)));
  }
  return { values, scales };
}
