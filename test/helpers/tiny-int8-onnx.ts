/**
 * The int8 variant of a tiny test U-Net (test/helpers/tiny-unet-onnx.ts), made by `emseg quantize`'s
 * quantizeModel calibrated on two ISBI training slices, written beside the float file as
 * `<name>.int8.onnx` with its card `<name>.int8.json` (where web-demo/build.ts looks for it).
 *
 *   const tiny = await tinyUNetOnnx();
 *   const { path, bytes, card } = await tinyInt8Variant(tiny);
 */
import type { ModelCard } from '../../core/contract.ts';
import { ISBI_TRAIN_IMAGES } from '../../core/isbi-data.ts';
import { stackSliceSource } from '../../convert/quantize/calibrate.ts';
import { quantizeModel } from '../../convert/quantize/quantize-model.ts';
import { siblingPath } from '../../node/model-card-file.ts';
import type { TinyUNetOnnx } from './tiny-unet-onnx.ts';

export interface TinyInt8Onnx {
  path: string;
  cardPath: string;
  bytes: Uint8Array;
  card: ModelCard;
}

/** Quantizes `tiny` (calibration: ISBI training slices 0 and 1); the files go beside it. */
export async function tinyInt8Variant(tiny: TinyUNetOnnx): Promise<TinyInt8Onnx> {
  const result = await quantizeModel({
    model: tiny.path,
    output: siblingPath(tiny.path, '.int8.onnx'),
    source: await stackSliceSource(ISBI_TRAIN_IMAGES),
    slices: [0, 1],
  });
  return { path: result.onnxPath, cardPath: result.cardPath, bytes: result.bytes, card: result.card };
}
