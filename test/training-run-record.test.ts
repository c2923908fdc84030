/**
 * core/training-run.ts: a training run's config.json read through one schema, by one reader
 * (node/training-run-file.ts) for `emseg train --resume`, `emseg convert` and `emseg evaluate`. The
 * records emseg train writes (today's and the shipped model's) pass; a bad field is one line naming
 * the file and the field; the kept validation is read in today's names whichever names it was
 * written with.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import onnxProto from 'onnx-proto';
import { afterAll, describe, expect, it } from 'vitest';
import { mergeWithSavedConfig } from '../cli/commands/train.ts';
import { readTrainingInfo } from '../convert/training-info.ts';
import { parseTrainingRun, parseTrainingRunJson, sliceListText } from '../core/training-run.ts';
import { trainingSummary } from '../evaluate/training-run.ts';
import { sha256Hex } from '../node/sha256.ts';
import { readTrainingRun } from '../node/training-run-file.ts';
import { resolveTrainConfig } from '../train/config.ts';

const shipped = 'models/isbi2012-unet.train-config.json';

describe('the training run record', () => {
  it("reads the shipped model's record, with its kept validation", () => {
    const run = parseTrainingRunJson(readFileSync(shipped, 'utf8'), shipped);
    expect(run.trainingPixelSize).toBe(4);
    expect(run.config?.model).toMatchObject({ depth: 4, baseFilters: 16, batchNorm: false });
    expect(run.best?.step).toBeGreaterThan(0);
    expect(run.best?.vRandBest).toBeGreaterThanOrEqual(run.best?.vRand ?? 1);
    const summary = trainingSummary(run);
    expect(summary.split).toEqual({ train: '0-22', validation: '23-26' });
    expect(summary.architecture).toBe('U-Net depth 4, 16 base filters, batch norm off, dropout 0');
  });

  it('names the file and every bad field in one line', () => {
    const bad = { config: { model: { depth: '4', baseFilters: 16, batchNorm: false, dropout: 0 } }, stepsDone: -1, best: { vRand: 0.9 } };
    expect(() => parseTrainingRun(bad, 'runs/x/config.json')).toThrow(
      'runs/x/config.json: not a training run record of emseg train: stepsDone: expected an integer >= 0, found -1; best.step: expected a number, found nothing; config.model.depth: expected a number, found "4"',
    );
    expect(() => parseTrainingRunJson('{"status": ', 'runs/y/config.json')).toThrow(/^runs\/y\/config\.json: not valid JSON/);
    expect(() => parseTrainingRun([1, 2], 'z.json')).toThrow('z.json: not a training run record of emseg train: expected a JSON object, found [1,2]');
  });

  it('reads a validation line of the older names in today\'s, keeping unknown fields', () => {
    const run = parseTrainingRun({ best: { step: 10, vRand: 0.9, vInfo: 0.95, threshold: 0.7, atThreshold: 0.5, vRandAtThreshold: 0.88, vInfoAtThreshold: 0.94 }, extra: { kept: true } }, 'old.json');
    expect(run.best).toEqual({ step: 10, vRandBest: 0.9, vInfoBest: 0.95, bestThreshold: 0.7, threshold: 0.5, vRand: 0.88, vInfo: 0.94 });
    expect(run['extra']).toEqual({ kept: true });
    const today = parseTrainingRun({ best: { step: 3, vRandBest: 0.9, bestThreshold: 0.6, threshold: 0.5, vRand: 0.8 } }, 'new.json');
    expect(today.best).toEqual({ step: 3, vRandBest: 0.9, bestThreshold: 0.6, threshold: 0.5, vRand: 0.8 });
  });

  it('writes slice lists of either spelling as text', () => {
    expect(sliceListText('0-24')).toBe('0-24');
    expect(sliceListText([0, 1, 2, 5])).toBe('0-2,5');
  });

  describe('read from disk by one reader, for train --resume and convert', () => {
    const root = mkdtempSync(join(tmpdir(), 'emseg-run-record-'));
    afterAll(() => rmSync(root, { recursive: true, force: true }));
    const good = () => ({ command: 'emseg train --steps 20', split: { train: '0-3', validation: '4-5' }, config: resolveTrainConfig({ steps: 20, model: { baseFilters: 8 } }) });
    /** A run folder whose config.json is `record` (an object, or raw text). */
    const runWith = (name: string, record: unknown) => {
      const outDir = join(root, name);
      mkdirSync(outDir, { recursive: true });
      writeFileSync(join(outDir, 'config.json'), typeof record === 'string' ? record : JSON.stringify(record));
      return { outDir, path: join(outDir, 'config.json') };
    };
    const resume = (outDir: string) => () => mergeWithSavedConfig({ outDir, resume: true });
    const convert = (path: string) => () => readTrainingInfo(path);

    it('reads a good record for both', () => {
      const { outDir, path } = runWith('good', good());
      expect(resolveTrainConfig(mergeWithSavedConfig({ outDir, resume: true })).model.baseFilters).toBe(8);
      expect(readTrainingInfo(path)).toMatchObject({ command: 'emseg train --steps 20', split: { train: [0, 1, 2, 3], validation: [4, 5] }, steps: 20 });
      expect(readTrainingRun(path).config?.steps).toBe(20);
    });

    it('names every run of a chain of --init runs, with the crops of all of them, when the parents are there', () => {
      // A parent is an ONNX file (here an empty graph) with its card beside it, as convert writes them.
      const shipped = JSON.parse(readFileSync('models/isbi2012-unet.json', 'utf8')) as Record<string, unknown>;
      delete shipped['sha256'];
      const parentFile = (name: string, training: Record<string, unknown>) => {
        const path = join(root, `${name}.onnx`);
        const bytes = onnxProto.onnx.ModelProto.encode({ irVersion: 8, graph: { name } }).finish();
        writeFileSync(path, bytes);
        writeFileSync(join(root, `${name}.json`), JSON.stringify({ ...shipped, name, training: { data: 'isbi', split: { train: [0], validation: [1] }, ...training } }));
        return { name, sha256: sha256Hex(bytes), path };
      };
      const first = parentFile('cycle1', { command: 'emseg train --steps 30', cropsSeen: 120, steps: 30 });
      const second = parentFile('cycle2', { command: 'emseg train --init cycle1.onnx --steps 20', cropsSeen: 80, parent: first });
      const { path } = runWith('cycle3', { ...good(), cropsSeen: 80, parent: second });
      const info = readTrainingInfo(path)!;
      expect(info.parent).toMatchObject({ name: 'cycle2', training: { command: 'emseg train --init cycle1.onnx --steps 20', cropsSeen: 80, parent: { name: 'cycle1', training: { cropsSeen: 120, steps: 30 } } } });
      expect(info['cropsSeenWithAncestors']).toBe(280);

      // A parent whose file changed since (another sha256) is named as recorded, and no total is made up.
      const moved = runWith('cycle3-stale', { ...good(), cropsSeen: 80, parent: { ...second, sha256: '0'.repeat(64) } });
      const stale = readTrainingInfo(moved.path)!;
      expect(stale.parent).toEqual({ ...second, sha256: '0'.repeat(64) });
      expect(stale['cropsSeenWithAncestors']).toBeUndefined();
    });

    it('refuses a malformed record in one line naming the file and the bad field', () => {
      const record = good();
      const bad = runWith('bad-depth', { ...record, config: { ...record.config, model: { ...record.config.model, depth: '4' } } });
      const field = `${bad.path}: not a training run record of emseg train: config.model.depth: expected a number, found "4"`;
      for (const read of [resume(bad.outDir), convert(bad.path), () => readTrainingRun(bad.path)]) {
        expect(read).toThrow(field);
        expect(read).toThrow(expect.objectContaining({ code: 'E_CORRUPT' }));
      }
      const text = runWith('not-json', '{"config": ');
      for (const read of [resume(text.outDir), convert(text.path)]) expect(read).toThrow(`${text.path}: not valid JSON`);
    });

    it('refuses, on resume, saved options that are not train options, and a record without options', () => {
      const record = good();
      const loss = runWith('bad-loss', { ...record, config: { ...record.config, loss: { bce: 'x', dice: 1 } } });
      expect(resume(loss.outDir)).toThrow(`${loss.path}: not a training run record of emseg train: config.loss.bce (--bce-weight): expected a number`);
      const none = runWith('no-config', { command: 'emseg train' });
      expect(resume(none.outDir)).toThrow(`${none.path}: not a training run record of emseg train: config: expected the run's options, found nothing`);
      expect(() => readTrainingRun(join(root, 'absent', 'config.json'))).toThrow(`${join(root, 'absent', 'config.json')}: no such file`);
    });
  });
});
