/**
 * BatchNormalization in inference form: ONNX BatchNormalization with the moving statistics and
 * tfjs' epsilon written explicitly (tfjs defaults to 1e-3, ONNX to 1e-5).
 */
import { attr } from '../onnx-graph.ts';
import { configValue, nchwAxis, requireRank4, singleInput, unsupported, weight, type LayerConverter } from '../layer-converter.ts';

export const convertBatchNormalization: LayerConverter = (layer, graph) => {
  requireRank4(layer);
  const axisConfig = configValue<number | number[]>(layer, 'axis', -1);
  const axis = Array.isArray(axisConfig) && axisConfig.length === 1 ? axisConfig[0]! : axisConfig;
  if (typeof axis !== 'number' || nchwAxis(layer, axis) !== 1) {
    unsupported(layer, `normalization over axis ${JSON.stringify(axisConfig)} (only the channel axis, -1)`);
  }
  const mean = weight(layer, 'moving_mean');
  const variance = weight(layer, 'moving_variance');
  const channels = mean.shape[0]!;
  const gamma = layer.weights.get('gamma')?.data ?? new Float32Array(channels).fill(1);
  const beta = layer.weights.get('beta')?.data ?? new Float32Array(channels);
  const inputs = [
    singleInput(layer),
    graph.addFloatInitializer(`${layer.name}_gamma`, [channels], gamma),
    graph.addFloatInitializer(`${layer.name}_beta`, [channels], beta),
    graph.addFloatInitializer(`${layer.name}_mean`, [channels], mean.data),
    graph.addFloatInitializer(`${layer.name}_variance`, [channels], variance.data),
  ];
  return [graph.add('BatchNormalization', inputs, layer.name, { epsilon: attr.float(configValue(layer, 'epsilon', 1e-3)) })];
};
