/**
 * core/cells/cell-labels.ts and cell-params.ts: seeds by rule, size filters, the partition of a
 * synthetic slice into cells with 0 on the boundaries, the card's parameters over the defaults.
 */
import { describe, expect, it } from 'vitest';
import { findSeeds, labelCells } from '../core/cells/cell-labels.ts';
import { DEFAULT_CELL_PARAMS, cellParamsFrom, type CellParams } from '../core/cells/cell-params.ts';
import { parseModelCard, defaultModelCard } from '../core/model-card.ts';

const params = (overrides: Partial<CellParams>): CellParams => ({ ...DEFAULT_CELL_PARAMS, ...overrides });

/** Probability of a grid of square cells (interior 1) separated by membranes (0) `line` pixels wide, with a gap. */
function cellGrid(cells: number, side: number, line: number, gapInFirstWall = false): { probability: Float32Array; size: number } {
  const size = cells * (side + line);
  const probability = new Float32Array(size * size);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const inside = x % (side + line) < side && y % (side + line) < side;
      probability[y * size + x] = inside ? 1 : 0;
    }
  }
  if (gapInFirstWall) {
    // a hole in the wall between the first two cells of the first row, of probability 0.6
    for (let x = side; x < side + line; x++) for (let y = side / 2 - 1; y <= side / 2; y++) probability[y * size + x] = 0.6;
  }
  return { probability, size };
}

describe('labelCells', () => {
  it('labels each cell of a grid once, with 0 only on boundary lines', () => {
    const { probability, size } = cellGrid(4, 12, 3);
    const result = labelCells(probability, size, size, params({ seedThreshold: 0.9, minSeedArea: 10 }));
    expect(result.count).toBe(16);
    // every cell's interior is one label; labels run 1..16 in row-major order of first pixels
    expect(result.labels[0]).toBe(1);
    expect(result.labels[(size - 1) * size + size - 1]).toBe(16);
    // the membrane is split between neighbours: only thin lines stay 0
    const zeros = result.labels.filter((v) => v === 0).length;
    expect(zeros).toBeLessThan(size * 3 * 2); // about one line per wall, far fewer than the 3-pixel walls
  });

  it('keeps membrane pixels out of the cells with maskThreshold', () => {
    const { probability, size } = cellGrid(2, 10, 4);
    const result = labelCells(probability, size, size, params({ seedThreshold: 0.9, minSeedArea: 0, maskThreshold: 0.5 }));
    expect(result.count).toBe(4);
    for (let i = 0; i < probability.length; i++) expect(result.labels[i] !== 0).toBe(probability[i]! >= 0.5);
  });

  it('separates cells joined through a gap when the seed threshold is above the gap', () => {
    const { probability, size } = cellGrid(2, 12, 3, true);
    expect(labelCells(probability, size, size, params({ seedThreshold: 0.5, minSeedArea: 0 })).count).toBe(3); // merged through the gap
    expect(labelCells(probability, size, size, params({ seedThreshold: 0.9, minSeedArea: 0 })).count).toBe(4);
  });

  it('drops small seeds and floods small cells from their neighbours', () => {
    const { probability, size } = cellGrid(2, 12, 3);
    probability[3 * size + 3] = 0.2; // a dark pixel inside the first cell: nothing changes
    const speck = 2 * size + 13; // a bright speck in the wall: a one-pixel seed
    probability[speck] = 1;
    expect(labelCells(probability, size, size, params({ seedThreshold: 0.9, minSeedArea: 0 })).count).toBe(5);
    expect(labelCells(probability, size, size, params({ seedThreshold: 0.9, minSeedArea: 2 })).count).toBe(4);
    const filtered = labelCells(probability, size, size, params({ seedThreshold: 0.9, minSeedArea: 0, minCellArea: 40 }));
    expect(filtered.count).toBe(4);
  });

  it('finds seeds by the distance rule away from the cell edge', () => {
    const { probability, size } = cellGrid(1, 9, 2);
    const seeds = findSeeds(probability, size, size, params({ seedRule: 'distance', seedThreshold: 0.5, seedDistance: 2, minSeedArea: 0 }));
    // the 9x9 cell (x, y in 0..8) has membrane only at x, y = 9, 10 (the image edge is no
    // background): pixels more than 2 from it are x, y <= 6, a 7x7 seed
    expect([...seeds].filter((v) => v !== 0).length).toBe(7 * 7);
    expect(seeds[6 * size + 6]).toBe(1);
    expect(seeds[7 * size + 6]).toBe(0);
  });
});

describe('cell parameters', () => {
  it('takes the card over the defaults and overrides over both, and names bad fields', () => {
    expect(cellParamsFrom(undefined)).toEqual(DEFAULT_CELL_PARAMS);
    expect(cellParamsFrom({ seedThreshold: 0.7, chosenBy: 'test' }, { minSeedArea: 5 })).toEqual({ ...DEFAULT_CELL_PARAMS, seedThreshold: 0.7, minSeedArea: 5 });
    expect(() => cellParamsFrom(undefined, { seedThreshold: 2, minCellArea: -1 })).toThrow('cell parameters: seedThreshold: expected a number in [0, 1], found 2; minCellArea: expected a finite number >= 0, found -1');
    const card = { ...defaultModelCard('m'), cells: { seedRule: 'watershed' } };
    expect(() => parseModelCard(card, 'm.json')).toThrow(/cells\.seedRule: expected one of probability, distance/);
    expect(parseModelCard({ ...defaultModelCard('m'), cells: { seedThreshold: 0.75 } }, 'm.json').cells?.seedThreshold).toBe(0.75);
  });

  it("through the public API, a card's cells section sets the labels; a card without one gives the defaults", async () => {
    const api = await import('../lib/index.ts');
    const { probability, size } = cellGrid(2, 12, 3, true);
    const cardJson = (cells?: object) => JSON.stringify({ ...defaultModelCard('m'), ...(cells ? { cells } : {}) });
    const count = (json: string) => api.labelCells(probability, size, size, api.cellParamsFrom(api.parseModelCardJson(json, 'm.json').cells)).count;
    expect(count(cardJson())).toBe(4); // the defaults: seeds at 0.75 stop at the gap of 0.6
    expect(count(cardJson({ seedThreshold: 0.5, chosenBy: 'test' }))).toBe(3); // the card's seeds cross it: the first two cells join
  });
});
