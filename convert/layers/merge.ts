/** Merge layers: Concatenate (axis mapped to NCHW), Add, Multiply, Average, Maximum, Minimum. */
import { attr } from '../onnx-graph.ts';
import { configValue, nchwAxis, requireRank4, unsupported, type LayerConverter } from '../layer-converter.ts';

export const convertConcatenate: LayerConverter = (layer, graph) => {
  requireRank4(layer);
  const axis = nchwAxis(layer, configValue(layer, 'axis', -1));
  return [graph.add('Concat', layer.inputs, layer.name, { axis: attr.int(axis) })];
};

/** A binary ONNX op folded over the inputs left to right (Add(Add(a, b), c)). */
function folded(opType: string): LayerConverter {
  return (layer, graph) => {
    requireRank4(layer);
    if (layer.inputs.length < 2) unsupported(layer, `expected at least two inputs, found ${layer.inputs.length}`);
    let result = layer.inputs[0]!;
    for (let index = 1; index < layer.inputs.length; index++) {
      const last = index === layer.inputs.length - 1;
      result = graph.add(opType, [result, layer.inputs[index]!], last ? layer.name : `${layer.name}_${index}`);
    }
    return [result];
  };
}

/** A variadic ONNX op (Mean, Max, Min). */
function variadic(opType: string): LayerConverter {
  return (layer, graph) => {
    requireRank4(layer);
    if (layer.inputs.length < 2) unsupported(layer, `expected at least two inputs, found ${layer.inputs.length}`);
    return [graph.add(opType, layer.inputs, layer.name)];
  };
}

export const convertAdd = folded('Add');
export const convertMultiply = folded('Mul');
export const convertAverage = variadic('Mean');
export const convertMaximum = variadic('Max');
export const convertMinimum = variadic('Min');
