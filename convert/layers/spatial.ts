/**
 * Spatial resampling and borders: UpSampling2D (nearest, bilinear), ZeroPadding2D, Cropping2D.
 *
 * tfjs' UpSampling2D calls tf.image.resizeNearestNeighbor / resizeBilinear with
 * alignCorners = false and halfPixelCenters = false: source = destination / scale ("asymmetric"
 * in ONNX Resize terms), nearest rounding down (nearest_mode floor). Keras in Python uses
 * half-pixel centres for bilinear; the tfjs model is the oracle here and the tests check it.
 */
import { attr } from '../onnx-graph.ts';
import { configValue, pair, requireChannelsLast, requireRank4, singleInput, unsupported, type LayerConverter, type LayerToConvert } from '../layer-converter.ts';

export const convertUpSampling2D: LayerConverter = (layer, graph) => {
  requireChannelsLast(layer);
  requireRank4(layer);
  const [sh, sw] = pair(layer, 'size', 2);
  const interpolation = configValue(layer, 'interpolation', 'nearest');
  const scales = graph.addFloatInitializer(`${layer.name}_scales`, [4], [1, 1, sh, sw]);
  const common = { coordinate_transformation_mode: attr.string('asymmetric') };
  if (interpolation === 'nearest') {
    return [graph.add('Resize', [singleInput(layer), '', scales], layer.name, { ...common, mode: attr.string('nearest'), nearest_mode: attr.string('floor') })];
  }
  if (interpolation === 'bilinear') {
    return [graph.add('Resize', [singleInput(layer), '', scales], layer.name, { ...common, mode: attr.string('linear') })];
  }
  return unsupported(layer, `interpolation '${String(interpolation)}' (supported: nearest, bilinear)`);
};

/** Keras' [[top, bottom], [left, right]] (or a number, or [vertical, horizontal]). */
function borders(layer: LayerToConvert, key: string): { top: number; bottom: number; left: number; right: number } {
  const value = configValue<unknown>(layer, key, 0);
  if (typeof value === 'number') return { top: value, bottom: value, left: value, right: value };
  if (Array.isArray(value) && value.length === 2) {
    const [vertical, horizontal] = value as unknown[];
    const asPair = (part: unknown): [number, number] =>
      typeof part === 'number' ? [part, part] : Array.isArray(part) && part.length === 2 ? [Number(part[0]), Number(part[1])] : unsupported(layer, `${key} ${JSON.stringify(value)}`);
    const [top, bottom] = asPair(vertical);
    const [left, right] = asPair(horizontal);
    return { top, bottom, left, right };
  }
  return unsupported(layer, `${key} ${JSON.stringify(value)}`);
}

export const convertZeroPadding2D: LayerConverter = (layer, graph) => {
  requireChannelsLast(layer);
  requireRank4(layer);
  const { top, bottom, left, right } = borders(layer, 'padding');
  const pads = graph.addInt64Initializer(`${layer.name}_pads`, [8], [0, 0, top, left, 0, 0, bottom, right]);
  return [graph.add('Pad', [singleInput(layer), pads], layer.name, { mode: attr.string('constant') })];
};

const INT64_MAX = 9223372036854775807n;

export const convertCropping2D: LayerConverter = (layer, graph) => {
  requireChannelsLast(layer);
  requireRank4(layer);
  const { top, bottom, left, right } = borders(layer, 'cropping');
  const starts = graph.addInt64Initializer(`${layer.name}_starts`, [2], [top, left]);
  const ends = graph.addInt64Initializer(`${layer.name}_ends`, [2], [bottom > 0 ? -bottom : INT64_MAX, right > 0 ? -right : INT64_MAX]);
  const axes = graph.addInt64Initializer(`${layer.name}_axes`, [2], [2, 3]);
  return [graph.add('Slice', [singleInput(layer), starts, ends, axes], layer.name)];
};
