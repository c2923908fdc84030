/**
 * Label images as the project reads them: 255 = cell interior, 0 = membrane, and optionally one
 * more value for unlabelled pixels (`--ignore`), which count in neither the training loss nor the
 * metrics. Labels drawn the other way round (membrane = 255) are swapped with `invert`.
 * Platform-neutral: used by node/labelled-sources.ts (training and evaluation data).
 */
import { EmsegError } from './errors.ts';
import type { GreyImage } from './image.ts';

export const LABEL_INTERIOR = 255;
export const LABEL_MEMBRANE = 0;

export interface LabelOptions {
  /** Value of unlabelled pixels, or null when every pixel is labelled. Default null. */
  ignore?: number | null;
  /** Swap 0 and 255 (labels with membrane = 255). Default false. */
  invert?: boolean;
}

/**
 * Checks that every value is 0, 255 or the ignore value, and returns the label as 8 bits with
 * 255 = cell interior (swapped when `invert`). `what` names the label in the one-line error.
 */
export function prepareLabel(label: GreyImage, options: LabelOptions, what: string): GreyImage<Uint8Array> {
  const ignore = options.ignore ?? null;
  const invert = options.invert ?? false;
  const data = label.data;
  const out = new Uint8Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (v === LABEL_INTERIOR || v === LABEL_MEMBRANE) out[i] = invert ? LABEL_INTERIOR - v : v;
    else if (v === ignore) out[i] = v;
    else {
      const x = i % label.width;
      const y = Math.floor(i / label.width);
      const allowed = ignore === null ? '0 or 255' : `0, 255 or the --ignore value ${ignore}`;
      throw new EmsegError('E_BAD_ARGUMENT', `${what}: value ${v} at (${x}, ${y}); labels must be ${allowed} (255 = cell interior, 0 = membrane)`);
    }
  }
  return { width: label.width, height: label.height, data: out };
}

/** 1 where the pixel is labelled, 0 where it holds the ignore value; null when nothing is ignored. */
export function countedMask(label: GreyImage, ignore: number | null | undefined): Uint8Array | null {
  if (ignore === null || ignore === undefined) return null;
  const mask = new Uint8Array(label.data.length);
  let ignored = 0;
  for (let i = 0; i < mask.length; i++) {
    if (label.data[i] === ignore) ignored++;
    else mask[i] = 1;
  }
  return ignored === 0 ? null : mask;
}
