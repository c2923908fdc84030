/**
 * loadOnnxModel's checks (node/load-onnx-model.ts): the model contract (input `image`, output
 * `probability`, float32 rank 4 with one channel), files that are not ONNX or missing, and where the
 * model card comes from (ONNX metadata, the JSON beside the file, or contract defaults with a warning).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import onnxProto from 'onnx-proto';
import { afterAll, describe, expect, it } from 'vitest';
import { loadOnnxModel } from '../node/load-onnx-model.ts';

const { onnx } = onnxProto;
const dir = mkdtempSync(join(tmpdir(), 'emseg-session-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

type Dim = number | string;

/** An Identity graph `input -> output` with the given names, element type and shape. */
function identityModel(input: string, output: string, shape: Dim[], elemType = 1, metadata: Record<string, string> = {}): Uint8Array {
  const valueInfo = (name: string) => ({
    name,
    type: {
      tensorType: {
        elemType,
        shape: { dim: shape.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  });
  const model = onnx.ModelProto.create({
    irVersion: 8,
    opsetImport: [{ domain: '', version: 17 }],
    producerName: 'emseg-test',
    graph: { name: 'identity', node: [{ opType: 'Identity', input: [input], output: [output] }], input: [valueInfo(input)], output: [valueInfo(output)] },
    metadataProps: Object.entries(metadata).map(([key, value]) => ({ key, value })),
  });
  return onnx.ModelProto.encode(model).finish();
}

function write(name: string, bytes: Uint8Array | string): string {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
}

describe('loadOnnxModel', () => {
  it('refuses a model that does not follow the contract, naming the file and what it has', async () => {
    const cases: [string, Uint8Array, RegExp][] = [
      ['names.onnx', identityModel('input_1', 'output_1', ['N', 1, 'H', 'W']), /names\.onnx: does not follow the model contract: expected input 'image', found input_1 float32 \[N, 1, H, W\]/],
      ['rank.onnx', identityModel('image', 'probability', ['N', 'H', 'W']), /rank\.onnx: .*expected input 'image' of rank 4 \[N, 1, H, W\], found image float32 \[N, H, W\]/],
      ['channels.onnx', identityModel('image', 'probability', ['N', 3, 'H', 'W']), /channels\.onnx: .*with 1 channel/],
      ['dtype.onnx', identityModel('image', 'probability', ['N', 1, 'H', 'W'], 11), /dtype\.onnx: .*of type float32, found image float64/],
      ['output.onnx', identityModel('image', 'prob', ['N', 1, 'H', 'W']), /output\.onnx: .*expected output 'probability', found prob/],
    ];
    for (const [name, bytes, pattern] of cases) {
      const attempt = loadOnnxModel(write(name, bytes), { providers: 'cpu' });
      await expect(attempt, name).rejects.toMatchObject({ code: 'E_MODEL' });
      await expect(attempt, name).rejects.toThrow(pattern);
    }
  });

  it('refuses a file that is not ONNX, and a missing file', async () => {
    await expect(loadOnnxModel(write('text.onnx', 'not a model at all'), { providers: 'cpu' })).rejects.toMatchObject({ code: 'E_MODEL', message: expect.stringContaining('text.onnx: not an ONNX model') });
    await expect(loadOnnxModel(join(dir, 'absent.onnx'), { providers: 'cpu' })).rejects.toMatchObject({ code: 'E_NOT_FOUND', message: expect.stringContaining('absent.onnx: no such model file') });
  });

  it('takes the card from the metadata, else from the JSON beside the file, else the defaults with a warning', async () => {
    const good = identityModel('image', 'probability', ['N', 1, 'H', 'W']);
    const warnings: string[] = [];
    const bare = await loadOnnxModel(write('bare.onnx', good), { providers: 'cpu', log: (m) => warnings.push(m) });
    expect(bare.cardSource).toBe('default');
    expect([bare.card.threshold, bare.card.tile, bare.card.halo, bare.card.contract.input.sizeMultiple]).toEqual([0.5, 512, 32, 16]);
    expect(warnings.join('\n')).toMatch(/bare\.onnx: no model card/);
    const x = Float32Array.from({ length: 2 * 8 * 4 }, (_, i) => i);
    expect(Array.from(await bare.predictor(x, 2, 8, 4))).toEqual(Array.from(x)); // identity: the predictor passes NCHW through
    await bare.close();

    const card = { ...bare.card, name: 'beside', threshold: 0.3, tile: 256, cardSource: undefined };
    write('beside.onnx', good);
    write('beside.json', JSON.stringify(card));
    const beside = await loadOnnxModel(join(dir, 'beside.onnx'), { providers: 'cpu' });
    expect([beside.cardSource, beside.card.name, beside.card.threshold, beside.card.tile]).toEqual(['file', 'beside', 0.3, 256]);
    await beside.close();

    const inside = await loadOnnxModel(write('inside.onnx', identityModel('image', 'probability', ['N', 1, 'H', 'W'], 1, { 'emseg.model_card': JSON.stringify({ ...card, name: 'inside', threshold: 0.7 }) })), { providers: 'cpu' });
    expect([inside.cardSource, inside.card.name, inside.card.threshold]).toEqual(['metadata', 'inside', 0.7]);
    await inside.close();

    const broken = write('broken-card.onnx', identityModel('image', 'probability', ['N', 1, 'H', 'W'], 1, { 'emseg.model_card': JSON.stringify({ ...card, threshold: 3 }) }));
    await expect(loadOnnxModel(broken, { providers: 'cpu' })).rejects.toThrow(/broken-card\.onnx metadata emseg\.model_card: bad model card: threshold: expected a number in \[0, 1\], found 3$/);
  });
});
