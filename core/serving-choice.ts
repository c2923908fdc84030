/**
 * What the served default is, decided on evidence that transfers: the threshold of the mask and
 * plain inference or 8-fold test-time augmentation (TTA), from the selection slices' threshold
 * sweep and, when given, the shift suite run on those same slices (core/shift-suite.ts).
 *
 * The rules (each a margin a change must clear on every piece of evidence, not a best-of):
 * - TTA is served only if it beats plain, both at the default threshold 0.5, by `ttaMargin`
 *   (default 0.01, twice the threshold margin: it costs 8 model runs per tile) in V_rand on the
 *   selection slices and in the shift suite's mean V_rand.
 * - The threshold is the contract's 0.5 unless the sweep's best threshold on the selection slices
 *   beats 0.5 by `margin` (default 0.005) in V_rand there, and, with a shift suite, that same
 *   threshold also beats 0.5 by `margin` in the suite's mean V_rand. A threshold fitted to a few
 *   slices of one stack moves far less often than the best of a sweep does; the default model of
 *   2026-12-02 got 0.8 that way and lost on a stack of another lab (issue 22).
 */
import { DEFAULT_THRESHOLD } from './contract.ts';
import type { EvaluationVariant, MetricsRow } from './evaluation.ts';
import type { ShiftSuiteResult } from './shift-suite.ts';

export interface ServingChoiceOptions {
  /** Default 0.005 (V_rand). */
  margin?: number;
  /** Default 0.01 (V_rand). */
  ttaMargin?: number;
}

export interface ServingChoice {
  /** The variant served by default. */
  variant: EvaluationVariant;
  /** The threshold of each variant evaluated (the served one's goes into the model card). */
  thresholds: Partial<Record<EvaluationVariant, number>>;
  /** One sentence per decision, with the figures that made it. */
  reasons: string[];
}

type Sweep = ReadonlyArray<{ threshold: number; vRand: number }>;

const at = (sweep: Sweep, threshold: number) => {
  const point = sweep.find((p) => Math.abs(p.threshold - threshold) < 1e-9);
  if (!point) throw new RangeError(`threshold sweep: expected the threshold ${threshold} in it, found ${sweep.map((p) => p.threshold).join(', ')}`);
  return point.vRand;
};
const best = (sweep: Sweep) => sweep.reduce((a, b) => (b.vRand > a.vRand ? b : a));
const f = (v: number) => v.toFixed(4);

/** The threshold of one variant under the rule, with its reason. */
export function transferableThreshold(variant: EvaluationVariant, selection: Sweep, shifts: Sweep | undefined, margin: number): { threshold: number; reason: string } {
  const base = DEFAULT_THRESHOLD;
  const top = best(selection);
  const gain = top.vRand - at(selection, base);
  const label = variant === 'tta' ? 'TTA' : 'plain';
  if (Math.abs(top.threshold - base) < 1e-9) return { threshold: base, reason: `${label}: threshold ${base}, the best of the sweep on the selection slices (V_rand ${f(top.vRand)})` };
  if (gain < margin) {
    return { threshold: base, reason: `${label}: threshold ${base}: the sweep's best on the selection slices, ${top.threshold}, gains ${f(gain)} in V_rand there, less than the margin ${margin}` };
  }
  if (shifts) {
    const shiftGain = at(shifts, top.threshold) - at(shifts, base);
    if (shiftGain < margin) {
      return {
        threshold: base,
        reason: `${label}: threshold ${base}: ${top.threshold} gains ${f(gain)} on the selection slices but ${f(shiftGain)} in the shift suite's mean V_rand, less than the margin ${margin}`,
      };
    }
    return { threshold: top.threshold, reason: `${label}: threshold ${top.threshold}: gains ${f(gain)} over ${base} on the selection slices and ${f(shiftGain)} in the shift suite's mean V_rand (margin ${margin})` };
  }
  return { threshold: top.threshold, reason: `${label}: threshold ${top.threshold}: gains ${f(gain)} over ${base} in V_rand on the selection slices (margin ${margin}; no shift suite given)` };
}

/**
 * The threshold a training run's kept validation supports (the run's validation slices are its
 * selection slices): the rule of transferableThreshold on the two points the validation line has,
 * 0.5 and the sweep's best. Undefined when the line lacks them (older records) or was scored at
 * another threshold than 0.5.
 */
export function thresholdFromValidation(
  line: { step: number; threshold?: number; vRand?: number; bestThreshold?: number; vRandBest?: number },
  margin = 0.005,
): { threshold: number; reason: string } | undefined {
  const { threshold, vRand, bestThreshold, vRandBest } = line;
  if (threshold === undefined || vRand === undefined || bestThreshold === undefined || vRandBest === undefined) return undefined;
  if (Math.abs(threshold - DEFAULT_THRESHOLD) > 1e-9) return undefined;
  const sweep = Math.abs(bestThreshold - threshold) < 1e-9 ? [{ threshold, vRand: vRandBest }] : [{ threshold, vRand }, { threshold: bestThreshold, vRand: vRandBest }];
  const choice = transferableThreshold('plain', sweep, undefined, margin);
  return { threshold: choice.threshold, reason: `the training run's validation at step ${line.step} (its validation slices are the selection slices): ${choice.reason}` };
}

/** The served default from the selection slices' rows (plain, optionally tta) and the shift suite on the same slices. */
export function chooseServing(selection: readonly MetricsRow[], shifts?: ShiftSuiteResult, options: ServingChoiceOptions = {}): ServingChoice {
  const { margin = 0.005, ttaMargin = 0.01 } = options;
  for (const [name, value] of [['margin', margin], ['ttaMargin', ttaMargin]] as const) {
    if (!(Number.isFinite(value) && value >= 0)) throw new RangeError(`${name}: expected a finite number >= 0, found ${value}`);
  }
  const plain = selection.find((r) => r.variant === 'plain');
  if (!plain) throw new RangeError('selection: expected a row of the plain variant, found none');
  const tta = selection.find((r) => r.variant === 'tta');
  const thresholds: ServingChoice['thresholds'] = {};
  const reasons: string[] = [];
  for (const row of [plain, ...(tta ? [tta] : [])]) {
    const choice = transferableThreshold(row.variant, row.perThreshold, shifts?.meanOverShifts[row.variant]?.perThreshold, margin);
    thresholds[row.variant] = choice.threshold;
    reasons.push(choice.reason);
  }
  let variant: EvaluationVariant = 'plain';
  if (tta) {
    const gain = at(tta.perThreshold, DEFAULT_THRESHOLD) - at(plain.perThreshold, DEFAULT_THRESHOLD);
    const shiftPlain = shifts?.meanOverShifts.plain;
    const shiftTta = shifts?.meanOverShifts.tta;
    const shiftGain = shiftPlain && shiftTta ? at(shiftTta.perThreshold, DEFAULT_THRESHOLD) - at(shiftPlain.perThreshold, DEFAULT_THRESHOLD) : undefined;
    const wins = gain >= ttaMargin && (shiftGain === undefined || shiftGain >= ttaMargin);
    variant = wins ? 'tta' : 'plain';
    reasons.push(
      `served: ${wins ? 'TTA' : 'plain'}: TTA ${gain >= 0 ? 'gains' : 'loses'} ${f(Math.abs(gain))} V_rand at ${DEFAULT_THRESHOLD} on the selection slices${shiftGain === undefined ? '' : ` and ${f(shiftGain)} in the shift suite's mean`} (margin ${ttaMargin})`,
    );
  }
  return { variant, thresholds, reasons };
}
