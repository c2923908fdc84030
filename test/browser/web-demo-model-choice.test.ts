/**
 * Which model file the web demo runs (web-demo/src/model-choice.ts, no browser): the int8
 * variant on WASM when the build has one, the float model on WebGPU and in builds without one,
 * `?precision` forcing either, the switch offered, and the line the page shows.
 */
import { describe, expect, it } from 'vitest';
import type { ModelCard } from '../../core/contract.ts';
import type { ShippedModel } from '../../web-demo/build.ts';
import { chooseModel, describeModel, type ModelEntry } from '../../web-demo/src/model-choice.ts';

function shipped(name: string, bytes: number, threshold: number): ShippedModel {
  const card = { name, version: '0.3.1', threshold, tile: 256, halo: 32 } as unknown as ModelCard;
  return { file: `model/${name}.onnx`, bytes, sha256: name.length.toString(16).padStart(64, '0'), card };
}

const float = shipped('net', 7_775_392, 0.4);
const int8 = shipped('net.int8', 2_016_930, 0.45);
const withInt8: ModelEntry = { ...float, int8 };
const floatOnly: ModelEntry = { ...float, int8: null };

describe('web demo model choice', () => {
  it('runs the int8 variant on WASM by default, and offers the float model', () => {
    const choice = chooseModel(withInt8, 'wasm', 'auto');
    expect(choice).toEqual({ model: int8, precision: 'int8', alternative: 'fp32', note: undefined });
    // Its own card: threshold, tile and halo of the file that runs.
    expect(choice.model.card.threshold).toBe(0.45);
  });

  it('runs the float model on WebGPU by default, with no int8 switch', () => {
    expect(chooseModel(withInt8, 'webgpu', 'auto')).toEqual({ model: float, precision: 'fp32', alternative: undefined, note: undefined });
  });

  it('?precision forces either model and the switch offers the other', () => {
    expect(chooseModel(withInt8, 'wasm', 'fp32')).toEqual({ model: float, precision: 'fp32', alternative: 'int8', note: undefined });
    expect(chooseModel(withInt8, 'wasm', 'int8')).toMatchObject({ model: int8, precision: 'int8', alternative: 'fp32' });
    expect(chooseModel(withInt8, 'webgpu', 'int8')).toMatchObject({ model: int8, precision: 'int8', alternative: 'fp32' });
    expect(chooseModel(withInt8, 'webgpu', 'fp32')).toMatchObject({ model: float, precision: 'fp32', alternative: undefined });
  });

  it('without an int8 variant: the float model everywhere, no switch, a note when int8 was asked for', () => {
    for (const provider of ['wasm', 'webgpu'] as const) {
      expect(chooseModel(floatOnly, provider, 'auto')).toEqual({ model: float, precision: 'fp32', alternative: undefined, note: undefined });
      expect(chooseModel(floatOnly, provider, 'fp32').note).toBeUndefined();
      expect(chooseModel(floatOnly, provider, 'int8')).toEqual({
        model: float,
        precision: 'fp32',
        alternative: undefined,
        note: '?precision=int8: this build has no int8 model; running the float model',
      });
    }
    // The float entry comes back without the int8 field.
    expect(Object.keys(chooseModel(floatOnly, 'wasm', 'auto').model).sort()).toEqual(['bytes', 'card', 'file', 'sha256']);
  });

  it('names the file, its card name@version and the precision', () => {
    const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;
    expect(describeModel(chooseModel(withInt8, 'wasm', 'auto'), mib)).toBe('net.int8@0.3.1, int8 (model/net.int8.onnx, 1.9 MiB)');
    expect(describeModel(chooseModel(withInt8, 'wasm', 'fp32'), mib)).toBe('net@0.3.1, float (model/net.onnx, 7.4 MiB)');
  });
});
