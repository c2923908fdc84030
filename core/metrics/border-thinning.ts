/**
 * Border thinning of a binary proposal, as the ISBI 2012 evaluation does it before scoring
 * (Arganda-Carreras et al. 2015, Front. Neuroanat. 9:142; Fiji Trainable Segmentation,
 * `VariationOfInformation.foregroundRestrictedScoreAfterThinningN2`, read from its source; the
 * challenge's `RandError.getMaximalVRandAfterThinning` names the same thinning, its source was not
 * available to us): the thresholded proposal is turned into an image where cell
 * interior is 0 and border (membrane) is 255, and the classic watershed by flooding (Vincent and
 * Soille 1991, Fiji's `WatershedTransform2D`, 4-connectivity) is run on it. The cell components are
 * the minima; the border plateau is flooded from them breadth-first, and where two basins meet a
 * one-pixel watershed line (label 0) remains. So every border is thinned to one pixel, and each
 * basin is a proposal segment.
 *
 * This is a transcription of that algorithm for the two-level case, including its scan order
 * (Fiji scans x in the outer loop, y in the inner loop, i.e. column by column), its neighbour order
 * (left, up, right, down) and its first-in-first-out queue with the global `flag` of the original
 * pseudo-code, so that the watershed lines fall on the same pixels as in Fiji (tested against a
 * literal transcription of Fiji's code: test/metrics-border-thinning.test.ts). Only the numbering
 * of the segments differs (row-major here), which no score depends on. Two consequences of
 * the algorithm, kept as they are:
 * - a proposal without any cell interior is one flat plateau, hence one single basin (a total merge);
 * - a proposal without any border is labelled by its 4-connected components.
 */

import { labelComponents4 } from './components.ts';

const WSHED = 0;
const MASK = -2;
const INQUEUE = -3;

export interface ThinnedSegments {
  /** Per pixel: 0 = one-pixel border line, 1..count = segment (watershed basin). */
  labels: Int32Array;
  count: number;
}

/**
 * Thins the borders of a binary proposal (`cell[i]` non-zero = cell interior) to one-pixel
 * watershed lines and labels the segments between them.
 */
export function thinBorders(cell: Uint8Array, width: number, height: number): ThinnedSegments {
  const n = width * height;
  if (cell.length !== n) throw new RangeError(`cell mask: expected ${n} pixels for ${width}x${height}, found ${cell.length}`);
  // Level 0 (cell interior): nothing is labelled yet, so nothing is queued and every plateau is a
  // new minimum: the basins are the 4-connected cell components. (Fiji numbers them in its column
  // scan order; the numbering does not change the flooding, which only compares labels.)
  const basins = labelComponents4(cell, width, height);
  return floodBorders(basins.labels, basins.count, width, height);
}

/**
 * Thins the borders (label 0) of a given segmentation (labels 1..) the same way: its labels are
 * the basins, 4-connected or not, and labels that touch stay apart. For a proposal made of
 * instance labels (core/cells) instead of a binary mask; on a label image whose labels are the
 * 4-connected components of its non-zero pixels it equals `thinBorders` of that mask.
 */
export function thinLabelBorders(segments: ArrayLike<number>, width: number, height: number): ThinnedSegments {
  const n = width * height;
  if (segments.length !== n) throw new RangeError(`labels: expected ${n} pixels for ${width}x${height}, found ${segments.length}`);
  const labels = new Int32Array(n);
  let count = 0;
  for (let i = 0; i < n; i++) {
    const v = segments[i]!;
    if (!(Number.isInteger(v) && v >= 0 && v <= 0x7fffffff)) throw new RangeError(`labels: expected integers in [0, 2^31), found ${v} at pixel ${i}`);
    labels[i] = v;
    if (v > count) count = v;
  }
  return floodBorders(labels, count, width, height);
}

/**
 * The flooding of the border plateau (label 0) from the basins (labels > 0, up to `count`), in
 * place; see the module comment.
 */
function floodBorders(labels: Int32Array, count: number, width: number, height: number): ThinnedSegments {
  const n = width * height;
  let cells = 0;
  for (let i = 0; i < n; i++) if (labels[i] !== 0) cells++;
  // No cell at all: the border is one flat plateau, hence one single minimum and basin.
  if (cells === 0) return { labels: labels.fill(1), count: 1 };
  if (cells === n) return { labels, count };

  // Level 255 (border): mask it, and queue the border pixels next to a basin in Fiji's scan order
  // (column by column, top to bottom), by a counting sort on the column. (Basins are > 0; border
  // pixels are 0 until marked, then negative.)
  const fifo = new Int32Array(n - cells);
  const columnStart = new Int32Array(width + 1);
  for (let y = 0, p = 0; y < height; y++) {
    for (let x = 0; x < width; x++, p++) {
      if (labels[p]! > 0) continue;
      if ((x > 0 && labels[p - 1]! > 0) || (y > 0 && labels[p - width]! > 0) || (x < width - 1 && labels[p + 1]! > 0) || (y < height - 1 && labels[p + width]! > 0)) {
        labels[p] = INQUEUE;
        columnStart[x + 1]!++;
      } else {
        labels[p] = MASK;
      }
    }
  }
  for (let x = 0; x < width; x++) columnStart[x + 1]! += columnStart[x]!;
  let tail = columnStart[width]!;
  for (let p = 0; p < n; p++) if (labels[p] === INQUEUE) fifo[columnStart[p % width]!++] = p;

  // Extend the basins breadth-first; where two meet, a watershed pixel remains.
  let head = 0;
  let flag = false;
  while (head < tail) {
    const p = fifo[head++]!;
    const x = p % width;
    for (let m = 0; m < 4; m++) {
      let q: number;
      if (m === 0) {
        if (x === 0) continue;
        q = p - 1;
      } else if (m === 1) {
        if (p < width) continue;
        q = p - width;
      } else if (m === 2) {
        if (x === width - 1) continue;
        q = p + 1;
      } else {
        if (p + width >= n) continue;
        q = p + width;
      }
      const lq = labels[q]!;
      const lp = labels[p]!;
      if (lq > 0) {
        if (lp === INQUEUE || (lp === WSHED && flag)) {
          labels[p] = lq;
        } else if (lp > 0 && lp !== lq) {
          labels[p] = WSHED;
          flag = false;
        }
      } else if (lq === WSHED) {
        if (lp === INQUEUE) {
          labels[p] = WSHED;
          flag = true;
        }
      } else if (lq === MASK) {
        labels[q] = INQUEUE;
        fifo[tail++] = q;
      }
    }
  }
  // With at least one cell every border pixel is reached (a border region touching no cell would
  // be the whole image); anything left unlabelled would count as border.
  for (let i = 0; i < n; i++) if (labels[i]! < 0) labels[i] = 0;
  return { labels, count };
}
