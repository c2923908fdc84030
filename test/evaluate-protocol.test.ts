// core/evaluation-protocol.ts: the threshold is chosen on the selection slices only (0.5 unless another
// wins by a margin, core/serving-choice.ts), and the test slices are scored at it; overlapping lists
// are refused.
import { describe, expect, it } from 'vitest';
import { selectThenTest } from '../core/evaluation-protocol.ts';
import type { GreyImage } from '../core/image.ts';

const SIZE = 24;

/** A label of 4 cells separated by a membrane cross. */
function cellsLabel(): GreyImage<Uint8Array> {
  const data = new Uint8Array(SIZE * SIZE);
  for (let y = 0; y < SIZE; y++) for (let x = 0; x < SIZE; x++) data[y * SIZE + x] = x === 12 || y === 12 ? 0 : 255;
  return { width: SIZE, height: SIZE, data };
}

/** Probabilities that give a perfect segmentation only for thresholds above `cut` (the membrane has probability `cut` - 0.05). */
function predictorFor(cutByIndex: Map<number, number>) {
  return async (image: GreyImage) => {
    const cut = cutByIndex.get(image.data[0]!)!;
    const label = cellsLabel();
    return Float32Array.from(label.data, (v) => (v === 255 ? 0.95 : cut - 0.05));
  };
}

describe('selectThenTest', () => {
  // The image's first pixel tells the predictor which slice it sees.
  const slice = (index: number) => ({ index, image: { width: SIZE, height: SIZE, data: new Uint8Array(SIZE * SIZE).fill(index) }, label: cellsLabel() });

  it('moves the threshold from 0.5 when the selection slices clearly need it, and scores the test slices at it', async () => {
    // Selection slices separate cells from threshold 0.7 on only (membranes at 0.7 - a float32 ulp); test slices need > 0.8.
    const cuts = new Map([[1, 0.75], [2, 0.75], [3, 0.85], [4, 0.85]]);
    const result = await selectThenTest([slice(1), slice(2)], [slice(3), slice(4)], { plain: predictorFor(cuts) });
    const chosen = result.chosenThresholds.plain!;
    expect(chosen).toBe(result.selection.rows[0]!.bestThreshold);
    expect(chosen).toBe(0.7);
    expect(result.choice.variant).toBe('plain');
    expect(result.choice.reasons[0]).toMatch(/^plain: threshold 0.7: gains 0\.\d{4} over 0.5 in V_rand on the selection slices/);
    const test = result.test.rows[0]!;
    expect(test.threshold).toBe(chosen);
    // At the chosen threshold the test slices merge their cells; their own best threshold would not.
    expect(test.vRand).toBeLessThan(test.vRandBest);
    expect(test.bestThreshold).toBeGreaterThan(chosen);
    expect(result.test.slices).toEqual([3, 4]);
  });

  it('keeps 0.5 when it scores as well as the best of the sweep on the selection slices', async () => {
    // Selection slices separate cells at every threshold > 0.35: 0.4 and 0.5 tie.
    const cuts = new Map([[1, 0.35], [2, 0.35], [3, 0.75], [4, 0.75]]);
    const result = await selectThenTest([slice(1), slice(2)], [slice(3), slice(4)], { plain: predictorFor(cuts) });
    expect(result.selection.rows[0]!.bestThreshold).toBe(0.4);
    expect(result.chosenThresholds.plain).toBe(0.5);
    expect(result.choice.reasons[0]).toMatch(/gains 0.0000 in V_rand there, less than the margin 0.005/);
    expect(result.test.rows[0]!.threshold).toBe(0.5);
  });

  it('refuses test slices that are also selection slices', async () => {
    const slice = { index: 5, image: cellsLabel(), label: cellsLabel() };
    await expect(selectThenTest([slice], [slice], { plain: async (i) => new Float32Array(i.data.length) })).rejects.toThrow(/5 also among the selection slices/);
  });
});
