/**
 * Dense array transposition (numpy.transpose semantics), used to move convolution kernels between
 * tfjs' channels-last layout and ONNX's OIHW/IOHW, in both directions (convert/ exports,
 * train/init-from-onnx.ts reads back).
 */

/** Transposes a dense row-major array of `shape` by `perm` (numpy.transpose semantics). */
export function transposeArray(data: Float32Array, shape: number[], perm: number[]): { data: Float32Array; shape: number[] } {
  const rank = shape.length;
  const outShape = perm.map((axis) => shape[axis]!);
  const inStrides = new Array<number>(rank);
  let stride = 1;
  for (let axis = rank - 1; axis >= 0; axis--) {
    inStrides[axis] = stride;
    stride *= shape[axis]!;
  }
  const out = new Float32Array(data.length);
  const index = new Array<number>(rank).fill(0);
  const permutedStrides = perm.map((axis) => inStrides[axis]!);
  for (let flat = 0; flat < out.length; flat++) {
    let source = 0;
    for (let axis = 0; axis < rank; axis++) source += index[axis]! * permutedStrides[axis]!;
    out[flat] = data[source]!;
    for (let axis = rank - 1; axis >= 0; axis--) {
      index[axis] = index[axis]! + 1;
      if (index[axis]! < outShape[axis]!) break;
      index[axis] = 0;
    }
  }
  return { data: out, shape: outShape };
}
