// train/init-from-onnx.ts: an engine started from an ONNX file predicts, at step 0, what
// onnxruntime predicts with that file; files off the contract or of another architecture are one
// clear EmsegError each.
import { describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import * as ort from 'onnxruntime-node';
import onnxProto from 'onnx-proto';
import { trainingPixelSizeOf } from '../core/card-options.ts';
import { createTrainingEngine } from '../train/engine.ts';
import { loadParentWeights, readParentModel } from '../train/init-from-onnx.ts';
import { resolveUNetOptions } from '../train/unet.ts';
import { tinyUNetOnnx } from './helpers/tiny-unet-onnx.ts';

async function onnxPredict(path: string, images: Float32Array, n: number, size: number): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(path);
  try {
    const out = await session.run({ image: new ort.Tensor('float32', images, [n, 1, size, size]) });
    return out['probability']!.data as Float32Array;
  } finally {
    await session.release();
  }
}

const maxAbsDiff = (a: Float32Array, b: Float32Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);

describe('emseg train --init', () => {
  for (const batchNorm of [false, true]) {
    it(`reproduces the parent's ONNX predictions at step 0 (batch norm ${batchNorm})`, async () => {
      const tiny = await tinyUNetOnnx({ depth: 2, baseFilters: 4, batchNorm, seed: 3 });
      const model = resolveUNetOptions({ depth: 2, baseFilters: 4, batchNorm, seed: 99 });
      const parent = readParentModel(tiny.path, model);
      expect(parent.info.name).toBe(tiny.card.name);
      expect(parent.info.sha256).toMatch(/^[0-9a-f]{64}$/);
      const engine = await createTrainingEngine({ backend: 'cpu', workers: 1, model, seed: 99 });
      try {
        const n = 2;
        const size = 32;
        const images = Float32Array.from({ length: n * size * size }, (_, i) => Math.sin(i / 5) + 0.3 * Math.cos(i / 17));
        const before = await engine.predict(images, n, size, size);
        const expected = await onnxPredict(tiny.path, images, n, size);
        // The random initialization differs from the parent (so the test can fail)...
        expect(maxAbsDiff(before, expected)).toBeGreaterThan(1e-3);
        await loadParentWeights(engine, parent);
        expect(engine.stepCount).toBe(0);
        // ...and the loaded one reproduces it.
        expect(maxAbsDiff(await engine.predict(images, n, size, size), expected)).toBeLessThan(1e-5);
      } finally {
        await engine.dispose();
      }
    });
  }

  it('refuses another depth or filter count, naming both', async () => {
    const tiny = await tinyUNetOnnx({ depth: 2, baseFilters: 4 });
    expect(() => readParentModel(tiny.path, resolveUNetOptions({ depth: 3, baseFilters: 4 }))).toThrow(
      /--init .*: the model has depth 2, 4 base filters, no batch norm, but depth 3, 4 base filters, no batch norm was asked; pass --depth 2 --filters 4$/,
    );
    expect(() => readParentModel(tiny.path, resolveUNetOptions({ depth: 2, baseFilters: 8 }))).toThrow(/the model has depth 2, 4 base filters/);
    expect(() => readParentModel(tiny.path, resolveUNetOptions({ depth: 2, baseFilters: 4, batchNorm: true }))).toThrow(/pass --depth 2 --filters 4$/);
  });

  it('refuses files that are not emseg U-Nets, one line each', async () => {
    const tiny = await tinyUNetOnnx({ depth: 2, baseFilters: 4 });
    const folder = dirname(tiny.path);
    const asked = resolveUNetOptions({ depth: 2, baseFilters: 4 });
    const notOnnx = join(folder, 'not.onnx');
    writeFileSync(notOnnx, 'this is not a protobuf at all \u0000\u00ff');
    expect(() => readParentModel(notOnnx, asked)).toThrow(/--init .*not\.onnx: not an ONNX model/);
    expect(() => readParentModel(join(folder, 'missing.onnx'), asked)).toThrow(/no such file/);

    const { onnx } = onnxProto;
    const renamed = onnx.ModelProto.decode(tiny.bytes);
    renamed.graph!.input![0]!.name = 'input_1';
    const renamedPath = join(folder, 'renamed.onnx');
    writeFileSync(renamedPath, onnx.ModelProto.encode(renamed).finish());
    expect(() => readParentModel(renamedPath, asked)).toThrow(/does not follow the emseg model contract \(expected input 'image'/);

    const dropped = onnx.ModelProto.decode(tiny.bytes);
    dropped.graph!.initializer = dropped.graph!.initializer!.filter((t) => t.name !== 'dec1_conv2_bias');
    const droppedPath = join(folder, 'dropped.onnx');
    writeFileSync(droppedPath, onnx.ModelProto.encode(dropped).finish());
    const parent = readParentModel(droppedPath, asked);
    const engine = await createTrainingEngine({ backend: 'cpu', workers: 1, model: asked, seed: 1 });
    try {
      await expect(loadParentWeights(engine, parent)).rejects.toThrow(/no initializer dec1_conv2_bias for weight dec1_conv2\/bias/);
    } finally {
      await engine.dispose();
    }
  });

  it("reads the card's training.trainingPixelSize when the top level has none (issue 23, item 3)", () => {
    const parent = readParentModel('models/isbi2012-unet.onnx', resolveUNetOptions({ depth: 4, baseFilters: 16 }));
    expect(parent.info.trainingPixelSize).toBe(4);
    // Older cards record the field under `training` only (the shipped card before 0.4.0 did).
    const { trainingPixelSize: _topLevel, ...card } = parent.card!;
    expect(card.training?.['trainingPixelSize']).toBe(4);
    expect(trainingPixelSizeOf(card)).toBe(4);
  });
});
