/**
 * Does an image have the contrast polarity of the model's training data? EM membranes (ISBI 2012,
 * TEM) are dark and thin, so an image's intensity histogram has a long dark tail: far more
 * pixels lie more than 2 standard deviations below the mean than above it. An image with bright
 * membranes (block-face SEM, a contrast-inverted export) has the long tail on the bright side, and
 * the model, given it as it is, segments confident garbage.
 *
 * The statistic: the dark share of the outlying pixels, dark / (dark + bright), where dark and
 * bright count the pixels below mean - 2 sd and above mean + 2 sd of their own slice. Measured on
 * the 60 ISBI 2012 slices (train and test volumes, test/contrast-polarity.test.ts): 0.655-0.908
 * as they are, 0.092-0.345 inverted (255 - x). Under INVERTED_BELOW (0.45) the image looks
 * inverted; nothing is flipped automatically, the caller warns and the user decides (`--invert`,
 * the server's `invert=true`, the web demo's toggle). Platform-neutral.
 */
import type { GreyImage } from './image.ts';

/** A dark share under this looks inverted relative to the training data. */
export const INVERTED_BELOW = 0.45;
/** Fewer outlying pixels than this fraction (a flat or two-level image): no verdict. */
const MIN_OUTLYING_FRACTION = 0.001;
/** The 2-sd tails. */
const TAIL_SD = 2;

export interface DarkTail {
  /** Pixels more than 2 sd below and above their slice's mean, and pixels counted. */
  dark: number;
  bright: number;
  pixels: number;
}

/** The 2-sd tails of one slice (float64 statistics, any pixel type). */
export function darkTail(image: GreyImage): DarkTail {
  const { data } = image;
  const n = data.length;
  let sum = 0;
  for (let i = 0; i < n; i++) sum += data[i]!;
  const mean = sum / n;
  let squares = 0;
  for (let i = 0; i < n; i++) squares += (data[i]! - mean) ** 2;
  const sd = Math.sqrt(squares / n);
  let dark = 0;
  let bright = 0;
  if (sd > 0) {
    const low = mean - TAIL_SD * sd;
    const high = mean + TAIL_SD * sd;
    for (let i = 0; i < n; i++) {
      const v = data[i]!;
      if (v < low) dark++;
      else if (v > high) bright++;
    }
  }
  return { dark, bright, pixels: n };
}

export interface PolarityCheck {
  /** dark / (dark + bright) over the slices checked, as the model will see them (after `invert`); undefined: no verdict. */
  darkShare: number | undefined;
  /** True when darkShare < INVERTED_BELOW. */
  looksInverted: boolean;
  /** The one-line warning when it looks inverted, else undefined. */
  warning: string | undefined;
}

export interface PolarityOptions {
  /** The image will be inverted before the model sees it (--invert): the check is of the inverted image. */
  invert?: boolean;
  /** How the user inverts it, for the warning: '--invert' (default), 'invert=true', the web demo's toggle. */
  option?: string;
}

/** Checks the slices of one image (all pages of a stack together) against the training data's polarity. */
export function checkPolarity(slices: readonly GreyImage[], name: string, options: PolarityOptions = {}): PolarityCheck {
  let dark = 0;
  let bright = 0;
  let pixels = 0;
  for (const slice of slices) {
    const tail = darkTail(slice);
    dark += tail.dark;
    bright += tail.bright;
    pixels += tail.pixels;
  }
  // Inverting swaps the tails.
  if (options.invert) [dark, bright] = [bright, dark];
  if (pixels === 0 || dark + bright < MIN_OUTLYING_FRACTION * pixels) return { darkShare: undefined, looksInverted: false, warning: undefined };
  const darkShare = dark / (dark + bright);
  const looksInverted = darkShare < INVERTED_BELOW;
  const option = options.option ?? '--invert';
  const share = `${Math.round(darkShare * 100)}%`;
  const warning = !looksInverted
    ? undefined
    : options.invert
      ? `${name}: with ${option} its contrast looks inverted relative to the model's training data (dark membranes): only ${share} of its outlying pixels are dark after inverting (training data: 65-91%); it probably has dark membranes already, drop ${option}`
      : `${name}: its contrast looks inverted relative to the model's training data (dark membranes): only ${share} of its outlying pixels are dark (training data: 65-91%); if its membranes are bright, use ${option}`;
  return { darkShare, looksInverted, warning };
}
