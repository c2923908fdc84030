/**
 * The parameters that turn a probability map into cell labels (cell-labels.ts): the seed rule,
 * its thresholds, the size filters. Their one definition, their defaults (chosen on ISBI slices
 * 23-26: core/cells/README.md) and their check; the model card may carry them (`cells`, parsed by
 * core/model-card.ts with the schema below; `emseg convert --cells` writes the choice of
 * `npm run bench:seeds`), otherwise the defaults apply. Platform-neutral.
 */
import { z } from 'zod';
import { definedFields } from '../defined.ts';
import { EmsegError } from '../errors.ts';

/**
 * How seeds are found: `probability` = the 4-connected components of probability >= seedThreshold;
 * `distance` = the same pixels, kept only where they are more than `seedDistance` pixels from any
 * pixel below seedThreshold (the components of the eroded interior, by the Euclidean distance
 * transform), which splits cells joined by a narrow neck.
 */
export const SEED_RULES = ['probability', 'distance'] as const;
export type SeedRule = (typeof SEED_RULES)[number];

const fraction = z.number({ error: 'expected a number in [0, 1]' }).min(0, { error: 'expected a number in [0, 1]' }).max(1, { error: 'expected a number in [0, 1]' });
const pixels = z.number({ error: 'expected a number of pixels >= 0' }).min(0, { error: 'expected a number of pixels >= 0' });

/** The model card's `cells` section; every field optional (the defaults fill in). */
export const cellParamsSchema = z.looseObject({
  seedRule: z.enum(SEED_RULES, { error: `expected one of ${SEED_RULES.join(', ')}` }).optional(),
  seedThreshold: fraction.optional(),
  seedDistance: pixels.optional(),
  minSeedArea: pixels.optional(),
  maskThreshold: fraction.optional(),
  minCellArea: pixels.optional(),
  /** How the defaults were chosen (command, slices, scores). */
  chosenBy: z.string().optional(),
});

export interface CellParams {
  seedRule: SeedRule;
  /** Cell-interior probability a seed pixel needs. */
  seedThreshold: number;
  /** `distance` rule: a seed pixel is more than this many pixels from any pixel below seedThreshold. */
  seedDistance: number;
  /** Seeds (4-connected components) of fewer pixels are dropped. */
  minSeedArea: number;
  /** Pixels below this probability are membrane and belong to no cell (0 floods every pixel). */
  maskThreshold: number;
  /** Cells of fewer pixels are removed and their pixels flooded by their neighbours. */
  minCellArea: number;
}

/**
 * Chosen on ISBI slices 23-26 with the shipped model (V_rand 0.9818 against 0.9744 for the mask at
 * the card's 0.8), reported on 27-29 (0.9813 against 0.9793): core/cells/README.md.
 */
export const DEFAULT_CELL_PARAMS: Readonly<CellParams> = Object.freeze({
  seedRule: 'probability',
  seedThreshold: 0.75,
  seedDistance: 0,
  minSeedArea: 25,
  maskThreshold: 0,
  minCellArea: 0,
});

/** Checks every field, naming it, the expected and the found value (EmsegError E_BAD_ARGUMENT). */
export function validateCellParams(params: CellParams, what = 'cell parameters'): CellParams {
  const problems: string[] = [];
  if (!SEED_RULES.includes(params.seedRule)) problems.push(`seedRule: expected one of ${SEED_RULES.join(', ')}, found ${JSON.stringify(params.seedRule)}`);
  for (const key of ['seedThreshold', 'maskThreshold'] as const) {
    const v = params[key];
    if (typeof v !== 'number' || !(v >= 0 && v <= 1)) problems.push(`${key}: expected a number in [0, 1], found ${v}`);
  }
  for (const key of ['seedDistance', 'minSeedArea', 'minCellArea'] as const) {
    const v = params[key];
    if (typeof v !== 'number' || !(v >= 0 && Number.isFinite(v))) problems.push(`${key}: expected a finite number >= 0, found ${v}`);
  }
  if (problems.length > 0) throw new EmsegError('E_BAD_ARGUMENT', `${what}: ${problems.join('; ')}`);
  return params;
}

export type CellsSection = z.infer<typeof cellParamsSchema>;

/**
 * The card's `cells` section from a parsed JSON document: its `cells` field when it has one (the
 * JSON of `npm run bench:seeds`), else the document itself (a hand-written section). Checked
 * against the schema, which holds the parameters' rules; at least one parameter must be there, and
 * no unknown field (a misspelt parameter would otherwise be kept and ignored). Throws
 * E_BAD_ARGUMENT naming `what`, each bad field, the expected and the found value.
 */
export function cellsSectionFrom(doc: unknown, what: string): CellsSection {
  const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
  if (!isObject(doc)) throw new EmsegError('E_BAD_ARGUMENT', `${what}: expected a JSON object, found ${Array.isArray(doc) ? 'an array' : JSON.stringify(doc)}`);
  const inner = doc['cells'];
  const value = isObject(inner) ? inner : doc;
  const prefix = value === doc ? '' : 'cells.';
  const result = cellParamsSchema.safeParse(value);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => `${prefix}${issue.path.map(String).join('.')}: ${issue.message}, found ${JSON.stringify(value[String(issue.path[0])])}`);
    throw new EmsegError('E_BAD_ARGUMENT', `${what}: ${problems.join('; ')}`);
  }
  const unknown = Object.keys(value).filter((key) => !Object.hasOwn(cellParamsSchema.shape, key));
  if (unknown.length > 0) throw new EmsegError('E_BAD_ARGUMENT', `${what}: expected only the fields ${Object.keys(cellParamsSchema.shape).join(', ')}, found ${unknown.map((key) => prefix + key).join(', ')}`);
  if (!Object.keys(DEFAULT_CELL_PARAMS).some((key) => result.data[key] !== undefined)) {
    throw new EmsegError('E_BAD_ARGUMENT', `${what}: expected cell parameters (${Object.keys(DEFAULT_CELL_PARAMS).join(', ')}) in it or in its \`cells\` field, found none`);
  }
  return result.data;
}

/** The card's `cells` section over the defaults, then `overrides` over both; checked. */
export function cellParamsFrom(section: z.infer<typeof cellParamsSchema> | undefined, overrides: Partial<CellParams> = {}): CellParams {
  const known = Object.keys(DEFAULT_CELL_PARAMS).map((key) => [key, section?.[key]]);
  const fromCard = definedFields(Object.fromEntries(known) as Partial<CellParams>);
  return validateCellParams({ ...DEFAULT_CELL_PARAMS, ...fromCard, ...definedFields(overrides) });
}
