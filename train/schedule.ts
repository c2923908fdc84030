/**
 * The learning-rate schedule: linear warm-up from 0 to the peak, then a cosine decay to
 * `peak * minFraction` over the rest of the budget. Defined by the step index only, so that a
 * resumed run and an uninterrupted one see the same rates.
 */
import type { ScheduleKind } from './config.ts';

export interface ScheduleOptions {
  /** Peak learning rate. */
  peak: number;
  /** Budget in steps; the decay ends at the last step. */
  totalSteps: number;
  /** Steps of linear warm-up. Default 0. */
  warmupSteps?: number;
  /** Final rate as a fraction of the peak. Default 0.01. */
  minFraction?: number;
  /** Default 'cosine'. */
  kind?: ScheduleKind;
}

/** Learning rate for the step with zero-based index `step` (0 .. totalSteps-1). */
export function learningRateAt(step: number, options: ScheduleOptions): number {
  const { peak, totalSteps, warmupSteps = 0, minFraction = 0.01, kind = 'cosine' } = options;
  if (!Number.isInteger(step) || step < 0) throw new RangeError(`step: expected an integer >= 0, found ${step}`);
  if (step < warmupSteps) return (peak * (step + 1)) / (warmupSteps + 1);
  if (kind === 'constant') return peak;
  const decaySteps = Math.max(1, totalSteps - warmupSteps - 1);
  const progress = Math.min(1, (step - warmupSteps) / decaySteps);
  const floor = peak * minFraction;
  return floor + (peak - floor) * 0.5 * (1 + Math.cos(Math.PI * progress));
}
