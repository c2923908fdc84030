/**
 * Training and evaluation facts for the model card, read from what the other commands leave
 * behind, all optional:
 * - `emseg train` writes `<run>/config.json` (command, backend, split, config with budget,
 *   wallTimeSeconds, cropsSeen, stepsDone, best) beside `<run>/model/`; the card takes it from
 *   the model folder or its parent.
 * - `emseg evaluate --json` writes the figures; given with `--metrics`, they go into the card.
 * - `npm run bench:seeds -- --json` (bench/seed-rule.ts) writes the chosen cell parameters; given
 *   with `--cells`, they become the card's `cells` section (a hand-written section works too).
 * Unknown or missing fields are left out, never guessed.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { MetricFigures, ModelCard } from '../core/contract.ts';
import { cellsSectionFrom } from '../core/cells/cell-params.ts';
import { EmsegError } from '../core/errors.ts';
import { ISBI_TRAIN_IMAGES } from '../core/isbi-data.ts';
import { MAX_ANCESTRY, cropsSeenWithAncestors } from '../core/training-ancestry.ts';
import { findModelCard } from '../node/model-card-file.ts';
import { sha256Hex } from '../node/sha256.ts';
import { readTrainingRun } from '../node/training-run-file.ts';

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json => value !== null && typeof value === 'object' && !Array.isArray(value);
const num = (value: unknown): number | undefined => (typeof value === 'number' && Number.isFinite(value) ? value : undefined);
const str = (value: unknown): string | undefined => (typeof value === 'string' && value.length > 0 ? value : undefined);

function readJson(path: string, what: string): Json {
  if (!existsSync(path)) throw new EmsegError('E_NOT_FOUND', `${what} ${path}: no such file`);
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new EmsegError('E_BAD_ARGUMENT', `${what} ${path}: not valid JSON (${(error as Error).message})`, { cause: error });
  }
  if (!isObject(value)) throw new EmsegError('E_BAD_ARGUMENT', `${what} ${path}: expected a JSON object`);
  return value;
}

/** Expands "0-24" / "25,27-29" / [0, 1] into indices; undefined when not understood. */
function sliceList(value: unknown): number[] | undefined {
  if (Array.isArray(value) && value.every((v) => Number.isInteger(v))) return value as number[];
  if (typeof value !== 'string') return undefined;
  const out: number[] = [];
  for (const part of value.split(',').map((p) => p.trim()).filter(Boolean)) {
    const match = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!match) return undefined;
    const from = Number(match[1]);
    const to = match[2] !== undefined ? Number(match[2]) : from;
    for (let index = from; index <= to; index++) out.push(index);
  }
  return out;
}

/**
 * Whether a JSON file looks like the config.json `emseg train` writes, so that a stray config.json
 * beside a model folder is ignored: a look at its shape only; the one found is then read and
 * checked by readTrainingInfo (a malformed record of a run is an error, not skipped).
 */
function isTrainingRunConfig(path: string): boolean {
  try {
    const run = JSON.parse(readFileSync(path, 'utf8')) as unknown;
    return isObject(run) && isObject(run['config']) && (isObject(run['split']) || typeof run['command'] === 'string');
  } catch {
    return false;
  }
}

/** The training run's config.json inside or next to the tfjs model folder, if one is there. */
export function findTrainingConfig(modelDir: string): string | undefined {
  const folder = resolve(modelDir.endsWith('.json') ? join(modelDir, '..') : modelDir);
  return [join(folder, 'config.json'), join(folder, '..', 'config.json')].find((path) => existsSync(path) && isTrainingRunConfig(path));
}

/** The run's train.log.jsonl beside its config.json, if any. */
export function findTrainingLog(configPath: string): string | undefined {
  const path = join(configPath, '..', 'train.log.jsonl');
  return existsSync(path) ? path : undefined;
}

/**
 * ModelCard.training from a run's config.json (train/loop.ts's format), or undefined. The file is
 * read and checked by the one reader of run records (node/training-run-file.ts: one line naming
 * the file and the bad field); fields the schema does not name are kept as written.
 */
export function readTrainingInfo(configPath: string): ModelCard['training'] | undefined {
  const run = readTrainingRun(configPath);
  const config: Json = run.config ?? {};
  const train = sliceList(run.split?.train ?? config['trainSlices']);
  const validation = sliceList(run.split?.validation ?? config['validationSlices']);
  if (!train && !validation && !str(run['command'])) return undefined;
  const images = str(config['images']) ?? ISBI_TRAIN_IMAGES;
  const labels = str(config['labels']);
  const steps = num(run['stepsDone']) ?? num(config['steps']);
  const batchSize = num(config['batchSize']);
  const cropSize = num(config['cropSize']);
  const budgetParts = [
    num(config['steps']) !== undefined ? `${num(config['steps'])} steps` : undefined,
    batchSize !== undefined ? `batch ${batchSize}` : undefined,
    cropSize !== undefined ? `${cropSize}x${cropSize} crops` : undefined,
    num(config['maxMinutes']) !== undefined ? `max ${num(config['maxMinutes'])} min` : undefined,
  ].filter(Boolean);
  const info: NonNullable<ModelCard['training']> = {
    data: labels ? `${images} with ${labels}` : images,
    split: { train: train ?? [], validation: validation ?? [] },
  };
  const command = str(run['command']);
  if (command) info.command = command;
  if (budgetParts.length > 0) info.budget = budgetParts.join(', ');
  const cropsSeen = num(run['cropsSeen']);
  if (cropsSeen !== undefined) info.cropsSeen = cropsSeen;
  if (steps !== undefined) info.steps = steps;
  const wall = num(run['wallTimeSeconds']);
  if (wall !== undefined) info.wallTimeSeconds = wall;
  const machine = str(run['machine']);
  if (machine) info.machine = machine;
  const backend = str(run['backend']);
  if (backend) info.backend = backend;
  const status = str(run['status']);
  if (status) info['status'] = status;
  if (Array.isArray(run['backendReport'])) info['backendReport'] = run['backendReport'];
  for (const key of ['startedAt', 'finishedAt']) {
    const value = str(run[key]);
    if (value) info[key] = value;
  }
  if (run.best) info['bestValidation'] = run.best;
  // Fine-tuned models name their parent (emseg train --init: name, sha256, path, its data), and
  // with it the parent's own training when its file is still there (withAncestry).
  const parent = run['parent'];
  if (isObject(parent) && str(parent['name']) && str(parent['sha256'])) {
    info.parent = { ...withAncestry(parent), name: str(parent['name'])!, sha256: str(parent['sha256'])! };
    const total = cropsSeenWithAncestors(info);
    if (total !== undefined) info['cropsSeenWithAncestors'] = total;
  }
  if (isObject(run['data'])) info['sources'] = run['data'];
  const pixelSize = num(run['trainingPixelSize']);
  if (pixelSize !== undefined) info['trainingPixelSize'] = pixelSize;
  return info;
}

/** What a child's card keeps of its parent's training (the parent card's training fields of these names). */
const ANCESTOR_FACTS = ['data', 'command', 'budget', 'cropsSeen', 'steps', 'wallTimeSeconds', 'machine', 'backend', 'startedAt', 'finishedAt'] as const;

/**
 * A parent as a run recorded it (`name`, `sha256`, `path` as given to --init), with `training`: the
 * parent card's training facts (ANCESTOR_FACTS) and its own parent, the same way, so a model made
 * by successive --init runs names every run that made it. Only a file at `path` whose sha256 is
 * the recorded one is read; otherwise, or when that file has no card, the parent stays as recorded.
 * A parent that already carries `training` (a card made by this function) is kept as it is.
 */
function withAncestry(parent: Json, depth = 0): Json {
  const path = str(parent['path']);
  if (isObject(parent['training']) || path === undefined || depth >= MAX_ANCESTRY || !existsSync(path)) return parent;
  const bytes = readFileSync(path);
  if (sha256Hex(bytes) !== parent['sha256']) return parent;
  const training = findModelCard(path, bytes)?.card.training as Json | undefined;
  if (!training) return parent;
  const facts: Json = {};
  for (const key of ANCESTOR_FACTS) if (training[key] !== undefined) facts[key] = training[key];
  if (isObject(training['parent'])) facts['parent'] = withAncestry(training['parent'], depth + 1);
  return { ...parent, training: facts };
}

function figuresFromRow(row: Json): MetricFigures {
  const figures: MetricFigures = {};
  const set = (key: keyof MetricFigures & string, value: unknown) => {
    const n = num(value);
    if (n !== undefined) figures[key] = n;
  };
  set('vRand', row['vRandBest'] ?? row['vRand']);
  set('vInfo', row['vInfoBest'] ?? row['vInfo']);
  set('bestThreshold', row['bestThreshold']);
  set('pixelError', row['pixelError']);
  set('dice', row['dice']);
  set('iou', row['iou']);
  if (row['vRandBest'] !== undefined) {
    set('vRandAtThreshold', row['vRand']);
    set('vInfoAtThreshold', row['vInfo']);
    set('threshold', row['threshold']);
  }
  return figures;
}

/** Test figures of a row scored at a threshold chosen elsewhere: everything at that threshold. */
function testFigures(row: Json): MetricFigures {
  const figures: MetricFigures = {};
  for (const key of ['vRand', 'vInfo', 'pixelError', 'dice', 'iou', 'threshold'] as const) {
    const n = num(row[key]);
    if (n !== undefined) figures[key] = n;
  }
  return figures;
}

/**
 * ModelCard.metrics from an evaluation JSON: either the card's own shape (command, split,
 * withoutTta, withTta) or `emseg evaluate`'s result with `rows` (variant plain/tta).
 */
export function readMetricsInfo(path: string): NonNullable<ModelCard['metrics']> {
  const doc = readJson(path, '--metrics');
  if (Array.isArray(doc['models'])) {
    throw new EmsegError('E_BAD_ARGUMENT', `--metrics ${path}: holds ${doc['models'].length} models side by side; give the JSON of one model (emseg evaluate <model> --json ...)`);
  }
  const source = isObject(doc['metrics']) ? doc['metrics'] : doc;
  const command = str(source['command']) ?? str(source['evaluateCommand']) ?? `emseg evaluate (${path})`;
  const slices = source['slices'];
  const sliceText = Array.isArray(slices) ? slices.join(',') : str(slices);
  const images = str(source['images']);
  const split =
    str(source['split']) ?? (sliceText !== undefined ? `${images ? `${images} ` : ''}slices ${sliceText}` : 'unknown');
  const metrics: NonNullable<ModelCard['metrics']> = { command, split };
  const machine = str(source['machine']);
  if (machine) metrics.machine = machine;
  const date = str(source['date']);
  if (date) metrics['date'] = date;
  const evaluated = str(source['model']);
  if (evaluated) {
    // The evaluated file (an earlier export or the tfjs folder): its hash differs from the new
    // file's, since the card inside changes; recorded so the figures stay traceable.
    metrics['evaluatedModel'] = { path: evaluated, kind: str(source['modelKind']) ?? null, sha256: str(source['sha256']) ?? null };
  }
  const threshold = num(source['threshold']);
  if (threshold !== undefined) metrics['threshold'] = threshold;
  if (isObject(source['withoutTta'])) metrics.withoutTta = figuresFromRow(source['withoutTta']);
  if (isObject(source['withTta'])) metrics.withTta = figuresFromRow(source['withTta']);
  const rows = Array.isArray(source['rows']) ? source['rows'].filter(isObject) : [];
  // `emseg evaluate --select-slices`: the rows are test figures at the threshold chosen on the
  // selection slices; those slices' own figures go beside them, labelled.
  const selection = isObject(source['selection']) ? source['selection'] : undefined;
  for (const row of rows) {
    const figures = selection ? testFigures(row) : figuresFromRow(row);
    if (row['variant'] === 'plain') metrics.withoutTta = figures;
    if (row['variant'] === 'tta') metrics.withTta = figures;
  }
  if (selection) {
    const selectSlices = Array.isArray(selection['slices']) ? selection['slices'].join(',') : str(selection['slices']);
    metrics['protocol'] = `test figures: slices ${sliceText ?? '?'} at the threshold chosen on the selection slices ${selectSlices ?? '?'}; nothing was chosen on the test slices`;
    const served = selection['served'] === 'tta' || selection['served'] === 'plain' ? { served: selection['served'] } : {};
    const selectionFigures: Json = { slices: selectSlices ?? null, chosenThresholds: selection['chosenThresholds'] ?? null, ...served };
    for (const row of Array.isArray(selection['rows']) ? selection['rows'].filter(isObject) : []) {
      selectionFigures[row['variant'] === 'tta' ? 'withTta' : 'withoutTta'] = figuresFromRow(row);
    }
    metrics['selection'] = selectionFigures;
  }
  const suite = isObject(source['shiftSuite']) ? shiftSuiteFigures(source['shiftSuite']) : undefined;
  if (suite) metrics['shiftSuite'] = suite;
  if (selection && Array.isArray(selection['reasons'])) (metrics['selection'] as Json)['reasons'] = selection['reasons'].filter((r) => typeof r === 'string');
  if (!metrics.withoutTta && !metrics.withTta) {
    throw new EmsegError('E_BAD_ARGUMENT', `--metrics ${path}: no figures found (expected rows from emseg evaluate, or withoutTta/withTta)`);
  }
  return metrics;
}

/** The card's `cells` section from `--cells <file>` (core/cells/cell-params.ts cellsSectionFrom). */
export function readCellsSection(path: string): NonNullable<ModelCard['cells']> {
  return cellsSectionFrom(readJson(path, '--cells'), `--cells ${path}`);
}

/** The shift suite of `emseg evaluate --shift` (core/shift-suite.ts) as the card keeps it: V_rand and V_info at the threshold per shift and variant. */
function shiftSuiteFigures(suite: Json): Json | undefined {
  const rows = Array.isArray(suite['shifts']) ? suite['shifts'].filter(isObject) : [];
  if (rows.length === 0) return undefined;
  const pick = (row: unknown) => (isObject(row) ? { vRand: num(row['vRand']) ?? null, vInfo: num(row['vInfo']) ?? null, threshold: num(row['threshold']) ?? null } : null);
  const variantRow = (rowsOf: unknown, variant: string) => (Array.isArray(rowsOf) ? rowsOf.filter(isObject).find((r) => r['variant'] === variant) : undefined);
  const mean = isObject(suite['meanOverShifts']) ? suite['meanOverShifts'] : {};
  const meanOf = (variant: string) => (isObject(mean[variant]) ? { vRand: num(mean[variant]['vRand']) ?? null, vInfo: num(mean[variant]['vInfo']) ?? null } : null);
  return {
    slices: Array.isArray(suite['slices']) ? suite['slices'].join(',') : null,
    command: 'emseg evaluate --shift (core/shift-suite.ts)',
    shifts: rows.map((r) => ({
      shift: str(r['shift']) ?? '?',
      description: str(r['description']) ?? '',
      withoutTta: pick(variantRow(r['rows'], 'plain')),
      withTta: pick(variantRow(r['rows'], 'tta')),
    })),
    meanOverShifts: { withoutTta: meanOf('plain'), withTta: meanOf('tta') },
  };
}
