// The seed-rule measurement's parts (core/cells/seed-rule-*.ts): the grids, the scoring of a set on
// labelled slices, and the choice that keeps the current parameters unless another set wins by a margin.
import { describe, expect, it } from 'vitest';
import { DEFAULT_CELL_PARAMS, cellsSectionFrom, validateCellParams, type CellParams } from '../core/cells/cell-params.ts';
import { CELL_CHOICE_MARGIN, chooseCellParams } from '../core/cells/seed-rule-choice.ts';
import { SEED_RULE_GRIDS, describeCellParams, sameCellParams, seedRuleGrid } from '../core/cells/seed-rule-grid.ts';
import { scoreCellParams, sweepCellParams, type CellParamsScore } from '../core/cells/seed-rule-sweep.ts';
import { makeImage } from '../core/image.ts';

const params = (fields: Partial<CellParams>): CellParams => ({ ...DEFAULT_CELL_PARAMS, ...fields });
const row = (fields: Partial<CellParams>, vRand: number): CellParamsScore => ({ params: params(fields), vRand, vInfo: vRand, perSliceVRand: [vRand], cellsPerSlice: 10, seconds: 0 });

describe('seed-rule grids', () => {
  it('the default grid has 20-30 distinct valid sets, the built-in defaults among them, both rules, a mask and a cell filter', () => {
    const grid = seedRuleGrid('default');
    expect(grid.length).toBeGreaterThanOrEqual(20);
    expect(grid.length).toBeLessThanOrEqual(30);
    for (const p of grid) validateCellParams(p);
    for (const [i, a] of grid.entries()) for (const b of grid.slice(i + 1)) expect(sameCellParams(a, b), describeCellParams(a)).toBe(false);
    expect(grid.some((p) => sameCellParams(p, DEFAULT_CELL_PARAMS))).toBe(true);
    expect(new Set(grid.map((p) => p.seedRule))).toEqual(new Set(['probability', 'distance']));
    expect(grid.some((p) => p.maskThreshold > 0)).toBe(true);
    expect(grid.some((p) => p.minCellArea > 0)).toBe(true);
    expect(Math.min(...grid.map((p) => p.seedThreshold))).toBe(0.5);
    expect(Math.max(...grid.map((p) => p.seedThreshold))).toBe(0.95);
    expect(new Set(grid.map((p) => p.minSeedArea))).toEqual(new Set([10, 25, 50, 100]));
  });

  it('gives a fresh copy and names an unknown grid', () => {
    const grid = seedRuleGrid('small');
    grid[0]!.seedThreshold = 0.1;
    expect(SEED_RULE_GRIDS.small[0].seedThreshold).toBe(0.75);
    expect(() => seedRuleGrid('huge')).toThrow('--grid: expected one of default, small, found "huge"');
  });

  it('compares and describes sets', () => {
    expect(sameCellParams(params({ seedDistance: 3 }), params({ seedDistance: 0 }))).toBe(true); // the probability rule ignores it
    expect(sameCellParams(params({ seedRule: 'distance', seedDistance: 3 }), params({ seedRule: 'distance', seedDistance: 2 }))).toBe(false);
    expect(sameCellParams(params({ minCellArea: 100 }), params({}))).toBe(false);
    expect(describeCellParams(DEFAULT_CELL_PARAMS)).toBe('probability >= 0.75, seeds >= 25 px');
    expect(describeCellParams(params({ seedRule: 'distance', seedThreshold: 0.7, seedDistance: 2, minSeedArea: 10, maskThreshold: 0.5, minCellArea: 100 }))).toBe(
      'distance > 2 px from p < 0.7, seeds >= 10 px, mask 0.5, cells >= 100 px',
    );
  });
});

describe('chooseCellParams', () => {
  const current = DEFAULT_CELL_PARAMS;

  it('keeps the current set unless the best beats it by the margin', () => {
    const small = chooseCellParams([row({}, 0.98), row({ seedThreshold: 0.6 }, 0.98 + CELL_CHOICE_MARGIN / 2)], current);
    expect(small.chosen.params).toEqual(current);
    expect(small.best.params.seedThreshold).toBe(0.6);
    expect(small.reason).toBe('kept the current set (probability >= 0.75, seeds >= 25 px, V_rand 0.9800): the best of 2 sets on the selection slices, probability >= 0.6, seeds >= 25 px, gains 0.0005 in V_rand there, less than the margin 0.001');
    const large = chooseCellParams([row({ seedThreshold: 0.6 }, 0.985), row({}, 0.98), row({ seedThreshold: 0.7 }, 0.985)], current);
    expect(large.chosen.params.seedThreshold).toBe(0.6); // the first of equals, in grid order
    expect(large.reason).toMatch(/^chose probability >= 0.6, seeds >= 25 px \(V_rand 0.9850\), the best of 3 sets .* gains 0.0050 over the current set/);
    const kept = chooseCellParams([row({ seedThreshold: 0.6 }, 0.97), row({}, 0.98)], current);
    expect(kept.chosen).toBe(kept.best);
    expect(kept.reason).toMatch(/the largest V_rand of 2 sets/);
    // A margin of 0 takes the best of the sweep.
    expect(chooseCellParams([row({}, 0.98), row({ minSeedArea: 10 }, 0.9801)], current, 0).chosen.params.minSeedArea).toBe(10);
  });

  it('with the shift suite scored, the best must also beat the current set by the margin in its mean', () => {
    const shifted = (overrides: Partial<CellParams>, vRand: number, shiftVRand: number) => ({ ...row(overrides, vRand), shiftVRand });
    const notUnderShifts = chooseCellParams([shifted({}, 0.98, 0.97), shifted({ seedThreshold: 0.5 }, 0.99, 0.9705)], current);
    expect(notUnderShifts.chosen.params).toEqual(current);
    expect(notUnderShifts.reason).toBe(
      "kept the current set (probability >= 0.75, seeds >= 25 px, V_rand 0.9800): the best of 2 sets on the selection slices, probability >= 0.5, seeds >= 25 px, gains 0.0100 in V_rand there but 0.0005 in the shift suite's mean (0.9705 against 0.9700), less than the margin 0.001",
    );
    const both = chooseCellParams([shifted({}, 0.98, 0.97), shifted({ seedThreshold: 0.5 }, 0.99, 0.975)], current);
    expect(both.chosen.params.seedThreshold).toBe(0.5);
    expect(both.reason).toMatch(/gains 0.0100 over the current set .* and 0.0050 in the shift suite's mean, at least the margin 0.001$/);
  });

  it('the current set is the card\'s, whatever the defaults', () => {
    const card = params({ seedThreshold: 0.6 });
    expect(chooseCellParams([row({}, 0.9805), row({ seedThreshold: 0.6 }, 0.98)], card).chosen.params).toEqual(card);
  });

  it('needs the current set among the rows and a margin >= 0', () => {
    expect(() => chooseCellParams([row({ seedThreshold: 0.6 }, 0.9)], current)).toThrow('rows: expected a row of the current parameters (probability >= 0.75, seeds >= 25 px), found none among 1');
    expect(() => chooseCellParams([row({}, 0.9)], current, -1)).toThrow('margin: expected a finite number >= 0, found -1');
  });
});

describe('scoreCellParams and sweepCellParams', () => {
  // Two 10x10 cells side by side, joined through a gap in the wall where p = 0.6: seeds at 0.75
  // split them as the truth does, seeds at 0.5 join them into one cell.
  const width = 24;
  const height = 12;
  const truth = new Uint8Array(width * height);
  const probability = new Float32Array(width * height);
  for (let y = 1; y < 11; y++) {
    for (let x = 1; x < 23; x++) {
      const wall = x === 11 || x === 12;
      truth[y * width + x] = wall ? 0 : 255;
      probability[y * width + x] = wall ? (y >= 4 && y < 8 ? 0.6 : 0.1) : 0.9;
    }
  }
  const slices = { width, height, probabilities: [probability, probability], truths: [makeImage(width, height, truth), makeImage(width, height, truth)] };

  it('labels and scores each slice; a seed threshold above the gap scores higher than one below it', () => {
    const split = scoreCellParams(slices, params({ seedThreshold: 0.75, minSeedArea: 5 }));
    const joined = scoreCellParams(slices, params({ seedThreshold: 0.5, minSeedArea: 5 }));
    expect(split.cellsPerSlice).toBe(2);
    expect(joined.cellsPerSlice).toBe(1);
    expect(split.vRand).toBeCloseTo(1, 6);
    expect(joined.vRand).toBeLessThan(0.7);
    expect(split.perSliceVRand).toHaveLength(2);
    const rows = sweepCellParams(slices, [params({ seedThreshold: 0.5, minSeedArea: 5 }), params({ seedThreshold: 0.75, minSeedArea: 5 })]);
    expect(rows.map((r) => r.cellsPerSlice)).toEqual([1, 2]);
    expect(chooseCellParams(rows, rows[0]!.params).chosen.params.seedThreshold).toBe(0.75);
    // With shifted copies, each row's shiftVRand is the mean of its V_rand over them.
    const wider = Float32Array.from(probability, (p) => (Math.abs(p - 0.6) < 1e-6 ? 0.8 : p));
    const withShifts = sweepCellParams(slices, [params({ seedThreshold: 0.75, minSeedArea: 5 })], undefined, [slices, { ...slices, probabilities: [wider, wider] }]);
    const underShift = scoreCellParams({ ...slices, probabilities: [wider, wider] }, params({ seedThreshold: 0.75, minSeedArea: 5 }));
    expect(underShift.vRand).toBeLessThan(0.7); // the gap at 0.8 joins the cells at seed threshold 0.75
    expect(withShifts[0]!.shiftVRand).toBeCloseTo((split.vRand + underShift.vRand) / 2, 9);
    expect(withShifts[0]!.vRand).toBe(split.vRand);
  });

  it('refuses an empty grid and mismatched slices', () => {
    expect(() => sweepCellParams(slices, [])).toThrow('grid: expected at least one parameter set, found none');
    expect(() => scoreCellParams({ ...slices, truths: [] }, DEFAULT_CELL_PARAMS)).toThrow('truths: expected one label image per probability map (2), found 0');
  });
});

describe('cellsSectionFrom', () => {
  it('takes the `cells` field of a bench JSON, else the document', () => {
    expect(cellsSectionFrom({ benchmark: 'seed-rule', cells: { seedThreshold: 0.7, chosenBy: 'x' } }, 'f')).toEqual({ seedThreshold: 0.7, chosenBy: 'x' });
    expect(cellsSectionFrom({ minSeedArea: 10 }, 'f')).toEqual({ minSeedArea: 10 });
    expect(() => cellsSectionFrom({ cells: { minSeedArea: -1 } }, 'f')).toThrow('f: cells.minSeedArea: expected a number of pixels >= 0, found -1');
    expect(() => cellsSectionFrom(null, 'f')).toThrow('f: expected a JSON object, found null');
  });
});
