/**
 * `emseg train` as a command: options parsed into the config (only those given), --resume taking
 * the rest from the run's config.json, the progress line, and one-line errors for bad options.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'citty';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { runCli } from '../cli/run.ts';
import { trainCommandLine, configInputFromArgs, mergeWithSavedConfig, progressLine, trainArgs } from '../cli/commands/train.ts';
import { resolveTrainConfig } from '../train/config.ts';

const root = mkdtempSync(join(tmpdir(), 'emseg-train-cli-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const parse = (argv: string[]) => configInputFromArgs(parseArgs(argv, trainArgs) as never);

describe('emseg train options', () => {
  it('sets exactly the options given', () => {
    const config = resolveTrainConfig(parse(['--crops', '1000', '--batch-size', '8', '--no-border-weights', '--filters', '8', '--validation-slices', '27-29', '--train-slices', '0-9']));
    expect(config.steps).toBe(125);
    expect(config.batchSize).toBe(8);
    expect(config.borderWeights.enabled).toBe(false);
    expect(config.augment).toBe(true);
    expect(config.model.baseFilters).toBe(8);
    expect(config.model.depth).toBe(4);
    expect(config.validationSlices).toEqual([27, 28, 29]);
    expect(config.trainSlices).toHaveLength(10);
  });

  it('resumes with the saved options, overridden by those given, never inheriting the time budget', () => {
    const outDir = join(root, 'run');
    mkdirSync(outDir, { recursive: true });
    const saved = resolveTrainConfig({ outDir, steps: 300, cropSize: 128, maxMinutes: 5, model: { baseFilters: 8 }, borderWeights: { enabled: false } });
    writeFileSync(join(outDir, 'config.json'), JSON.stringify({ command: 'emseg train ...', config: saved }));
    const merged = resolveTrainConfig(mergeWithSavedConfig(parse(['--out', outDir, '--resume', '--validate-every', '7'])));
    expect(merged).toMatchObject({ steps: 300, cropSize: 128, maxMinutes: null, validateEvery: 7, resume: true, outDir });
    expect(merged.model.baseFilters).toBe(8);
    expect(merged.borderWeights.enabled).toBe(false);
    expect(() => mergeWithSavedConfig(parse(['--out', join(root, 'none'), '--resume']))).toThrow(/--resume: .*config.json does not exist/);
  });

  it('draws a progress line with step, loss, crops/s and ETA', () => {
    const line = progressLine({ type: 'step', step: 50, totalSteps: 200, loss: 0.41234, lr: 1e-3, cropsSeen: 200, cropsPerSecond: 2.5, elapsedSeconds: 80, etaSeconds: 3725 }, 20);
    expect(line).toBe('[#####...............] 50/200 loss 0.4123 lr 1.00e-3 2.50 crops/s elapsed 1m 20s ETA 1h 02m');
    expect(trainCommandLine(['--out', 'runs/a b', '--steps', '10'])).toBe("emseg train --out 'runs/a b' --steps 10");
  });

  it('reports a bad option in one line and exits 1', async () => {
    let stderr = '';
    const spy = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      const code = await runCli(['train', '--crop-size', '100', '--out', join(root, 'x')], { stdout: () => {}, stderr: (t) => (stderr += t) });
      expect(code).toBe(1);
      expect(stderr).toBe('emseg: cropSize (--crop-size): expected a multiple of 16 (2^depth) from 16 to 2048, found 100\n');
      const code2 = await runCli(['train', '--learning-rate', 'fast'], { stdout: () => {}, stderr: (t) => (stderr = t) });
      expect(code2).toBe(1);
      expect(stderr).toBe('emseg: learningRate (--learning-rate): expected a number, found "fast"\n');
    } finally {
      spy.mockRestore();
    }
  });
});
