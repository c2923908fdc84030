/**
 * Label chunks (core/cells/label-chunk.ts, chunk-merge.ts, cell-labels.ts): a large image labelled
 * chunk by chunk gives the whole image's labels when the halo holds the flooding, a valid
 * partition (cells numbered 1..count in row-major order of their first pixel, different cells
 * never 4-neighbours) whatever the halo, and its measurements window by window equal the whole
 * slice's.
 */
import { describe, expect, it } from 'vitest';
import { labelCells, type CellLabels } from '../core/cells/cell-labels.ts';
import { CellMeasurer, measureCells } from '../core/cells/cell-measurements.ts';
import { DEFAULT_CELL_PARAMS, type CellParams } from '../core/cells/cell-params.ts';
import { finalChunkLabels, finalSurroundings, resolveLabelChunks } from '../core/cells/chunk-merge.ts';
import { labelChunk, labelChunkContext, labelChunkCore, labelChunkGrid } from '../core/cells/label-chunk.ts';
import { syntheticCellProbability } from './helpers/synthetic-cells.ts';

const params = (overrides: Partial<CellParams>): CellParams => ({ ...DEFAULT_CELL_PARAMS, minSeedArea: 10, ...overrides });

/** What is wrong with the labels as the partition labelCells promises (1..count all used, numbered by first pixel in row-major order, no two cells 4-neighbours), or 'valid'. */
function partitionProblem(cells: CellLabels): string {
  const { width, labels, count } = cells;
  let next = 1;
  const seen = new Uint8Array(count + 1);
  for (let p = 0; p < labels.length; p++) {
    const v = labels[p]!;
    if (v === 0) continue;
    if (v > count) return `label ${v} above the count ${count} at pixel ${p}`;
    if (!seen[v]) {
      if (v !== next) return `cell ${v} first seen at pixel ${p}, where cell ${next} was expected`;
      next++;
      seen[v] = 1;
    }
    if (p % width < width - 1 && labels[p + 1] !== 0 && labels[p + 1] !== v) return `cells ${v} and ${labels[p + 1]} touch at pixel ${p}`;
    if (p + width < labels.length && labels[p + width] !== 0 && labels[p + width] !== v) return `cells ${v} and ${labels[p + width]} touch at pixel ${p}`;
  }
  return next - 1 === count ? 'valid' : `${next - 1} cells seen, count ${count}`;
}

describe('label chunks', () => {
  it('cut an image into cores and contexts clipped to it; one chunk when the image fits', () => {
    const grid = labelChunkGrid(100, 70, { chunkSize: 32, chunkHalo: 5 });
    expect([grid.columns, grid.rows]).toEqual([4, 3]);
    expect(labelChunkCore(grid, 3, 2)).toEqual({ x: 96, y: 64, width: 4, height: 6 });
    expect(labelChunkContext(grid, 0, 1)).toEqual({ x: 0, y: 27, width: 37, height: 42 });
    expect(labelChunkContext(grid, 3, 2)).toEqual({ x: 91, y: 59, width: 9, height: 11 });
    const one = labelChunkGrid(100, 70, { chunkSize: 100, chunkHalo: 5 });
    expect(labelChunkContext(one, 0, 0)).toEqual({ x: 0, y: 0, width: 100, height: 70 });
    expect(() => labelChunkCore(grid, 4, 0)).toThrow('label chunk: expected column 0-3 and row 0-2, found 4, 0');
  });

  it('give the whole image labels when the halo holds the flooding', () => {
    const width = 300;
    const height = 220;
    const probability = syntheticCellProbability(width, height, { cell: 24, seed: 3 });
    const whole = labelCells(probability, width, height, params({ chunkSize: 1024 }));
    expect(whole.count).toBeGreaterThan(80);
    for (const [chunkSize, chunkHalo] of [[64, 48], [100, 40], [128, 64]] as const) {
      const chunked = labelCells(probability, width, height, params({ chunkSize, chunkHalo }));
      expect(chunked.count).toBe(whole.count);
      expect([...chunked.labels]).toEqual([...whole.labels]);
    }
  });

  it('give a valid partition whatever the halo', () => {
    const width = 257;
    const height = 190;
    for (const seed of [1, 2, 3]) {
      const probability = syntheticCellProbability(width, height, { cell: 30, noise: 0.3, seed });
      const whole = labelCells(probability, width, height, params({ chunkSize: 1024 }));
      expect(partitionProblem(whole)).toBe('valid');
      for (const [chunkSize, chunkHalo] of [[32, 1], [50, 3], [64, 8]] as const) {
        const chunked = labelCells(probability, width, height, params({ chunkSize, chunkHalo }));
        expect(partitionProblem(chunked)).toBe('valid');
        // a halo narrower than the cells hides seeds from chunks, which then see neighbours as one
        // cell and join them: fewer cells, never more than pieces would give
        expect(chunked.count).toBeGreaterThan(0);
        expect(chunked.count).toBeLessThan(whole.count * 1.5);
      }
    }
  });

  it('number the cells of one chunk in row-major order, as the whole image', () => {
    const probability = syntheticCellProbability(90, 60, { seed: 5 });
    const cells = labelCells(probability, 90, 60, params({}));
    expect(partitionProblem(cells)).toBe('valid');
  });

  it('refuse records of another grid, naming the chunk', () => {
    const grid = labelChunkGrid(40, 20, { chunkSize: 20, chunkHalo: 2 });
    const probability = syntheticCellProbability(40, 20);
    const chunks = [0, 1].map((lx) => {
      const context = labelChunkContext(grid, lx, 0);
      const data = new Float32Array(context.width * context.height);
      for (let y = 0; y < context.height; y++) for (let x = 0; x < context.width; x++) data[y * context.width + x] = probability[(context.y + y) * 40 + context.x + x]!;
      return labelChunk(data, grid, lx, 0, params({}));
    });
    expect(() => resolveLabelChunks(grid, [chunks[0]!.record])).toThrow('records: expected 2 label chunks (2x1), found 1');
    expect(() => resolveLabelChunks(grid, [chunks[1]!.record, chunks[0]!.record])).toThrow('records[0]: expected label chunk 0, 0, found 1, 0');
    expect(() => labelChunk(new Float32Array(5), grid, 0, 0, params({}))).toThrow('probability of label chunk 0, 0: expected 440 pixels (22x20), found 5');
  });
});

describe('CellMeasurer', () => {
  it('measures window by window, with the labels around each window, as the whole slice', () => {
    const width = 150;
    const height = 110;
    const probability = syntheticCellProbability(width, height, { seed: 7 });
    const p = params({ chunkSize: 40, chunkHalo: 20 });
    const cells = labelCells(probability, width, height, p);
    const whole = measureCells(cells, { slice: 2, probability });

    // the same labels through the chunk records, measured label chunk by label chunk
    const grid = labelChunkGrid(width, height, p);
    const chunks = [];
    for (let ly = 0; ly < grid.rows; ly++) {
      for (let lx = 0; lx < grid.columns; lx++) {
        const context = labelChunkContext(grid, lx, ly);
        const data = new Float32Array(context.width * context.height);
        for (let y = 0; y < context.height; y++) for (let x = 0; x < context.width; x++) data[y * context.width + x] = probability[(context.y + y) * width + context.x + x]!;
        chunks.push(labelChunk(data, grid, lx, ly, p));
      }
    }
    const records = chunks.map((chunk) => chunk.record);
    const resolution = resolveLabelChunks(grid, records);
    expect(resolution.count).toBe(cells.count);
    const measurer = new CellMeasurer(resolution.count, width, height);
    for (const chunk of [...chunks].reverse()) {
      const { core, lx, ly } = chunk.record;
      const labels = finalChunkLabels(resolution, chunk.record, chunk.labels);
      const windowProbability = new Float32Array(core.width * core.height);
      let same = 0;
      for (let y = 0; y < core.height; y++) {
        for (let x = 0; x < core.width; x++) {
          if (labels[y * core.width + x] === cells.labels[(core.y + y) * width + core.x + x]) same++;
          windowProbability[y * core.width + x] = probability[(core.y + y) * width + core.x + x]!;
        }
      }
      expect(same).toBe(core.width * core.height);
      measurer.add({ box: core, labels, probability: windowProbability, surroundings: finalSurroundings(resolution, records, lx, ly) });
    }
    const windowed = measurer.rows(2);
    expect(windowed).toHaveLength(whole.length);
    windowed.forEach((row, i) => {
      const { borderMembraneProbability, ...exact } = row;
      const { borderMembraneProbability: expected, ...exactWhole } = whole[i]!;
      expect(exact).toEqual(exactWhole);
      expect(borderMembraneProbability).toBeCloseTo(expected, 9);
    });
  });

  it('names a window side without its surroundings', () => {
    const measurer = new CellMeasurer(1, 4, 2);
    expect(() => measurer.add({ box: { x: 0, y: 0, width: 2, height: 2 }, labels: Uint32Array.of(1, 1, 1, 1) })).toThrow(
      'surroundings.right of the window at (0, 0): expected 2 labels, found none',
    );
  });
});
