/**
 * Every part reads a model card through one reader, node/model-card-file.ts findModelCard, over
 * core/model-card.ts's schema: the server and predict (node/load-onnx-model.ts loadOnnxModel),
 * export-package, the web demo build, `emseg train --init` and `emseg quantize` each refuse a bad
 * card, in the ONNX metadata or in the JSON beside, with one E_MODEL line naming the file and the
 * field. The reader itself: which copy wins, a card of another file, a --card that does not exist.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import onnxProto from 'onnx-proto';
import { beforeAll, describe, expect, it } from 'vitest';
import { MODEL_CARD_METADATA_KEY, type ModelCard } from '../core/contract.ts';
import { readModelCard } from '../convert/export-package.ts';
import { quantizeModel } from '../convert/quantize/quantize-model.ts';
import { findModelCard } from '../node/model-card-file.ts';
import { loadOnnxModel } from '../node/load-onnx-model.ts';
import { readParentModel } from '../train/init-from-onnx.ts';
import { resolveUNetOptions } from '../train/unet.ts';
import { buildWebDemo } from '../web-demo/build.ts';
import { tinyUNetOnnx, type TinyUNetOnnx } from './helpers/tiny-unet-onnx.ts';
import { tempDir } from './helpers/temp-dir.ts';

const { onnx } = onnxProto;
const BAD_THRESHOLD = /bad model card: threshold: expected a number in \[0, 1\], found 3$/;

/** `bytes` with the card in the metadata replaced (JSON text) or removed (undefined). */
function withMetadataCard(bytes: Uint8Array, json: string | undefined): Uint8Array {
  const model = onnx.ModelProto.decode(bytes);
  model.metadataProps = model.metadataProps.filter((entry) => entry.key !== MODEL_CARD_METADATA_KEY);
  if (json !== undefined) model.metadataProps.push(onnx.StringStringEntryProto.create({ key: MODEL_CARD_METADATA_KEY, value: json }));
  return onnx.ModelProto.encode(model).finish();
}

describe('the one model card reader', () => {
  const dir = tempDir('emseg-card-reader-');
  let tiny: TinyUNetOnnx;
  let card: ModelCard;
  const write = (name: string, content: Uint8Array | string) => {
    writeFileSync(join(dir, name), content);
    return join(dir, name);
  };

  beforeAll(async () => {
    tiny = await tinyUNetOnnx({ depth: 2, baseFilters: 4 });
    const { sha256: _none, ...withoutHash } = tiny.card;
    card = withoutHash;
  });

  // A U-Net of the contract (so that train --init gets as far as the card) with a bad card in one copy.
  const badCopies = () => {
    const inMetadata = write('bad-metadata.onnx', withMetadataCard(tiny.bytes, JSON.stringify({ ...card, threshold: 3 })));
    const inFile = write('bad-file.onnx', withMetadataCard(tiny.bytes, undefined));
    write('bad-file.json', JSON.stringify({ ...card, threshold: 3 }));
    return [
      { path: inMetadata, names: /bad-metadata\.onnx metadata emseg\.model_card: / },
      { path: inFile, names: /bad-file\.json: / },
    ];
  };

  it('is the reader of the server and predict (loadOnnxModel)', async () => {
    for (const { path, names } of badCopies()) {
      const attempt = loadOnnxModel(path, { providers: 'cpu' });
      await expect(attempt, path).rejects.toMatchObject({ code: 'E_MODEL' });
      await expect(attempt, path).rejects.toThrow(names);
      await expect(attempt, path).rejects.toThrow(BAD_THRESHOLD);
    }
  });

  it('is the reader of export-package', async () => {
    for (const { path, names } of badCopies()) {
      const attempt = readModelCard(path, new Uint8Array(readFileSync(path)));
      await expect(attempt, path).rejects.toThrow(names);
      await expect(attempt, path).rejects.toThrow(BAD_THRESHOLD);
    }
  });

  it('is the reader of the web demo build, which refuses before building anything', async () => {
    for (const { path, names } of badCopies()) {
      const attempt = buildWebDemo({ outDir: join(dir, 'demo'), model: path, int8: false });
      await expect(attempt, path).rejects.toMatchObject({ code: 'E_MODEL' });
      await expect(attempt, path).rejects.toThrow(names);
      await expect(attempt, path).rejects.toThrow(BAD_THRESHOLD);
    }
  });

  it('is the reader of emseg train --init (which used to take the metadata unchecked)', () => {
    for (const { path, names } of badCopies()) {
      const attempt = () => readParentModel(path, resolveUNetOptions({ depth: 2, baseFilters: 4 }));
      expect(attempt, path).toThrow(names);
      expect(attempt, path).toThrow(BAD_THRESHOLD);
    }
  });

  it('is the reader of emseg quantize, which refuses before calibrating', async () => {
    const source = { label: 'no slices', pageCount: 1, read: () => Promise.reject(new Error('read a slice before checking the card')) };
    for (const { path, names } of badCopies()) {
      const attempt = quantizeModel({ model: path, output: join(dir, 'q.int8.onnx'), source, slices: [0] });
      await expect(attempt, path).rejects.toMatchObject({ code: 'E_MODEL' });
      await expect(attempt, path).rejects.toThrow(names);
      await expect(attempt, path).rejects.toThrow(BAD_THRESHOLD);
    }
  });

  it('takes the preferred copy, refuses a card of another file and a named card file that does not exist', () => {
    const bytes = withMetadataCard(tiny.bytes, JSON.stringify({ ...card, name: 'inside' }));
    const path = write('both.onnx', bytes);
    write('both.json', JSON.stringify({ ...card, name: 'beside' }));
    expect(findModelCard(path, bytes)).toMatchObject({ source: 'metadata', path, card: { name: 'inside' } });
    expect(findModelCard(path, bytes, { prefer: 'file' })).toMatchObject({ source: 'file', path: join(dir, 'both.json'), card: { name: 'beside' } });
    const bare = withMetadataCard(tiny.bytes, undefined);
    expect(findModelCard(write('bare.onnx', bare), bare)).toBeUndefined();

    write('both.json', JSON.stringify({ ...card, name: 'beside', sha256: 'f'.repeat(64) }));
    expect(() => findModelCard(path, bytes, { prefer: 'file' })).toThrow(/both\.json: the card's sha256 ffffffffffff\.\.\. does not match .*both\.onnx/);
    expect(() => findModelCard(path, bytes, { cardPath: join(dir, 'absent.json') })).toThrow(/absent\.json: no such model card file/);
  });
});
