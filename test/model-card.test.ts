import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { segmentOptionsFromCard } from '../core/card-options.ts';
import { MODEL_CARD_METADATA_KEY } from '../core/contract.ts';
import { defaultModelCard, modelCardFromMetadata, modelCardMetadata, parseModelCard, parseModelCardJson, type ModelCard } from '../core/model-card.ts';

const shipped = JSON.parse(readFileSync('models/isbi2012-unet.json', 'utf8')) as Record<string, unknown>;

/** A copy of the shipped card with one field (a dotted path) set to `value` (undefined deletes it). */
function withField(path: string, value: unknown): Record<string, unknown> {
  const copy = structuredClone(shipped);
  const keys = path.split('.');
  let node = copy as Record<string, unknown>;
  for (const key of keys.slice(0, -1)) node = node[key] as Record<string, unknown>;
  if (value === undefined) delete node[keys.at(-1)!];
  else node[keys.at(-1)!] = value;
  return copy;
}

describe('parseModelCard', () => {
  it('accepts the shipped card and the default card, keeping unknown fields', () => {
    const card = parseModelCard(shipped, 'shipped');
    expect(card.threshold).toBe(shipped['threshold']);
    expect((card.training as Record<string, unknown>)['status']).toBe('completed');
    expect(parseModelCard({ ...shipped, futureField: 'kept' }, 'x')).toMatchObject({ futureField: 'kept' });
    expect(parseModelCard(defaultModelCard('bare'), 'default').name).toBe('bare');
  });

  it.each([
    ['threshold', 1.5, 'threshold: expected a number in [0, 1], found 1.5'],
    ['threshold', undefined, 'threshold: expected a number in [0, 1], found nothing'],
    ['tile', 0, 'tile: expected an integer >= 1, found 0'],
    ['tile', 256.5, 'tile: expected an integer >= 1, found 256.5'],
    ['halo', -1, 'halo: expected an integer >= 0, found -1'],
    ['tta', 'yes', 'tta: expected true or false, found "yes"'],
    ['name', 3, 'name: expected a string, found 3'],
    ['contract.input.sizeMultiple', '16', 'contract.input.sizeMultiple: expected a number, found "16"'],
    ['architecture.depth', 0, 'architecture.depth: expected an integer >= 1, found 0'],
    ['training.split.validation', [25, -1], 'training.split.validation.1: expected an integer >= 0, found -1'],
    ['sha256', 'abc', 'sha256: expected 64 lowercase hex digits, found "abc"'],
  ])('refuses %s = %j with one line naming the field', (field, value, message) => {
    const attempt = () => parseModelCard(withField(field, value), 'm.json');
    expect(attempt).toThrow(`m.json: bad model card: ${message}`);
    try {
      attempt();
    } catch (error) {
      expect((error as Error).message).not.toContain('\n');
      expect((error as { code: string }).code).toBe('E_MODEL');
    }
  });

  it('names every bad field at once, and refuses text that is not a JSON object', () => {
    expect(() => parseModelCard({ ...shipped, tile: -2, halo: 'x' }, 'c')).toThrow(/tile: .*; halo: /);
    expect(() => parseModelCardJson('{not json', 'c.json')).toThrow('c.json: the model card is not valid JSON');
    expect(() => parseModelCardJson('[1]', 'c.json')).toThrow('c.json: the model card is not a JSON object');
  });

  it('round-trips through the ONNX metadata without the sha256', () => {
    const card = { ...parseModelCard(shipped, 'shipped'), sha256: 'a'.repeat(64) };
    const metadata = modelCardMetadata(card);
    expect(JSON.parse(metadata[MODEL_CARD_METADATA_KEY]!)).not.toHaveProperty('sha256');
    expect(modelCardFromMetadata(metadata, 'x.onnx')).toEqual({ ...card, sha256: undefined });
    expect(modelCardFromMetadata({}, 'x.onnx')).toBeUndefined();
    expect(() => modelCardFromMetadata({ [MODEL_CARD_METADATA_KEY]: '{"threshold": 2}' }, 'x.onnx')).toThrow(/x\.onnx metadata emseg\.model_card: bad model card: name: /);
  });
});

describe('segmentOptionsFromCard', () => {
  const card = parseModelCard(shipped, 'shipped') as ModelCard;
  it("gives the card's threshold, TTA, tile, halo and size multiple", () => {
    expect(segmentOptionsFromCard({ ...card, tile: 256, halo: 16, tta: true })).toEqual({ threshold: card.threshold, tta: true, tile: 256, halo: 16, sizeMultiple: 16 });
    expect(segmentOptionsFromCard({ ...card, tta: undefined }).tta).toBe(false);
  });
  it('lets defined overrides win and ignores undefined ones', () => {
    expect(segmentOptionsFromCard(card, { threshold: 0.3, tile: undefined, halo: 48, tileBatch: 2 })).toEqual({
      threshold: 0.3,
      tta: false,
      tile: 512,
      halo: 48,
      sizeMultiple: 16,
      tileBatch: 2,
    });
  });
});
