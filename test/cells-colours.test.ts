/**
 * core/cells/cell-colours.ts, how cells are shown (the web demo's cells view and `emseg visualize
 * --cells`): each cell's own colour blended over the grey image, label 0 left as the image; one
 * deterministic colour per label, neighbouring labels far apart.
 */
import { describe, expect, it } from 'vitest';
import { cellColour, colourCells } from '../core/cells/cell-colours.ts';
import { labelCells } from '../core/cells/cell-labels.ts';
import { DEFAULT_CELL_PARAMS } from '../core/cells/cell-params.ts';
import { makeImage } from '../core/image.ts';

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

const distance = (a: readonly number[], b: readonly number[]) => Math.hypot(a[0]! - b[0]!, a[1]! - b[1]!, a[2]! - b[2]!);

describe('cell colours', () => {
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
    expect(() => colourCells(image, { ...labels, width: 20, height: 40 }, 0.5)).toThrow('labels: expected 40x20 like the image, found 20x40');
  });

  it('colours labels that do not run 1..count (a file written elsewhere) by their number', () => {
    const image = makeImage(4, 1, new Uint8Array([10, 20, 30, 40]));
    const labels = { width: 4, height: 1, labels: new Uint32Array([0, 70000, 5, 70000]) };
    const picture = colourCells(image, labels, 1);
    const at = (x: number) => Array.from(picture.data.subarray(x * 4, x * 4 + 3));
    expect(at(0)).toEqual([10, 10, 10]);
    expect(at(1)).toEqual([...cellColour(70000)]);
    expect(at(3)).toEqual([...cellColour(70000)]);
    expect(at(2)).toEqual([...cellColour(5)]);
  });

  it('gives every label one colour, and neighbouring labels distinct ones', () => {
    expect(cellColour(17)).toEqual(cellColour(17));
    const colours = Array.from({ length: 500 }, (_, i) => cellColour(i + 1));
    for (let i = 1; i < colours.length; i++) expect(distance(colours[i]!, colours[i - 1]!), `labels ${i} and ${i + 1}`).toBeGreaterThan(150);
    expect(new Set(colours.slice(0, 50).map((c) => c.join(','))).size).toBe(50);
    const channels = colours.flat();
    expect(channels.every((c) => Number.isInteger(c) && c >= 0 && c <= 255)).toBe(true);
  });
});
