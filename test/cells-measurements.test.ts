/**
 * core/cells/cell-measurements.ts, cell-table.ts and core/csv.ts: hand-worked measurements, the
 * table's areas sum to the labelled pixels, physical units from the pixel size, CSV quoting.
 */
import { describe, expect, it } from 'vitest';
import { labelCells } from '../core/cells/cell-labels.ts';
import { measureCells } from '../core/cells/cell-measurements.ts';
import { DEFAULT_CELL_PARAMS } from '../core/cells/cell-params.ts';
import { CELL_TABLE_COLUMNS, LINKED_CELL_TABLE_COLUMNS, cellTableCsv } from '../core/cells/cell-table.ts';
import { formatCsv } from '../core/csv.ts';
import { createRng } from '../core/random.ts';

describe('measureCells', () => {
  it('measures area, centroid, bounding box, equivalent diameter and the border membrane', () => {
    // 4x3 labels: cell 1 is the 2x2 block at the left, cell 2 the column x = 3, boundary at x = 2
    const labels = Uint32Array.of(1, 1, 0, 2, 1, 1, 0, 2, 0, 0, 0, 2);
    const probability = Float32Array.of(0.9, 0.7, 0, 1, 0.5, 0.9, 0, 1, 0, 0, 0, 0.6);
    const [one, two] = measureCells({ width: 4, height: 3, labels, count: 2 }, { slice: 7, probability });
    expect(one).toMatchObject({ label: 1, slice: 7, area: 4, centroidX: 0.5, centroidY: 0.5, xMin: 0, yMin: 0, xMax: 1, yMax: 1, borderPixels: 3 });
    expect(one!.equivalentDiameter).toBeCloseTo(Math.sqrt(16 / Math.PI), 12);
    // border pixels of cell 1: (1, 0), (0, 1), (1, 1); membrane 1 - p = 0.3, 0.5, 0.1
    expect(one!.borderMembraneProbability).toBeCloseTo(0.3, 6);
    expect(two).toMatchObject({ label: 2, area: 3, centroidX: 3, centroidY: 1, xMin: 3, xMax: 3, yMin: 0, yMax: 2, borderPixels: 3 });
    expect(two!.borderMembraneProbability).toBeCloseTo((0 + 0 + 0.4) / 3, 6);
  });

  it('gives NaN membrane without a probability map, and names labels out of range', () => {
    const [cell] = measureCells({ width: 2, height: 1, labels: Uint32Array.of(1, 0), count: 1 });
    expect(cell!.borderMembraneProbability).toBeNaN();
    expect(() => measureCells({ width: 2, height: 1, labels: Uint32Array.of(1, 3), count: 2 })).toThrow('labels: expected values 0..2, found 3 at (1, 0)');
  });
});

describe('the cell table', () => {
  it('has one row per cell whose areas sum to the labelled pixels', () => {
    const rng = createRng(2);
    const width = 64;
    const height = 48;
    const probability = Float32Array.from({ length: width * height }, (_, i) => {
      const x = i % width;
      const y = Math.floor(i / width);
      return Math.min(1, Math.max(0, 0.5 + 0.5 * Math.sin(x / 3) * Math.sin(y / 3) + rng.normal(0, 0.1)));
    });
    const cells = labelCells(probability, width, height, DEFAULT_CELL_PARAMS);
    expect(cells.count).toBeGreaterThan(5);
    const measured = measureCells(cells, { probability });
    const csv = cellTableCsv([{ image: 'a.tif', cells: measured, pixelSize: 4 }]);
    const lines = csv.trimEnd().split('\r\n');
    expect(lines[0]).toBe(CELL_TABLE_COLUMNS.join(','));
    expect(lines).toHaveLength(cells.count + 1);
    const column = (name: string) => lines.slice(1).map((line) => Number(line.split(',')[CELL_TABLE_COLUMNS.indexOf(name as (typeof CELL_TABLE_COLUMNS)[number])]));
    const labelled = cells.labels.filter((v) => v !== 0).length;
    expect(column('area_px').reduce((a, b) => a + b, 0)).toBe(labelled);
    // 4 nm pixels: 1 px = 1.6e-5 um^2
    column('area_px').forEach((area, i) => expect(column('area_um2')[i]).toBeCloseTo(area * 1.6e-5, 4));
  });

  it('leaves physical columns empty without a pixel size', () => {
    const measured = measureCells({ width: 2, height: 1, labels: Uint32Array.of(1, 1), count: 1 });
    const [, row] = cellTableCsv([{ image: 'x.png', cells: measured }]).split('\r\n');
    const fields = row!.split(',');
    expect(fields[CELL_TABLE_COLUMNS.indexOf('area_px')]).toBe('2');
    expect(fields[CELL_TABLE_COLUMNS.indexOf('area_um2')]).toBe('');
    expect(fields[CELL_TABLE_COLUMNS.indexOf('equivalent_diameter_um')]).toBe('');
    expect(() => cellTableCsv([{ image: 'x.png', cells: measured, pixelSize: 0 }])).toThrow('pixelSize of x.png: expected a size in nm greater than 0, found 0');
  });

  it('puts object_id after slice in a table of linked cells, and refuses a cell without one there', () => {
    const measured = measureCells({ width: 3, height: 1, labels: Uint32Array.of(1, 0, 2), count: 2 }, { slice: 4 });
    const linked = measured.map((cell) => ({ ...cell, object: cell.label + 10 }));
    const lines = cellTableCsv([{ image: 'x.tif', cells: linked }], { linked: true }).trimEnd().split('\r\n');
    expect(lines[0]).toBe(LINKED_CELL_TABLE_COLUMNS.join(','));
    expect(LINKED_CELL_TABLE_COLUMNS.slice(0, 5)).toEqual(['image', 'label', 'slice', 'object_id', 'area_px']);
    expect(lines.slice(1).map((line) => line.split(',').slice(0, 5))).toEqual([
      ['x.tif', '1', '4', '11', '1'],
      ['x.tif', '2', '4', '12', '1'],
    ]);
    // unlinked tables are unchanged, with or without objects on the cells
    expect(cellTableCsv([{ image: 'x.tif', cells: linked }])).toBe(cellTableCsv([{ image: 'x.tif', cells: measured }]));
    expect(() => cellTableCsv([{ image: 'x.tif', cells: measured }], { linked: true })).toThrow('cell 1 of slice 4 of x.tif: expected an object id in a table of linked cells, found none');
  });

  it('quotes CSV fields that need it', () => {
    expect(formatCsv(['a', 'b'], [['x,y', 'say "hi"'], [1.5, Number.NaN]])).toBe('a,b\r\n"x,y","say ""hi"""\r\n1.5,\r\n');
    expect(() => formatCsv(['a', 'b'], [[1]])).toThrow('rows[0]: expected 2 values (a, b), found 1');
  });
});
