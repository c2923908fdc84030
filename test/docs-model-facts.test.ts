/**
 * Documents that cannot drift from the shipped model: where README.md, serve/README.md and predict/README.md quote the
 * default model's threshold, it is the card's (models/isbi2012-unet.json), and the card inside the
 * ONNX file says the same; README.md's results table quotes the figures `emseg evaluate` and
 * `npm run bench:seeds` wrote beside the model (models/isbi2012-unet.metrics.json, .cells.json).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { modelCardFromMetadata, parseModelCardJson } from '../core/model-card.ts';
import { decodeOnnxModel, onnxMetadata } from '../core/onnx-model.ts';

const fourDecimals = (x: number): string => x.toFixed(4);
/** The numbers in the README row whose first cell starts with `label`, as written. */
function readmeRow(readme: string, label: string): string[] {
  const row = readme.split('\n').find((line) => line.startsWith(`| ${label}`));
  if (row === undefined) throw new Error(`README.md has no table row starting with "| ${label}"`);
  return row.split('|').slice(2, -1).map((cell) => cell.replaceAll('*', '').trim());
}

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

  it("README.md's results table and shift-suite means are the figures the commands wrote", () => {
    const readme = readFileSync('README.md', 'utf8');
    const metrics = JSON.parse(readFileSync('models/isbi2012-unet.metrics.json', 'utf8')) as {
      rows: { variant: string; vRand: number; vInfo: number; pixelError: number; dice: number; iou: number }[];
      shiftSuite: { meanOverShifts: Record<'plain' | 'tta', { vRand: number }> };
    };
    const cells = JSON.parse(readFileSync('models/isbi2012-unet.cells.json', 'utf8')) as { test: { labels: { vRand: number; vInfo: number } } };
    for (const [variant, label] of [['plain', 'plain'], ['tta', '8-fold']] as const) {
      const row = metrics.rows.find((r) => r.variant === variant);
      expect(row, `metrics.json has a ${variant} row`).toBeDefined();
      if (row === undefined) continue;
      expect(readmeRow(readme, label)).toEqual([row.vRand, row.vInfo, row.pixelError, row.dice, row.iou].map(fourDecimals));
    }
    expect(readmeRow(readme, 'cell labels').slice(0, 2)).toEqual([cells.test.labels.vRand, cells.test.labels.vInfo].map(fourDecimals));
    const shiftSentence = /plain V_rand \*\*(\d\.\d{4})\*\*, TTA (\d\.\d{4})/.exec(readme);
    expect(shiftSentence?.slice(1)).toEqual([metrics.shiftSuite.meanOverShifts.plain.vRand, metrics.shiftSuite.meanOverShifts.tta.vRand].map(fourDecimals));
  });

  it("README.md's training-time row quotes the runs' own records (crops and wall time of the three cycles)", () => {
    const readme = readFileSync('README.md', 'utf8');
    const row = readme.split('\n').find((line) => line.startsWith("| the shipped model's whole training run"));
    expect(row, "README.md: a row starting with \"| the shipped model's whole training run\"").toBeDefined();
    const runs = ['cycle1.train-config', 'cycle2.train-config', 'train-config'].map(
      (name) => JSON.parse(readFileSync(`models/isbi2012-unet.${name}.json`, 'utf8')) as { cropsSeen: number; wallTimeSeconds: number },
    );
    const crops = runs.reduce((sum, run) => sum + run.cropsSeen, 0);
    const seconds = runs.reduce((sum, run) => sum + run.wallTimeSeconds, 0);
    expect(row).toContain(`${crops.toLocaleString('en-US')} crops`);
    expect(row).toContain(`${Math.round(seconds).toLocaleString('en-US')} s`);
    // The card counts the same crops through its chain of parents.
    expect(card.training?.['cropsSeenWithAncestors']).toBe(crops);
  });
});
