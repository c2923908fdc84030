/**
 * The exported U-Net also runs in onnxruntime-web (wasm, as the web demo uses it), with the
 * same result as onnxruntime-node: the converter emits nothing the browser runtime lacks.
 */
import { describe, expect, it } from 'vitest';
import * as ortWeb from 'onnxruntime-web';
import { createCpuSession, maxAbsDifference, randomInput, runOnnx } from '../convert/parity.ts';
import { tinyUNetOnnx } from './helpers/tiny-unet-onnx.ts';

describe('exported models in onnxruntime-web', () => {
  it('give the same probabilities as onnxruntime-node', async () => {
    ortWeb.env.wasm.numThreads = 1;
    const { bytes } = await tinyUNetOnnx({ depth: 3, baseFilters: 4, batchNorm: true, dropout: 0.3 });
    const input = randomInput('1x64x96', [1, 1, 64, 96], 12);
    const web = await ortWeb.InferenceSession.create(bytes, { executionProviders: ['wasm'] });
    const webOutput = (await web.run({ image: new ortWeb.Tensor('float32', input.data, input.shape) }))['probability']!;
    expect(webOutput.dims).toEqual([1, 1, 64, 96]);
    const node = await createCpuSession(bytes);
    const nodeOutput = await runOnnx(node, input);
    await node.release();
    await web.release();
    expect(maxAbsDifference(webOutput.data as Float32Array, nodeOutput.data)).toBeLessThan(1e-5);
  });
});
