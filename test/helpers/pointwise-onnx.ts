/**
 * A pointwise "model" as an ONNX file, for tests that need cell-like probabilities from the real
 * command (spawned `emseg predict`): probability = sigmoid(gain x the normalized intensity), so
 * bright regions are cell interior and dark lines membranes. The model contract's input and output
 * names and shapes; the contract's default card in the metadata.
 *
 *   const path = pointwiseOnnx(4);
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { INPUT_NAME, OUTPUT_NAME } from '../../core/contract.ts';
import { defaultModelCard, modelCardMetadata } from '../../core/model-card.ts';
import { encodeOnnxModel, GraphBuilder } from '../../convert/onnx-graph.ts';
import { tempDir } from './temp-dir.ts';

export function pointwiseOnnx(gain = 4): string {
  const graph = new GraphBuilder();
  const shape = ['N', 1, 'H', 'W'];
  const input = graph.addInput(INPUT_NAME, shape);
  const scale = graph.addFloatInitializer('gain', [], [gain]);
  const scaled = graph.add('Mul', [input, scale], 'scale');
  const output = graph.add('Sigmoid', [scaled], OUTPUT_NAME);
  if (output !== OUTPUT_NAME) throw new Error(`pointwise model: output named ${output}, expected ${OUTPUT_NAME}`);
  graph.addOutput(output, shape);
  const card = { ...defaultModelCard('pointwise'), version: '1', description: 'sigmoid(gain x input), for tests only.' };
  const bytes = encodeOnnxModel(graph, { graphName: 'pointwise', metadata: modelCardMetadata(card) });
  const path = join(tempDir('emseg-pointwise-'), 'pointwise.onnx');
  writeFileSync(path, bytes);
  return path;
}
