/**
 * (no browser) The web demo's cells view (web-demo/src/cells-view.ts): the cells are core/cells'
 * with the card's parameters and the CSV is the cell table of `emseg predict --cells`. The colours
 * the page paints them with are core/cells/cell-colours.ts (test/cells-colours.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { CELL_TABLE_COLUMNS } from '../../core/cells/cell-table.ts';
import { makeImage } from '../../core/image.ts';
import { sliceCells } from '../../web-demo/src/cells-view.ts';
import { fakeCard } from '../serve-fixtures.ts';

/** Two bright squares (cells) on a dark background, as a probability. */
function twoCells() {
  const width = 40;
  const height = 20;
  const probability = new Float32Array(width * height).fill(0.1);
  for (let y = 4; y < 16; y++) {
    for (const x0 of [4, 24]) {
      for (let x = x0; x < x0 + 12; x++) {
        probability[y * width + x] = 0.95;
      }
    }
  }
  return { probability: makeImage(width, height, probability) };
}

describe('web demo cells view', () => {
  it('labels with the card cell parameters and gives the table of emseg predict --cells', () => {
    const { probability } = twoCells();
    const cells = sliceCells(probability, fakeCard(), { image: 'slice.png', slice: 2, pixelSize: 4 });
    expect(cells.labels.count).toBe(2);
    const lines = cells.csv.trimEnd().split('\r\n');
    expect(lines[0]).toBe(CELL_TABLE_COLUMNS.join(','));
    expect(lines).toHaveLength(3);
    const areas = lines.slice(1).map((line) => Number(line.split(',')[3]));
    expect(areas.reduce((a, b) => a + b, 0)).toBe(Array.from(cells.labels.labels).filter((k) => k !== 0).length);
    expect(lines[1]!.startsWith('slice.png,1,2,')).toBe(true);
    // The card's parameters count: seeds need probability 0.99 here, so no cell is found.
    expect(sliceCells(probability, fakeCard({ cells: { seedThreshold: 0.99 } }), { image: 'x', slice: 0, pixelSize: undefined }).labels.count).toBe(0);
  });
});
