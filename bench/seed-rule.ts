/**
 * `npm run bench:seeds -- --model models/isbi2012-unet.onnx --select-slices 23-26 --slices 27-29
 *  --json models/isbi2012-unet.cells.json`: which cell parameters (seed rule, thresholds, size
 * filters: core/cells/cell-params.ts) the model's card should carry, measured on labelled slices.
 *
 * 1. The probability maps of the selection and test slices, once, as evaluate and predict compute
 *    them (evaluate/evaluation-model.ts: core/inference.ts segmentImage with the card's options), plain
 *    (no TTA).
 *    The selection slices' maps also under each shift of the suite (core/shift-suite.ts, all but
 *    `none`: other pixel sizes, gamma, contrast, noise, blur, JPEG), unless `--no-shift`.
 * 2. Every set of the grid (core/cells/seed-rule-grid.ts; `--grid small` for a quick check) labels
 *    the selection slices and is scored (core/cells/seed-rule-sweep.ts: labelCells, then
 *    scoreLabelSlices, V_rand and V_info averaged over slices), and the same under every shift
 *    (the mean V_rand over shifts).
 * 3. The choice (core/cells/seed-rule-choice.ts): the model's current parameters (its card's
 *    `cells`, else the built-in defaults) stay unless the best set beats them by `--margin`
 *    (default 0.001) in V_rand on the selection slices and in the shift suite's mean there.
 * 4. The chosen set, once, on the test slices, beside the mask at the card's threshold and at 0.5
 *    (core/metrics scoreSlices). Nothing is chosen on them.
 *
 * Prints Markdown tables; `--json` writes every figure, the machine and the time, and `cells`: the
 * choice in the model card's `cells` shape, which `emseg convert --cells <json>` puts in the card.
 */
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { cellParamsFrom, type CellParams } from '../core/cells/cell-params.ts';
import { CELL_CHOICE_MARGIN, chooseCellParams } from '../core/cells/seed-rule-choice.ts';
import { SEED_RULE_GRID_NAMES, describeCellParams, sameCellParams, seedRuleGrid } from '../core/cells/seed-rule-grid.ts';
import { scoreCellParams, sweepCellParams, type CellParamsScore, type ScoredSlices } from '../core/cells/seed-rule-sweep.ts';
import { EmsegError } from '../core/errors.ts';
import { assertSameShape, type GreyImage } from '../core/image.ts';
import { ISBI_TRAIN_IMAGES, ISBI_TRAIN_LABELS } from '../core/isbi-data.ts';
import { scoreSlices } from '../core/metrics/score.ts';
import { SHIFT_SUITE, shiftedPredictor } from '../core/shift-suite.ts';
import { formatSliceList, parseSliceList } from '../core/slice-list.ts';
import { openEvaluationModel } from '../evaluate/evaluation-model.ts';
import { commandLine } from '../cli/command-line.ts';
import { writeFileAtomic } from '../node/atomic-write.ts';
import { readImageFile } from '../node/image-files.ts';
import { machineDescription } from '../train/machine.ts';
import { choiceOption, defineBench, flagOption, numberOption, runWithArgs, textOption, type BenchArgs } from './shared/args.ts';

export const BENCH = defineBench('seeds', "choose the cell parameters of a model's card on labelled slices", {
  model: textOption('file', 'ONNX model (or tfjs Layers folder)', 'models/isbi2012-unet.onnx'),
  images: textOption('stack', 'image stack', ISBI_TRAIN_IMAGES),
  labels: textOption('stack', 'label stack (255 = cell interior)', ISBI_TRAIN_LABELS),
  'select-slices': textOption('list', 'slices that choose', '23-26'),
  slices: textOption('list', 'test slices, scored once with the chosen set', '27-29'),
  grid: choiceOption('parameter sets (core/cells/seed-rule-grid.ts)', SEED_RULE_GRID_NAMES, 'default'),
  margin: numberOption('v', 'V_rand another set must gain over the current one (on the selection slices and in the shift suite\'s mean)', CELL_CHOICE_MARGIN, { min: 0 }),
  'no-shift': flagOption('no shift suite: the choice rests on the selection slices as they are'),
  ep: textOption('list', 'onnxruntime execution providers, e.g. cpu', undefined, 'as emseg evaluate'),
  json: textOption('file', 'write every figure and the chosen `cells` section (for emseg convert --cells)', undefined),
});

const f = (v: number) => v.toFixed(4);

function paramCells(p: CellParams): string[] {
  return [p.seedRule, String(p.seedThreshold), p.seedRule === 'distance' ? String(p.seedDistance) : '-', String(p.minSeedArea), String(p.maskThreshold), String(p.minCellArea)];
}

/** The selection table: one row per set, the chosen one in bold. */
export function selectionTable(rows: readonly CellParamsScore[], chosen: CellParams): string {
  const shifts = rows.some((row) => row.shiftVRand !== undefined);
  const head = `| seed rule | seedThreshold | seedDistance | minSeedArea | maskThreshold | minCellArea | V_rand | V_info |${shifts ? ' shift-suite V_rand |' : ''} cells/slice | s |\n|${' --- |'.repeat(shifts ? 11 : 10)}\n`;
  return (
    head +
    rows
      .map((row) => {
        const bold = sameCellParams(row.params, chosen) ? (text: string) => `**${text}**` : (text: string) => text;
        const cells = [...paramCells(row.params), f(row.vRand), f(row.vInfo), ...(shifts ? [row.shiftVRand === undefined ? '-' : f(row.shiftVRand)] : [])].map(bold);
        return `| ${[...cells, row.cellsPerSlice.toFixed(0), row.seconds.toFixed(1)].join(' | ')} |`;
      })
      .join('\n') +
    '\n'
  );
}

interface MaskFigures {
  threshold: number;
  vRand: number;
  vInfo: number;
}

/** The mask at the card's threshold and at 0.5. */
function maskFigures(probabilities: Float32Array[], truths: GreyImage[], cardThreshold: number): { atCardThreshold: MaskFigures; at05: MaskFigures } {
  const summary = scoreSlices(probabilities, truths, { thresholds: [0.5], threshold: cardThreshold });
  const pick = (row: { threshold: number; vRand: number; vInfo: number }) => ({ threshold: row.threshold, vRand: row.vRand, vInfo: row.vInfo });
  return { atCardThreshold: pick(summary.atThreshold), at05: pick(summary.perThreshold[0]!) };
}

const load = () => loadavg().map((x) => Number(x.toFixed(2)));

/** Runs the measurement; a mistake in the arguments (exit code 2) or the inputs (exit code 1) is one `bench:seeds:` line on stderr. */
export function runBench(argv: readonly string[]): Promise<number> {
  return runWithArgs(BENCH, argv, (values) => measure(values, argv));
}

/** `args`: the command line as given, recorded in the JSON. */
async function measure(values: BenchArgs<typeof BENCH.options>, args: readonly string[]): Promise<number> {
  const say = (line: string) => process.stdout.write(`${line}\n`);
  const note = (line: string) => process.stderr.write(`${line}\n`);
  const started = new Date();
  const loadAtStart = load();
  const grid = seedRuleGrid(values.grid);
  const margin = values.margin;
  const [images, labels] = await Promise.all([readImageFile(values.images), readImageFile(values.labels)]);
  assertSameShape(images, `--images ${values.images}`, labels, `--labels ${values.labels}`);
  const selectSlices = parseSliceList(values['select-slices'], images.pages.length, '--select-slices');
  const testSlices = parseSliceList(values.slices, images.pages.length, '--slices');
  const overlap = selectSlices.filter((s) => testSlices.includes(s));
  if (overlap.length > 0) throw new EmsegError('E_BAD_ARGUMENT', `--select-slices: ${formatSliceList(overlap)} also in --slices; selection and test slices must not overlap`);

  const model = await openEvaluationModel(values.model, values.ep === undefined ? {} : { providers: values.ep });
  const probabilityStart = performance.now();
  const probabilities = new Map<number, Float32Array>();
  const shifts = SHIFT_SUITE.filter((shift) => shift.name !== 'none');
  const shiftedProbabilities: Float32Array[][] = [];
  try {
    for (const [k, slice] of [...selectSlices, ...testSlices].entries()) {
      probabilities.set(slice, await model.predictSlice(images.pages[slice]!, { tta: false }));
      note(`probability map of slice ${slice} (${k + 1}/${selectSlices.length + testSlices.length})`);
    }
    if (!values['no-shift']) {
      for (const [k, shift] of shifts.entries()) {
        const predict = shiftedPredictor(shift, (image) => model.predictSlice(image, { tta: false }));
        const maps: Float32Array[] = [];
        for (const slice of selectSlices) maps.push(await predict(images.pages[slice]!));
        shiftedProbabilities.push(maps);
        note(`probability maps of the selection slices under ${shift.name} (${k + 1}/${shifts.length})`);
      }
    }
  } finally {
    await model.dispose();
  }
  const probabilitySeconds = (performance.now() - probabilityStart) / 1000;
  const slicesOf = (list: number[]) => ({
    width: images.width,
    height: images.height,
    probabilities: list.map((s) => probabilities.get(s)!),
    truths: list.map((s) => labels.pages[s]!),
  });

  // The model's current parameters take part even when the grid lacks them.
  const current = cellParamsFrom(model.card?.cells);
  const sets = grid.some((p) => sameCellParams(p, current)) ? grid : [current, ...grid];
  const selection = slicesOf(selectSlices);
  const shifted: ScoredSlices[] = shiftedProbabilities.map((maps) => ({ ...selection, probabilities: maps }));
  const rows = sweepCellParams(
    selection,
    sets,
    (row, done, total) => note(`set ${done}/${total}: ${describeCellParams(row.params)}: V_rand ${f(row.vRand)}${row.shiftVRand === undefined ? '' : `, shift suite ${f(row.shiftVRand)}`} (${row.seconds.toFixed(1)} s)`),
    shifted,
  );
  const choice = chooseCellParams(rows, current, margin);
  const selectionMask = maskFigures(selection.probabilities, selection.truths, model.threshold);

  const test = slicesOf(testSlices);
  const testLabels = scoreCellParams(test, choice.chosen.params);
  const testMask = maskFigures(test.probabilities, test.truths, model.threshold);
  const finished = new Date();
  const wallTimeSeconds = (finished.getTime() - started.getTime()) / 1000;

  const selectText = formatSliceList(selectSlices);
  const testText = formatSliceList(testSlices);
  say(`${values.model} (${model.kind}), ${values.images} slices ${selectText} choose, ${testText} report; probability maps plain, card options; ${machineDescription()}`);
  say('');
  say(`Selection slices ${selectText} (mask for reference: V_rand ${f(selectionMask.atCardThreshold.vRand)} at the card's ${model.threshold}, ${f(selectionMask.at05.vRand)} at 0.5):`);
  say('');
  process.stdout.write(selectionTable(rows, choice.chosen.params));
  say('');
  say(`choice: ${choice.reason}`);
  say('');
  say(`Test slices ${testText}, the chosen set only:`);
  say('');
  say('| proposal | V_rand | V_info |\n| --- | --- | --- |');
  say(`| cell labels (${describeCellParams(choice.chosen.params)}) | ${f(testLabels.vRand)} (per slice ${testLabels.perSliceVRand.map(f).join(', ')}) | ${f(testLabels.vInfo)} |`);
  say(`| mask at the card's threshold ${model.threshold} | ${f(testMask.atCardThreshold.vRand)} | ${f(testMask.atCardThreshold.vInfo)} |`);
  say(`| mask at 0.5 | ${f(testMask.at05.vRand)} | ${f(testMask.at05.vInfo)} |`);
  say('');
  say(`${rows.length} sets; probability maps ${probabilitySeconds.toFixed(0)} s, in all ${wallTimeSeconds.toFixed(0)} s; load average ${loadAtStart.join(', ')} at the start on ${cpus().length} cores`);

  if (values.json !== undefined) {
    const command = commandLine(['npm', 'run', 'bench:seeds', '--', ...args]);
    const chosenBy = `${command} (${finished.toISOString().slice(0, 10)}): ${choice.reason}; test slices ${testText}, scored once: V_rand ${f(testLabels.vRand)}, V_info ${f(testLabels.vInfo)} (mask at the card's ${model.threshold}: V_rand ${f(testMask.atCardThreshold.vRand)})`;
    const json = {
      benchmark: 'seed-rule',
      model: values.model,
      modelKind: model.kind,
      sha256: statSync(values.model).isFile() ? createHash('sha256').update(readFileSync(values.model)).digest('hex') : null,
      cardThreshold: model.threshold,
      images: values.images,
      labels: values.labels,
      probabilityMaps: { tta: false, options: "the model card's (core/card-options.ts segmentOptionsFromCard)", seconds: probabilitySeconds },
      grid: values.grid,
      margin,
      rule: `the current parameters (the card's cells, else the built-in defaults) stay unless the set with the largest V_rand on the selection slices beats them by the margin there${shifted.length > 0 ? " and in the shift suite's mean V_rand on them" : ''}`,
      shiftSuite: shifted.length > 0 ? { shifts: shifts.map((shift) => shift.name), probabilityMaps: 'plain, computed under each shift and brought back to the slice grid' } : null,
      selection: { slices: selectSlices, current, rows, mask: selectionMask, chosen: choice.chosen.params, best: choice.best.params, reason: choice.reason },
      test: { slices: testSlices, labels: testLabels, mask: testMask },
      cells: { ...choice.chosen.params, chosenBy },
      command,
      machine: machineDescription(),
      loadAverage: { start: loadAtStart, end: load() },
      start: started.toISOString(),
      end: finished.toISOString(),
      wallTimeSeconds,
    };
    await writeFileAtomic(values.json, `${JSON.stringify(json, null, 2)}\n`, { inputs: [values.model, values.images, values.labels] });
    note(`wrote ${values.json}`);
  }
  return 0;
}
