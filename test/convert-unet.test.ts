/**
 * The project's U-Net (train/unet.ts) exported to ONNX equals tfjs within 1e-4 on several sizes,
 * with and without batch normalization, and follows the model contract (names, NCHW, dynamic
 * N/H/W, IR 8, opset 17, model card in the metadata); the file passes the ONNX checker.
 */
import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { INPUT_NAME, MODEL_CARD_METADATA_KEY, ONNX_IR_VERSION, ONNX_OPSET, OUTPUT_NAME } from '../core/contract.ts';
import { readOnnxMetadata, readOnnxSignature } from '../convert/onnx-graph.ts';
import { compareModels, createCpuSession, randomInput } from '../convert/parity.ts';
import { checkOnnxFile } from '../convert/onnx-checker.ts';
import { tinyUNetOnnx } from './helpers/tiny-unet-onnx.ts';
import { expectCheckerPasses } from './helpers/onnx-checker-expect.ts';
import onnxProto from 'onnx-proto';

describe('U-Net export', () => {
  for (const batchNorm of [false, true]) {
    it(`matches tfjs within 1e-4 on 64, 256, 512 and 96x160 (depth 4, batchNorm ${batchNorm})`, async () => {
      const { path, bytes, model } = await tinyUNetOnnx({ depth: 4, baseFilters: 4, batchNorm, seed: batchNorm ? 11 : 5 });
      const session = await createCpuSession(bytes);
      const sizes: [number, number, number][] = [
        [2, 64, 64],
        [1, 256, 256],
        [1, 96, 160],
        ...(batchNorm ? [] : ([[1, 512, 512]] as [number, number, number][])),
      ];
      const report = await compareModels(
        tf,
        model,
        session,
        sizes.map(([n, h, w], index) => randomInput(`${n}x${h}x${w}`, [n, 1, h, w], 100 + index)),
      );
      for (const result of report.results) expect(result.maxAbsDiff, result.label).toBeLessThan(1e-4);
      // Outputs are probabilities, so a broken graph would differ by far more than the tolerance.
      expect(report.results).toHaveLength(sizes.length);
      await session.release();
      expectCheckerPasses(checkOnnxFile(path));
    });
  }

  it('is NCHW throughout: only compute ops, no Transpose, no Dropout, no Identity', async () => {
    const { bytes } = await tinyUNetOnnx({ batchNorm: true, dropout: 0.5 });
    const ops = new Set((onnxProto.onnx.ModelProto.decode(bytes).graph?.node ?? []).map((node) => node.opType));
    expect([...ops].sort()).toEqual(['BatchNormalization', 'Concat', 'Conv', 'ConvTranspose', 'MaxPool', 'Relu', 'Sigmoid']);
  });

  it('follows the contract: names, NCHW with dynamic N/H/W, IR 8, opset 17, card in metadata', async () => {
    const { bytes, card } = await tinyUNetOnnx();
    const signature = readOnnxSignature(bytes);
    expect(signature.irVersion).toBe(ONNX_IR_VERSION);
    expect(signature.opset).toBe(ONNX_OPSET);
    expect(signature.inputs).toEqual([{ name: INPUT_NAME, shape: ['N', 1, 'H', 'W'] }]);
    expect(signature.outputs).toEqual([{ name: OUTPUT_NAME, shape: ['N', 1, 'H', 'W'] }]);
    const metadataCard = JSON.parse(readOnnxMetadata(bytes)[MODEL_CARD_METADATA_KEY]!);
    expect(metadataCard.architecture).toEqual(card.architecture);
    expect(metadataCard.architecture).toMatchObject({ depth: 2, baseFilters: 4, batchNorm: false });
    expect(metadataCard.contract.input.sizeMultiple).toBe(4);
    expect(metadataCard.sha256).toBeUndefined();
  });
});
