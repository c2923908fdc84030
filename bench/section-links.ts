/**
 * `npm run bench:link -- --labels labels.tif`: how well cells linked across sections
 * (core/cells/section-links.ts, `emseg predict --link-sections`) follow the 3D objects of a
 * labelled stack, by the 3D foreground-restricted V_rand and V_info (core/metrics/volume-score.ts).
 *
 * The ground truth of ISBI 2012 is 2D (each section's cell interior); its 3D objects are not
 * given, so they are derived, a stated proxy: the 4-connected regions of each section's white class
 * (the 2D scores' segments) linked with the same rule at each `--truth-overlaps` fraction. The
 * proposals are the per-section labels given (`emseg predict <stack> -o labels.tif --output
 * labels`, not linked), scored (1) as they are, each cell its own object (the baseline), and (2)
 * linked at each `--overlaps` fraction; beside them the truth's own 2D regions, unlinked and linked,
 * show what the proxy rewards (linked at the truth's own fraction they score 1 by construction).
 * Prints Markdown tables and the machine.
 */
import { EmsegError } from '../core/errors.ts';
import { DEFAULT_MIN_OVERLAP, linkSections, relabelSection } from '../core/cells/section-links.ts';
import { ISBI_TRAIN_LABELS } from '../core/isbi-data.ts';
import { scoreLabelSlices, scoreLabelVolume, truthSegments, type LabelImage } from '../core/metrics/index.ts';
import { formatSliceList, parseSliceList } from '../core/slice-list.ts';
import { readImageFile } from '../node/image-files.ts';
import { readLabelTiff } from '../node/label-tiff.ts';
import { machineDescription } from '../train/machine.ts';
import { defineBench, listOption, runWithArgs, textOption, type BenchArgs } from './shared/args.ts';
import { uptime } from './shared/machine.ts';
import { parseNumberText } from '../core/number-text.ts';

const fraction = (text: string, flag: string) => parseNumberText(text, flag, { min: 0, minExclusive: true, max: 1 });

export const BENCH = defineBench('link', 'cells linked across sections, scored by 3D V_rand against the linked ground-truth regions (a proxy)', {
  labels: textOption('file', 'per-section cell labels, a uint32 TIFF (emseg predict <stack> -o labels.tif --output labels)', undefined, 'none: required'),
  truth: textOption('stack', 'label stack (255 = cell interior), one page per section of --labels', ISBI_TRAIN_LABELS),
  slices: textOption('list', 'consecutive sections to use, e.g. 0-29', undefined, 'every page'),
  overlaps: listOption('f,...', 'minimum overlaps the labels are linked at', [0.1, 0.25, 0.5, 0.75], fraction),
  'truth-overlaps': listOption('f,...', 'minimum overlaps the ground-truth regions are linked at (the proxy 3D objects)', [0.25, DEFAULT_MIN_OVERLAP, 0.75], fraction),
});

const f4 = (v: number) => v.toFixed(4);

interface Proposal {
  name: string;
  sections: LabelImage[];
  objects: number;
  /** Cells that continue an object of the section before, of all cells after the first section. */
  linkedShare: number;
}

/** Object ids of sections linked at `minOverlap`, with the share of cells (after section 0) that continue an object. */
function linked(name: string, sections: readonly LabelImage[], minOverlap: number): Proposal {
  const { ids, objects } = linkSections(sections.map((s) => s.labels), minOverlap);
  let cells = 0;
  for (const section of ids) for (const id of section) if (id > 0) cells++;
  const first = ids[0]!.filter((id) => id > 0).length;
  return {
    name,
    sections: sections.map((s, k) => ({ width: s.width, height: s.height, labels: relabelSection(s.labels, ids[k]!) })),
    objects,
    linkedShare: cells > first ? (cells - objects) / (cells - first) : 0,
  };
}

/** Every cell its own object: section k's labels offset past those of the sections before. */
function unlinked(name: string, sections: readonly LabelImage[]): Proposal {
  let offset = 0;
  let objects = 0;
  const relabelled = sections.map((s) => {
    let largest = 0;
    const labels = new Uint32Array(s.labels.length);
    const present = new Set<number>();
    for (let i = 0; i < labels.length; i++) {
      const v = s.labels[i]!;
      if (v === 0) continue;
      labels[i] = v + offset;
      present.add(v);
      if (v > largest) largest = v;
    }
    offset += largest;
    objects += present.size;
    return { width: s.width, height: s.height, labels };
  });
  return { name, sections: relabelled, objects, linkedShare: 0 };
}

export function runBench(argv: readonly string[]): Promise<number> {
  return runWithArgs(BENCH, argv, measure);
}

async function measure(values: BenchArgs<typeof BENCH.options>): Promise<number> {
  const say = (line: string) => process.stdout.write(`${line}\n`);
  if (values.labels === undefined) {
    throw new EmsegError('E_BAD_ARGUMENT', '--labels: required; make it with emseg predict data/isbi2012/train-volume.tif -o labels.tif --output labels');
  }
  const started = performance.now();
  const [labels, truthStack] = await Promise.all([readLabelTiff(values.labels), readImageFile(values.truth)]);
  if (labels.width !== truthStack.width || labels.height !== truthStack.height || labels.pages.length !== truthStack.pages.length) {
    throw new EmsegError('E_SIZE_MISMATCH', `--labels ${values.labels}: expected ${truthStack.pages.length} pages of ${truthStack.width}x${truthStack.height} like --truth ${values.truth}, found ${labels.pages.length} of ${labels.width}x${labels.height}`);
  }
  const slices = values.slices === undefined ? labels.pages.map((_, k) => k) : parseSliceList(values.slices, labels.pages.length, '--slices');
  if (slices.some((s, i) => i > 0 && s !== slices[i - 1]! + 1)) throw new EmsegError('E_BAD_ARGUMENT', `--slices: expected consecutive sections, found ${formatSliceList(slices)}`);
  const { width, height } = labels;
  const truthPages = slices.map((k) => truthStack.pages[k]!);
  const truth2d: LabelImage[] = truthPages.map((page) => ({ width, height, labels: truthSegments(page).labels }));
  const predicted: LabelImage[] = slices.map((k) => ({ width, height, labels: labels.pages[k]!.data }));
  const truths = values['truth-overlaps'].map((f) => ({ f, truth: linked(`truth linked at ${f}`, truth2d, f) }));

  const proposals: Proposal[] = [
    unlinked('labels, not linked (each cell its own object)', predicted),
    ...values.overlaps.map((f) => linked(`labels linked at ${f}`, predicted, f)),
    unlinked('ground-truth regions, not linked', truth2d),
    ...values.overlaps.map((f) => linked(`ground-truth regions linked at ${f}`, truth2d, f)),
  ];
  const scores = proposals.map((p) => truths.map(({ truth }) => scoreLabelVolume(p.sections, truth.sections)));
  const flat = scoreLabelSlices(predicted, truthPages);

  say(`${values.labels} against ${values.truth}, sections ${formatSliceList(slices)} (${width}x${height}); ${machineDescription()}`);
  say('');
  say('Proxy 3D objects (the ground truth\'s 2D regions linked):');
  say('');
  say('| truth linked at | objects | regions continuing an object of the section before |\n| --- | --- | --- |');
  for (const { f, truth } of truths) say(`| ${f} | ${truth.objects} | ${(truth.linkedShare * 100).toFixed(1)} % |`);
  say('');
  const header = (what: string) => `| proposal | objects | cells continuing | ${truths.map(({ f }) => `${what} (truth at ${f})`).join(' | ')} |\n| --- | --- | --- | ${truths.map(() => '---').join(' | ')} |`;
  for (const [what, key] of [['3D V_rand', 'vRand'], ['3D V_info', 'vInfo']] as const) {
    say(header(what));
    proposals.forEach((p, i) => say(`| ${p.name} | ${p.objects} | ${(p.linkedShare * 100).toFixed(1)} % | ${scores[i]!.map((s) => f4(s[key])).join(' | ')} |`));
    say('');
  }
  say(`For reference, the labels' 2D scores averaged over these sections: V_rand ${f4(flat.vRand)}, V_info ${f4(flat.vInfo)}.`);
  say(`${((performance.now() - started) / 1000).toFixed(1)} s; ${uptime()}`);
  return 0;
}
