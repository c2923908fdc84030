/**
 * The threshold (and TTA default) a converted model's card serves, when `--threshold` is not
 * given, from the evidence at hand, in this order:
 * 1. `--metrics` of `emseg evaluate --select-slices`: the served variant and its threshold as chosen
 *    on the selection slices (core/serving-choice.ts; `--tta`/`--no-tta` given still win for TTA);
 * 2. the training run's kept validation (config.json `best`, on the run's validation slices): 0.5
 *    unless the sweep's best threshold beats it by the margin (core/serving-choice.ts
 *    thresholdFromValidation), so a fine-tuned model keeps the threshold its validation chose;
 * 3. the contract's 0.5.
 * The reason goes to the conversion's log and, for 2, into the card (`training.thresholdChoice`).
 */
import { DEFAULT_THRESHOLD, type ModelCard } from '../core/contract.ts';
import { thresholdFromValidation } from '../core/serving-choice.ts';
import type { ValidationFigures } from '../core/training-run.ts';

export interface CardServing {
  threshold: number;
  /** The TTA default, when the evidence chose it. */
  tta?: boolean;
  /** Where the threshold comes from, for the log. */
  source: string;
  /** The rule's reason when the training run's validation chose it (recorded in the card). */
  trainingReason?: string;
}

export function cardServing(given: { threshold?: number; tta?: boolean; metrics?: ModelCard['metrics']; training?: ModelCard['training'] }): CardServing {
  if (given.threshold !== undefined) return { threshold: given.threshold, source: '--threshold' };
  const selection = given.metrics?.['selection'] as { served?: 'plain' | 'tta'; chosenThresholds?: Partial<Record<'plain' | 'tta', number>>; slices?: string } | undefined;
  const served = selection?.served;
  const chosen = served ? selection?.chosenThresholds?.[served] : undefined;
  if (served && chosen !== undefined) {
    const tta = given.tta ?? served === 'tta';
    return { threshold: chosen, tta, source: `chosen on the selection slices ${selection?.slices ?? '?'} of --metrics (served: ${served === 'tta' ? 'TTA' : 'plain'})` };
  }
  const best = given.training?.['bestValidation'] as ValidationFigures | undefined;
  const fromValidation = best ? thresholdFromValidation(best) : undefined;
  if (fromValidation) return { threshold: fromValidation.threshold, source: fromValidation.reason, trainingReason: fromValidation.reason };
  return { threshold: DEFAULT_THRESHOLD, source: "the contract's default (no --threshold, no selection in --metrics, no validation in the training run)" };
}
