/**
 * The parameter sets the seed-rule measurement tries (bench/seed-rule.ts): named grids of cell
 * parameters (cell-params.ts), and the short text that names one set in tables and reasons.
 * Platform-neutral.
 *
 *   seedRuleGrid('default');   // 24 sets: the ranges of the table in core/cells/README.md
 */
import { EmsegError } from '../errors.ts';
import { DEFAULT_CELL_PARAMS, type CellParams } from './cell-params.ts';

const set = (fields: Partial<CellParams>): CellParams => ({ ...DEFAULT_CELL_PARAMS, ...fields });

const probabilityRule = (seedThreshold: number, minSeedArea: number, extra: Partial<CellParams> = {}) => set({ seedRule: 'probability', seedThreshold, minSeedArea, seedDistance: 0, ...extra });
const distanceRule = (seedThreshold: number, seedDistance: number, minSeedArea: number) => set({ seedRule: 'distance', seedThreshold, seedDistance, minSeedArea });

/**
 * `default`: 24 sets, a few minutes on 4 + 3 ISBI slices on 2 cores: the probability rule at
 * seedThreshold 0.5-0.95 (minSeedArea 25), minSeedArea 10/50/100 around 0.75 and 0.8, a mask at
 * 0.5, a cell filter of 100 pixels, and the distance rule at seedThreshold 0.5/0.7/0.8 with
 * seedDistance 1-3. `small`: 3 sets, for a quick check of the command.
 */
export const SEED_RULE_GRIDS = {
  default: [
    ...[0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95].map((t) => probabilityRule(t, 25)),
    ...[10, 50, 100].map((area) => probabilityRule(0.75, area)),
    ...[10, 50].map((area) => probabilityRule(0.8, area)),
    probabilityRule(0.7, 10),
    probabilityRule(0.75, 25, { maskThreshold: 0.5 }),
    probabilityRule(0.8, 25, { maskThreshold: 0.5 }),
    probabilityRule(0.75, 25, { minCellArea: 100 }),
    distanceRule(0.5, 2, 10),
    distanceRule(0.7, 1, 10),
    distanceRule(0.7, 2, 10),
    distanceRule(0.7, 3, 10),
    distanceRule(0.8, 1, 10),
    distanceRule(0.8, 2, 10),
    distanceRule(0.7, 2, 50),
  ],
  small: [probabilityRule(0.75, 25), probabilityRule(0.5, 25), distanceRule(0.7, 2, 10)],
} as const satisfies Record<string, readonly CellParams[]>;

export type SeedRuleGridName = keyof typeof SEED_RULE_GRIDS;
export const SEED_RULE_GRID_NAMES = Object.keys(SEED_RULE_GRIDS) as SeedRuleGridName[];

/** The sets of a named grid (a fresh copy); E_BAD_ARGUMENT naming `argument` for an unknown name. */
export function seedRuleGrid(name: string, argument = '--grid'): CellParams[] {
  if (!Object.hasOwn(SEED_RULE_GRIDS, name)) {
    throw new EmsegError('E_BAD_ARGUMENT', `${argument}: expected one of ${SEED_RULE_GRID_NAMES.join(', ')}, found ${JSON.stringify(name)}`);
  }
  return SEED_RULE_GRIDS[name as SeedRuleGridName].map((params) => ({ ...params }));
}

const FIELDS = Object.keys(DEFAULT_CELL_PARAMS) as (keyof CellParams)[];

/** Whether two sets give the same labels (every parameter equal; seedDistance counts only for the distance rule). */
export function sameCellParams(a: CellParams, b: CellParams): boolean {
  return FIELDS.every((key) => key === 'seedDistance' ? a.seedRule !== 'distance' || a.seedDistance === b.seedDistance : a[key] === b[key]);
}

/** `probability >= 0.75, seeds >= 25 px` / `distance > 2 px from p < 0.7, seeds >= 10 px, mask 0.5, cells >= 100 px`. */
export function describeCellParams(params: CellParams): string {
  const rule = params.seedRule === 'distance' ? `distance > ${params.seedDistance} px from p < ${params.seedThreshold}` : `probability >= ${params.seedThreshold}`;
  const parts = [rule, `seeds >= ${params.minSeedArea} px`];
  if (params.maskThreshold > 0) parts.push(`mask ${params.maskThreshold}`);
  if (params.minCellArea > 0) parts.push(`cells >= ${params.minCellArea} px`);
  return parts.join(', ');
}
