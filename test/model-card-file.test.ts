import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readModelCard } from '../convert/export-package.ts';
import { cardPathFor, readModelCardFile } from '../node/model-card-file.ts';
import { tempDir } from './helpers/temp-dir.ts';

const shipped = JSON.parse(readFileSync('models/isbi2012-unet.json', 'utf8')) as Record<string, unknown>;

describe('model card files', () => {
  const dir = tempDir('emseg-card-');

  it('finds the card beside the ONNX file', () => {
    expect(cardPathFor('models/isbi2012-unet.onnx')).toBe(join('models', 'isbi2012-unet.json'));
  });

  it('reads and checks a card file; a missing file is undefined', async () => {
    const path = join(dir, 'good.json');
    writeFileSync(path, JSON.stringify(shipped));
    expect((await readModelCardFile(path))?.threshold).toBe((shipped as { threshold: number }).threshold);
    expect(await readModelCardFile(join(dir, 'absent.json'))).toBeUndefined();
  });

  it('export-package checks the card as the server does (it used to cast it unchecked)', async () => {
    const onnx = join(dir, 'bad.onnx');
    writeFileSync(onnx, 'bytes');
    const { sha256: _sha, ...rest } = shipped;
    writeFileSync(join(dir, 'bad.json'), JSON.stringify({ ...rest, tile: '512' }));
    await expect(readModelCard(onnx, new Uint8Array(readFileSync(onnx)))).rejects.toThrow(/bad\.json: bad model card: tile: expected a number, found "512"$/);
  });
});
