/**
 * `emseg evaluate --select-slices S --slices T` with a tiny U-Net on ISBI slices: the threshold is
 * chosen on the selection slices (core/serving-choice.ts), the test rows are scored at it, the JSON says which slices
 * did what, `emseg convert --metrics` reads the test figures (not the best-of-sweep ones) into
 * the card with the selection figures beside them; overlapping lists and --threshold are refused.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCliCaptured } from './helpers/run-cli-captured.ts';
import { readMetricsInfo } from '../convert/training-info.ts';
import { chooseServing } from '../core/serving-choice.ts';
import { tinyUNetOnnx, type TinyUNetOnnx } from './helpers/tiny-unet-onnx.ts';

const root = mkdtempSync(join(tmpdir(), 'emseg-evaluate-select-'));
let tiny: TinyUNetOnnx;
beforeAll(async () => {
  tiny = await tinyUNetOnnx({ depth: 2, baseFilters: 4, seed: 5 });
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const run = runCliCaptured;

describe('emseg evaluate --select-slices', () => {
  it('chooses the threshold on the selection slices and reports the test slices at it', async () => {
    const json = join(root, 'protocol.json');
    const { code, stdout, stderr } = await run(['evaluate', tiny.path, '--select-slices', '3', '--slices', '25', '--providers', 'cpu', '--json', json]);
    expect(stderr).not.toMatch(/emseg: /);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^selection slices 3 \(choose the threshold and plain or TTA\):\n/);
    expect(stdout).toMatch(/\nchoice: plain: threshold /);
    expect(stdout).toMatch(/\ntest slices 25, at the threshold chosen on the selection slices/);
    const doc = JSON.parse(readFileSync(json, 'utf8'));
    const chosen = chooseServing(doc.selection.rows).thresholds.plain;
    expect(doc.selection.served).toBe('plain');
    expect(doc.selection.reasons).toEqual(chooseServing(doc.selection.rows).reasons);
    expect(doc.selection.slices).toEqual([3]);
    expect(doc.selection.chosenThresholds.plain).toBe(chosen);
    expect(doc.slices).toEqual([25]);
    expect(doc.threshold).toBe(chosen);
    expect(doc.rows[0].threshold).toBe(chosen);

    const metrics = readMetricsInfo(json);
    expect(metrics.withoutTta!.vRand).toBe(doc.rows[0].vRand);
    expect(metrics.withoutTta!.threshold).toBe(chosen);
    expect(metrics['protocol']).toMatch(/slices 25 at the threshold chosen on the selection slices 3/);
    expect((metrics['selection'] as { withoutTta: { vRand: number } }).withoutTta.vRand).toBe(doc.selection.rows[0].vRandBest);
  });

  it('with --shift runs the shift suite on both slice sets, the selection run taking part in the choice, and the card keeps its table', async () => {
    const json = join(root, 'shift.json');
    const { code, stdout, stderr } = await run(['evaluate', tiny.path, '--select-slices', '3', '--slices', '25', '--shift', '--providers', 'cpu', '--json', json]);
    expect(stderr).not.toMatch(/emseg: /);
    expect(code).toBe(0);
    expect(stdout).toMatch(/\nshift suite on the selection slices 3:\nshift +V_rand plain +V_info plain\nnone /);
    expect(stdout).toMatch(/\nshift suite on slices 25 \(at the chosen thresholds\):\n/);
    const doc = JSON.parse(readFileSync(json, 'utf8'));
    expect(doc.selection.shiftSuite.slices).toEqual([3]);
    expect(doc.shiftSuite.slices).toEqual([25]);
    expect(doc.shiftSuite.shifts).toHaveLength(11);
    // The choice is the rule applied to the selection rows and the selection suite.
    expect(doc.selection.chosenThresholds).toEqual(chooseServing(doc.selection.rows, doc.selection.shiftSuite).thresholds);
    for (const shift of doc.shiftSuite.shifts) expect(shift.rows[0].threshold).toBe(doc.selection.chosenThresholds.plain);
    // The 'none' row is the test slices' own evaluation.
    expect(doc.shiftSuite.shifts[0].rows[0].vRand).toBeCloseTo(doc.rows[0].vRand, 12);
    const metrics = readMetricsInfo(json);
    const suite = metrics['shiftSuite'] as { slices: string; shifts: Array<{ shift: string; withoutTta: { vRand: number } }>; meanOverShifts: { withoutTta: { vRand: number } } };
    expect(suite.slices).toBe('25');
    expect(suite.shifts.map((r) => r.shift)).toEqual(doc.shiftSuite.shifts.map((r: { shift: string }) => r.shift));
    expect(suite.meanOverShifts.withoutTta.vRand).toBe(doc.shiftSuite.meanOverShifts.plain.vRand);
    expect((metrics['selection'] as { reasons: string[] }).reasons).toEqual(doc.selection.reasons);
  });

  it('refuses overlapping slices and --threshold together with --select-slices, in one line', async () => {
    const overlap = await run(['evaluate', tiny.path, '--select-slices', '3-5', '--slices', '5-6']);
    expect(overlap.code).toBe(1);
    expect(overlap.stderr).toMatch(/^emseg: --select-slices: 5 also in --slices; selection and test slices must not overlap\n$/);
    const both = await run(['evaluate', tiny.path, '--select-slices', '3', '--slices', '5', '--threshold', '0.5']);
    expect(both.stderr).toMatch(/^emseg: --threshold: not together with --select-slices/);
  });
});
