// `npm run bench:seeds` (bench/seed-rule.ts) end to end on a tiny case: a random tiny U-Net and a
// synthetic stack of square cells, the small grid, 2 selection slices and 1 test slice. The full
// measurement on ISBI takes minutes and is not part of the suite.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { cellParamsFrom, cellsSectionFrom } from '../core/cells/cell-params.ts';
import { SEED_RULE_GRIDS, sameCellParams } from '../core/cells/seed-rule-grid.ts';
import { encodeTiff } from '../core/tiff.ts';
import { writeFileAtomic } from '../node/atomic-write.ts';
import { runBench } from '../bench/seed-rule.ts';
import { tinyUNetOnnx } from './helpers/tiny-unet-onnx.ts';

const size = 64;
let dir: string;

/** Bright square cells of side 12 in walls of 4 (dark), shifted by `shift` pixels; labels 255 inside. */
function page(shift: number, label: boolean): Uint8Array {
  const data = new Uint8Array(size * size);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const inside = (x + shift) % 16 < 12 && (y + shift) % 16 < 12;
      data[y * size + x] = label ? (inside ? 255 : 0) : inside ? 190 + ((x * 7 + y * 3) % 20) : 40;
    }
  }
  return data;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'emseg-bench-seeds-'));
  const stack = (label: boolean) => encodeTiff({ width: size, height: size, pages: [0, 3, 6].map((shift) => ({ width: size, height: size, data: page(shift, label) })) });
  await writeFileAtomic(join(dir, 'images.tif'), stack(false));
  await writeFileAtomic(join(dir, 'labels.tif'), stack(true));
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function captured() {
  const out: string[] = [];
  const err: string[] = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((text) => (out.push(String(text)), true));
  vi.spyOn(process.stderr, 'write').mockImplementation((text) => (err.push(String(text)), true));
  return { out: () => out.join(''), err: () => err.join(''), restore: () => vi.restoreAllMocks() };
}

describe('npm run bench:seeds', () => {
  it('--help lists every option', async () => {
    const io = captured();
    try {
      expect(await runBench(['--help'])).toBe(0);
    } finally {
      io.restore();
    }
    for (const flag of ['--model', '--images', '--labels', '--select-slices', '--slices', '--grid', '--margin', '--no-shift', '--ep', '--json']) expect(io.out()).toContain(flag);
  });

  it('refuses an unknown option, an unknown grid (exit code 2) and overlapping slices (1) with one line each', async () => {
    for (const [args, code, message] of [
      [['--gird', 'small'], 2, 'bench:seeds: unknown option --gird'],
      [['--grid', 'huge'], 2, 'bench:seeds: --grid: expected one of default, small, found "huge"'],
      [['--images', join(dir, 'images.tif'), '--labels', join(dir, 'labels.tif'), '--select-slices', '0-1', '--slices', '1-2'], 1, 'bench:seeds: --select-slices: 1 also in --slices'],
    ] as const) {
      const io = captured();
      try {
        expect(await runBench([...args])).toBe(code);
      } finally {
        io.restore();
      }
      expect(io.err()).toContain(message);
      expect(io.err().trim().split('\n')).toHaveLength(1);
    }
  });

  it('measures the small grid, chooses on the selection slices, scores the test slice once and writes the card section', async () => {
    const model = await tinyUNetOnnx({ depth: 2, baseFilters: 4 });
    const json = join(dir, 'seeds.json');
    const io = captured();
    let code: number;
    try {
      code = await runBench(['--model', model.path, '--images', join(dir, 'images.tif'), '--labels', join(dir, 'labels.tif'), '--select-slices', '0-1', '--slices', '2', '--grid', 'small', '--ep', 'cpu', '--json', json]);
    } finally {
      io.restore();
    }
    expect(code).toBe(0);
    const report = JSON.parse(readFileSync(json, 'utf8'));
    expect(report.selection.slices).toEqual([0, 1]);
    expect(report.test.slices).toEqual([2]);
    expect(report.selection.rows).toHaveLength(SEED_RULE_GRIDS.small.length);
    for (const row of report.selection.rows) {
      expect(row.vRand).toBeGreaterThanOrEqual(0);
      expect(row.vRand).toBeLessThanOrEqual(1);
      expect(row.perSliceVRand).toHaveLength(2);
      // Every set is scored under the shift suite too (10 shifts of the selection slices).
      expect(row.shiftVRand).toBeGreaterThanOrEqual(0);
      expect(row.shiftVRand).toBeLessThanOrEqual(1);
    }
    expect(report.shiftSuite.shifts).toHaveLength(10);
    // The chosen set is the best row, or the current one (the card has no cells: the defaults)
    // when the best does not beat it by the margin both as the slices are and under the shifts.
    type Row = { vRand: number; shiftVRand: number; params: never };
    const rows: Row[] = report.selection.rows;
    const best = rows.reduce((a, b) => (b.vRand > a.vRand ? b : a));
    const current = rows.find((r) => sameCellParams(r.params, report.selection.current))!;
    const clears = best.vRand - current.vRand >= report.margin && best.shiftVRand - current.shiftVRand >= report.margin;
    expect(report.selection.chosen).toEqual((clears ? best : current).params);
    expect(report.selection.current).toEqual(cellParamsFrom(undefined));
    expect(report.test.labels.perSliceVRand).toHaveLength(1);
    expect(report.test.mask.atCardThreshold.threshold).toBe(model.card.threshold);
    expect(report.test.mask.at05.threshold).toBe(0.5);
    // The `cells` section is what emseg convert --cells takes.
    const section = cellsSectionFrom(report, json);
    expect(cellParamsFrom(section)).toEqual(report.selection.chosen);
    expect(section.chosenBy).toContain('npm run bench:seeds -- --model');
    expect(report.machine).toMatch(/cores?|x /);
    expect(report.wallTimeSeconds).toBeGreaterThan(0);
    expect(io.out()).toContain('| V_rand | V_info | shift-suite V_rand | cells/slice |');
    expect(io.out()).toContain(`choice: ${report.selection.reason}`);
  });
});
