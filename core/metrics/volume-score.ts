/**
 * The foreground-restricted V_rand and V_info of a labelled volume (3D objects: a stack of
 * sections whose labels are object ids, e.g. core/cells/section-links.ts) against a ground truth
 * of 3D objects: the ISBI 2012 scores of rand-info.ts taken over every pixel of every section at
 * once instead of per slice, so a pair of pixels in different sections counts together when both
 * are in one object. As in 2D (label-score.ts), the proposal's borders (0) are thinned to one pixel
 * in each section (thinLabelBorders, which keeps the labels) and border pixels in ground-truth
 * foreground count as singletons; ground-truth 0 is left out. A section without any proposal cell
 * is one segment of its own (the 2D thinning's convention), not part of an object.
 *
 *   scoreLabelVolume(proposalSections, truthSections);   // { vRand, vInfo }
 */
import type { Components } from './components.ts';
import { thinLabelBorders } from './border-thinning.ts';
import type { LabelImage } from './label-score.ts';
import { foregroundRestrictedScores, type SegmentationScores } from './rand-info.ts';

function checkSections(sections: readonly LabelImage[], name: string, width: number, height: number): void {
  sections.forEach((section, k) => {
    if (section.width !== width || section.height !== height || section.labels.length !== width * height) {
      throw new RangeError(`${name} section ${k}: expected ${width}x${height} = ${width * height} labels, found ${section.width}x${section.height} with ${section.labels.length}`);
    }
  });
}

/** 3D V_rand and V_info of `proposal` (object ids, 0 = border) against `truth` (object ids, 0 = not counted); section k against section k. */
export function scoreLabelVolume(proposal: readonly LabelImage[], truth: readonly LabelImage[]): SegmentationScores {
  if (proposal.length !== truth.length) throw new RangeError(`truth: expected one section per proposal section (${proposal.length}), found ${truth.length}`);
  if (proposal.length === 0) throw new RangeError('proposal: expected at least one section, found none');
  const { width, height } = truth[0]!;
  checkSections(truth, 'truth', width, height);
  checkSections(proposal, 'proposal', width, height);
  const n = width * height;
  const truthLabels = new Int32Array(n * truth.length);
  let truthCount = 0;
  truth.forEach((section, k) => {
    for (let i = 0; i < n; i++) {
      const v = section.labels[i]!;
      if (!(Number.isInteger(v) && v >= 0 && v <= 0x7fffffff)) throw new RangeError(`truth section ${k}: expected integers in [0, 2^31), found ${v} at pixel ${i}`);
      truthLabels[k * n + i] = v;
      if (v > truthCount) truthCount = v;
    }
  });
  const sizes = new Int32Array(truthCount + 1);
  for (const v of truthLabels) sizes[v]!++;
  sizes[0] = 0;

  const thinnedLabels = new Int32Array(n * proposal.length);
  const empty: number[] = [];
  let proposalCount = 0;
  proposal.forEach((section, k) => {
    const thinned = thinLabelBorders(section.labels, width, height);
    let cells = false;
    for (let i = 0; i < n && !cells; i++) cells = section.labels[i] !== 0;
    if (!cells) empty.push(k);
    else if (thinned.count > proposalCount) proposalCount = thinned.count;
    thinnedLabels.set(thinned.labels, k * n);
  });
  for (const k of empty) thinnedLabels.fill(++proposalCount, k * n, (k + 1) * n);

  const truthComponents: Components = { labels: truthLabels, count: truthCount, sizes };
  return foregroundRestrictedScores(truthComponents, { labels: thinnedLabels, count: proposalCount });
}
