/**
 * (no browser) The web demo's cells view (web-demo/src/cells-view.ts): the cells are core/cells'
 * with the card's parameters, each painted in its own colour over the grey image with the lines
 * between them left grey, and the CSV is the cell table of `emseg predict --cells`.
 */
import { describe, expect, it } from 'vitest';
import { labelCells } from '../../core/cells/cell-labels.ts';
import { DEFAULT_CELL_PARAMS } from '../../core/cells/cell-params.ts';
import { CELL_TABLE_COLUMNS } from '../../core/cells/cell-table.ts';
import { makeImage } from '../../core/image.ts';
import { cellColour, colourCells, sliceCells } from '../../web-demo/src/cells-view.ts';
import { fakeCard } from '../serve-fixtures.ts';

/** Two bright squares (cells) on a dark background, as a probability and as the grey image. */
function twoCells() {
  const width = 40;
  const height = 20;
  const probability = new Float32Array(width * height).fill(0.1);
  const grey = new Uint8Array(width * height).fill(30);
  for (let y = 4; y < 16; y++) {
    for (const x0 of [4, 24]) {
      for (let x = x0; x < x0 + 12; x++) {
        probability[y * width + x] = 0.95;
        grey[y * width + x] = 200;
      }
    }
  }
  return { probability: makeImage(width, height, probability), image: makeImage(width, height, grey) };
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

  it('paints each cell in its own colour over the image and leaves label 0 grey', () => {
    const { probability, image } = twoCells();
    const labels = labelCells(probability.data, 40, 20, { ...DEFAULT_CELL_PARAMS, seedRule: 'probability', seedThreshold: 0.75, seedDistance: 0, minSeedArea: 25, maskThreshold: 0.5, minCellArea: 0 });
    expect(labels.count).toBe(2);
    const picture = colourCells(image, labels, 0.5);
    expect(picture.channels).toBe(4);
    const at = (x: number, y: number) => Array.from(picture.data.subarray((y * 40 + x) * 4, (y * 40 + x) * 4 + 4));
    expect(at(0, 0)).toEqual([30, 30, 30, 255]); // background: no cell at maskThreshold 0.5
    const first = at(10, 10);
    const second = at(30, 10);
    expect(first).not.toEqual(second);
    const [r, g, b] = cellColour(1);
    expect(first).toEqual([Math.round(200 * 0.5 + r * 0.5), Math.round(200 * 0.5 + g * 0.5), Math.round(200 * 0.5 + b * 0.5), 255]);
    expect(Array.from(colourCells(image, labels, 0).data.subarray(0, 4 * 800)).filter((_, i) => i % 4 === 0)).toEqual(Array.from(image.data));
    expect(() => colourCells(image, labels, 2)).toThrow(/opacity: expected a number in \[0, 1\], found 2/);
  });

  it('gives neighbouring labels distinct colours', () => {
    const colours = Array.from({ length: 50 }, (_, i) => cellColour(i + 1).join(','));
    for (let i = 1; i < colours.length; i++) expect(colours[i]).not.toBe(colours[i - 1]);
    expect(new Set(colours).size).toBe(50);
    const channels = colours.flatMap((colour) => colour.split(',').map(Number));
    expect(channels.every((c) => Number.isInteger(c) && c >= 0 && c <= 255)).toBe(true);
  });
});
