/**
 * Documents that cannot drift from the shipped model: where README.md, serve/README.md and predict/README.md quote the
 * default model's threshold, it is the card's (models/isbi2012-unet.json), and the card inside the
 * ONNX file says the same.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { modelCardFromMetadata, parseModelCardJson } from '../core/model-card.ts';
import { decodeOnnxModel, onnxMetadata } from '../core/onnx-model.ts';

const card = parseModelCardJson(readFileSync('models/isbi2012-unet.json', 'utf8'), 'models/isbi2012-unet.json');

describe('documents quoting the shipped model', () => {
  it("README.md's test figures are at the card's threshold", () => {
    const readme = readFileSync('README.md', 'utf8');
    const quoted = [...readme.matchAll(/at the threshold (\d(?:\.\d+)?) chosen on slices/g)].map((m) => Number(m[1]));
    expect(quoted.length).toBeGreaterThan(0);
    for (const t of quoted) expect(t).toBe(card.threshold);
  });

  it.each(['serve/README.md', 'predict/README.md'])('%s names no other threshold for the shipped model', (readme) => {
    const text = readFileSync(readme, 'utf8');
    for (const m of text.matchAll(/(\d(?:\.\d+)?) for `models\/isbi2012-unet\.onnx`/g)) expect(Number(m[1])).toBe(card.threshold);
  });

  it('the ONNX file carries the same card', () => {
    const inside = modelCardFromMetadata(onnxMetadata(decodeOnnxModel(readFileSync('models/isbi2012-unet.onnx'), 'shipped model')), 'shipped model');
    expect(inside?.threshold).toBe(card.threshold);
    expect(inside?.tta).toBe(card.tta);
  });
});
