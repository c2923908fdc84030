/**
 * The contract's mask: probability >= threshold -> 255 (cell interior, white as in the ISBI
 * labels), else 0 (membrane). Platform-neutral.
 */
import { MASK_BACKGROUND, MASK_FOREGROUND } from './contract.ts';
import { EmsegError } from './errors.ts';
import type { GreyImage } from './image.ts';
import { describeNumberRule, meetsNumberRule, parseNumberText, type NumberRule } from './number-text.ts';

/** A threshold on a probability: a number in [0, 1]. */
export const THRESHOLD_RULE: NumberRule = { min: 0, max: 1 };

/**
 * Checks a threshold: a finite number from 0 to 1. Returns it. `name` is the argument named in the
 * error (e.g. `--threshold` or `threshold`). Throws E_BAD_ARGUMENT.
 */
export function validateThreshold(value: unknown, name = 'threshold'): number {
  if (typeof value !== 'number' || !meetsNumberRule(value, THRESHOLD_RULE)) {
    throw new EmsegError('E_BAD_ARGUMENT', `${name}: expected ${describeNumberRule(THRESHOLD_RULE)}, found ${typeof value === 'string' ? JSON.stringify(value) : String(value)}`);
  }
  return value;
}

/** Parses a threshold typed by a user (`"0.5"`); blank or non-numeric text is an E_BAD_ARGUMENT naming `name`. */
export function parseThreshold(text: string, name = 'threshold'): number {
  return parseNumberText(text, name, THRESHOLD_RULE);
}

/** The 0/255 mask of a probability map at `threshold` (validated). NaN probabilities give 0. */
export function thresholdProbability(probability: GreyImage<Float32Array>, threshold: number): GreyImage<Uint8Array> {
  validateThreshold(threshold);
  const { data } = probability;
  const mask = new Uint8Array(data.length);
  for (let i = 0; i < data.length; i++) mask[i] = data[i]! >= threshold ? MASK_FOREGROUND : MASK_BACKGROUND;
  return { width: probability.width, height: probability.height, data: mask };
}
