/**
 * The foreground-restricted Rand score V_rand and information-theoretic score V_info of the ISBI 2012
 * challenge (Arganda-Carreras et al. 2015, "Crowdsourcing the creation of image segmentation
 * algorithms for connectomics", Front. Neuroanat. 9:142, eqs. 3-4 and 8-9 with alpha = 1/2), exactly
 * as the challenge's Fiji code computes them for one 2D slice (Trainable Segmentation,
 * `RandError.foregroundRestrictedStatsN2` and `VariationOfInformation.foregroundRestrictedFscore`):
 *
 * Let A be the ground-truth segmentation and B the (border-thinned) proposal. Only the n pixels in
 * ground-truth foreground (A's segments, label != 0) count; ground-truth background is left out.
 * p_ij = n_ij / n is the fraction of those pixels in ground-truth segment i and proposal segment j
 * (j >= 1), a_i = sum_j p_ij over all j including the proposal's border (so a_i is segment i's size
 * / n), b_j = sum_i p_ij. The c0 pixels inside ground-truth foreground that lie on a proposal border
 * (label 0) count as singletons, one segment each, of probability 1/n.
 *
 *   V_rand = 2 sum_ij p_ij^2 / (sum_i a_i^2 + sum_j b_j^2)     (both sums over j include the singletons,
 *                                                              which add c0 / n^2)
 *          = F-score of Rand precision sum p_ij^2 / sum b_j^2 and Rand recall sum p_ij^2 / sum a_i^2
 *
 *   H(A) = -sum_i a_i log a_i, H(B) = -sum_j b_j log b_j (singletons included),
 *   I(A;B) = H(A) + H(B) - H(A,B), H(A,B) = -sum_ij p_ij log p_ij (singletons included),
 *   V_info = F-score of I/H(A) and I/H(B) = 2 I / (H(A) + H(B)),
 *   with Fiji's conventions for degenerate cases: if H(A) = 0 (one ground-truth segment) then
 *   precision 0 and recall 1; if H(B) = 0 (one proposal segment, no singleton) then precision 1 and
 *   recall 0; so V_info = 0 in both cases (and also when I = 0).
 *
 * Both scores are in [0, 1], 1 for a perfect segmentation. The sums are taken over integer counts
 * (exact for V_rand). A slice without any ground-truth foreground (n = 0) has nothing to score: both
 * are defined as 1 here (Fiji would divide by zero).
 */
import type { Components } from './components.ts';
import type { ThinnedSegments } from './border-thinning.ts';

export interface SegmentationScores {
  vRand: number;
  vInfo: number;
}

/** x log x for counts, 0 for 0. */
const xlogx = (x: number): number => (x > 0 ? x * Math.log(x) : 0);

/** V_rand and V_info of a proposal against ground-truth segments (labels 1.. of `truth`). */
export function foregroundRestrictedScores(truth: Components, proposal: ThinnedSegments): SegmentationScores {
  const gt = truth.labels;
  const pr = proposal.labels;
  if (gt.length !== pr.length) throw new RangeError(`proposal: expected ${gt.length} pixels, found ${pr.length}`);
  const stride = proposal.count + 1;
  const columnCounts = new Float64Array(stride); // b_j * n, j >= 1; [0] = c0
  const pairs = new Map<number, number>(); // key i * stride + j (j >= 1) -> n_ij
  let n = 0;
  // runs of equal pairs are common (segments are contiguous along rows): count them before touching the map
  let runKey = -1;
  let runLength = 0;
  for (let p = 0; p < gt.length; p++) {
    const i = gt[p]!;
    if (i === 0) continue;
    n++;
    const j = pr[p]!;
    columnCounts[j]!++;
    if (j === 0) continue;
    const key = i * stride + j;
    if (key === runKey) {
      runLength++;
    } else {
      if (runLength > 0) pairs.set(runKey, (pairs.get(runKey) ?? 0) + runLength);
      runKey = key;
      runLength = 1;
    }
  }
  if (runLength > 0) pairs.set(runKey, (pairs.get(runKey) ?? 0) + runLength);
  if (n === 0) return { vRand: 1, vInfo: 1 };
  const c0 = columnCounts[0]!;

  // ground-truth segment sizes within the foreground (all of each segment: it is foreground)
  let sumA2 = 0;
  let sumAlogA = 0;
  let truthSegments = 0;
  for (let i = 1; i <= truth.count; i++) {
    const a = truth.sizes[i]!;
    if (a === 0) continue;
    truthSegments++;
    sumA2 += a * a;
    sumAlogA += xlogx(a);
  }
  let sumB2 = c0; // each singleton adds 1^2
  let sumBlogB = 0; // each singleton adds 1 log 1 = 0
  let proposalParts = c0;
  for (let j = 1; j < stride; j++) {
    const b = columnCounts[j]!;
    if (b === 0) continue;
    proposalParts++;
    sumB2 += b * b;
    sumBlogB += xlogx(b);
  }
  let sumAB2 = c0;
  let sumABlogAB = 0;
  for (const c of pairs.values()) {
    sumAB2 += c * c;
    sumABlogAB += xlogx(c);
  }

  const vRand = (2 * sumAB2) / (sumA2 + sumB2);

  // with p = count / n and sum of counts = n: sum p log p = (sum c log c) / n - log n
  const logN = Math.log(n);
  const hA = logN - sumAlogA / n;
  const hB = logN - sumBlogB / n;
  const hAB = logN - sumABlogAB / n;
  const mutual = Math.max(0, hA + hB - hAB);
  let precision = truthSegments > 1 ? mutual / hA : 0;
  let recall = truthSegments > 1 ? mutual / hB : 1;
  if (proposalParts <= 1) {
    precision = 1;
    recall = 0;
  }
  const vInfo = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
  return { vRand, vInfo: Math.min(1, vInfo) };
}
