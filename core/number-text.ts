/**
 * Numbers typed by people (command-line flags, environment variables, query strings): one parser
 * for every part, so that every option treats blank text, fractions and ranges the same way.
 * Blank text is an error, never 0. Platform-neutral.
 *
 *   parseNumberText('512', '--tile', { integer: true, min: 1 });        // 512
 *   parseNumberText('', '--halo', { integer: true, min: 0 });           // E_BAD_ARGUMENT: --halo: expected an integer >= 0, found ""
 */
import { EmsegError } from './errors.ts';

export interface NumberRule {
  /** Whole numbers only. Default false. */
  integer?: boolean;
  /** Smallest value allowed (inclusive unless `minExclusive`). Default: none. */
  min?: number;
  minExclusive?: boolean;
  /** Largest value allowed (inclusive). Default: none. */
  max?: number;
}

/** What a rule accepts, in words: "an integer >= 1", "an integer from 1 to 64", "a number in [0, 1]", "a number > 0". */
export function describeNumberRule(rule: NumberRule): string {
  const kind = rule.integer ? 'an integer' : 'a number';
  const { min, max } = rule;
  if (min !== undefined && max !== undefined) {
    if (rule.integer && !rule.minExclusive) return `${kind} from ${min} to ${max}`;
    return `${kind} in ${rule.minExclusive ? '(' : '['}${min}, ${max}]`;
  }
  if (min !== undefined) return `${kind} ${rule.minExclusive ? '>' : '>='} ${min}`;
  if (max !== undefined) return `${kind} <= ${max}`;
  return kind;
}

/** Whether a number satisfies a rule (finite, whole if asked, within the bounds). */
export function meetsNumberRule(value: number, rule: NumberRule): boolean {
  if (!Number.isFinite(value)) return false;
  if (rule.integer && !Number.isInteger(value)) return false;
  if (rule.min !== undefined && (rule.minExclusive ? value <= rule.min : value < rule.min)) return false;
  return rule.max === undefined || value <= rule.max;
}

/** Parses `text` as a number meeting `rule`; E_BAD_ARGUMENT naming `name` otherwise (blank text included). */
export function parseNumberText(text: string, name: string, rule: NumberRule = {}): number {
  const trimmed = text.trim();
  const value = trimmed === '' ? Number.NaN : Number(trimmed);
  if (!meetsNumberRule(value, rule)) {
    throw new EmsegError('E_BAD_ARGUMENT', `${name}: expected ${describeNumberRule(rule)}, found ${JSON.stringify(text)}`);
  }
  return value;
}
