/**
 * Colour overlays for people to look at: a binary mask blended over a grey image (the 'overlay'
 * output of predict, serve and the web demo, the third column of `emseg visualize`), a mask as a
 * transparent RGBA layer, and an error map of a prediction against the ground truth.
 * A mask pixel is "set" when it is nonzero (255 = cell interior in ISBI labels and in predicted masks).
 */
import { EmsegError } from './errors.ts';
import type { GreyImage } from './image.ts';
import { toDisplayBytes, type DisplayRangeOptions, type Rgb, type RgbImage } from './rgb-image.ts';

export interface OverlayOptions extends DisplayRangeOptions {
  /** Colour painted over the chosen mask pixels. Default [255, 48, 48] (red). */
  colour?: Rgb;
  /** Opacity of the colour, 0 (invisible) to 1 (opaque). Default 0.5. */
  alpha?: number;
  /**
   * Which mask pixels get the colour: 'nonzero' (default; e.g. cell interior) or 'zero'
   * (e.g. the membranes of an ISBI label).
   */
  paint?: 'nonzero' | 'zero';
  /** 'rgb' (default) or 'rgba' (alpha 255 everywhere, ready for a canvas ImageData). */
  output?: 'rgb' | 'rgba';
}

export const DEFAULT_OVERLAY_COLOUR: Rgb = [255, 48, 48];
export const DEFAULT_OVERLAY_ALPHA = 0.5;

/**
 * How emseg shows a mask or label to people, everywhere (visualize, evaluate montages, the
 * server's and predict's `overlay` output, the web demo): the membranes (mask 0) in red over the
 * image, so the thin boundaries the model draws can be checked against the picture.
 */
export const MEMBRANE_OVERLAY: OverlayOptions = { paint: 'zero', colour: DEFAULT_OVERLAY_COLOUR, alpha: DEFAULT_OVERLAY_ALPHA };

function checkSameSize(image: { width: number; height: number }, mask: GreyImage, what: string): void {
  if (image.width !== mask.width || image.height !== mask.height) {
    throw new EmsegError(
      'E_SIZE_MISMATCH',
      `${what}: mask is ${mask.width}x${mask.height}, image is ${image.width}x${image.height}`,
    );
  }
}

function checkAlpha(alpha: number): void {
  if (!(alpha >= 0 && alpha <= 1)) throw new RangeError(`alpha: expected a number in [0, 1], found ${alpha}`);
}

/** The image in grey with `colour` blended (by `alpha`) over the chosen mask pixels. */
export function overlayMask(image: GreyImage, mask: GreyImage, options: OverlayOptions = {}): RgbImage {
  checkSameSize(image, mask, 'overlay');
  const colour = options.colour ?? DEFAULT_OVERLAY_COLOUR;
  const alpha = options.alpha ?? DEFAULT_OVERLAY_ALPHA;
  checkAlpha(alpha);
  const paintNonzero = (options.paint ?? 'nonzero') === 'nonzero';
  const channels = options.output === 'rgba' ? 4 : 3;
  const grey = toDisplayBytes(image, options);
  const m = mask.data;
  const data = new Uint8Array(grey.length * channels);
  for (let i = 0, o = 0; i < grey.length; i += 1, o += channels) {
    const g = grey[i]!;
    if ((m[i] !== 0) === paintNonzero) {
      data[o] = Math.round(g + (colour[0] - g) * alpha);
      data[o + 1] = Math.round(g + (colour[1] - g) * alpha);
      data[o + 2] = Math.round(g + (colour[2] - g) * alpha);
    } else {
      data[o] = g;
      data[o + 1] = g;
      data[o + 2] = g;
    }
    if (channels === 4) data[o + 3] = 255;
  }
  return { width: image.width, height: image.height, channels, data };
}

/** The mask alone as an RGBA layer: `colour` at opacity `alpha` on the chosen pixels, transparent elsewhere. */
export function maskLayer(
  mask: GreyImage,
  options: Pick<OverlayOptions, 'colour' | 'alpha' | 'paint'> = {},
): RgbImage {
  const colour = options.colour ?? DEFAULT_OVERLAY_COLOUR;
  const alpha = options.alpha ?? DEFAULT_OVERLAY_ALPHA;
  checkAlpha(alpha);
  const paintNonzero = (options.paint ?? 'nonzero') === 'nonzero';
  const a = Math.round(alpha * 255);
  const m = mask.data;
  const data = new Uint8Array(m.length * 4);
  for (let i = 0, o = 0; i < m.length; i += 1, o += 4) {
    if ((m[i] !== 0) === paintNonzero) {
      data[o] = colour[0];
      data[o + 1] = colour[1];
      data[o + 2] = colour[2];
      data[o + 3] = a;
    }
  }
  return { width: mask.width, height: mask.height, channels: 4, data };
}

export interface ErrorMapOptions extends DisplayRangeOptions {
  /** Shown (in grey) where prediction and truth agree; without it agreement is white (both set) or black. */
  image?: GreyImage;
  /** Predicted set, truth not set (e.g. membrane called cell interior). Default [255, 0, 255] (magenta). */
  falsePositive?: Rgb;
  /** Predicted not set, truth set (e.g. cell interior called membrane). Default [0, 220, 0] (green). */
  falseNegative?: Rgb;
}

export const DEFAULT_FALSE_POSITIVE: Rgb = [255, 0, 255];
export const DEFAULT_FALSE_NEGATIVE: Rgb = [0, 220, 0];

/** Where a binary prediction disagrees with the truth, in two colours; agreement in grey or black/white. */
export function errorMap(prediction: GreyImage, truth: GreyImage, options: ErrorMapOptions = {}): RgbImage {
  checkSameSize(truth, prediction, 'error map prediction');
  const fp = options.falsePositive ?? DEFAULT_FALSE_POSITIVE;
  const fn = options.falseNegative ?? DEFAULT_FALSE_NEGATIVE;
  let grey: Uint8Array | undefined;
  if (options.image) {
    checkSameSize(options.image, truth, 'error map truth');
    grey = toDisplayBytes(options.image, options);
  }
  const p = prediction.data;
  const t = truth.data;
  const data = new Uint8Array(p.length * 3);
  for (let i = 0, o = 0; i < p.length; i += 1, o += 3) {
    const predicted = p[i] !== 0;
    const actual = t[i] !== 0;
    let c: Rgb | undefined;
    if (predicted && !actual) c = fp;
    else if (!predicted && actual) c = fn;
    if (c) {
      data[o] = c[0];
      data[o + 1] = c[1];
      data[o + 2] = c[2];
    } else {
      const g = grey ? grey[i]! : predicted ? 255 : 0;
      data[o] = g;
      data[o + 1] = g;
      data[o + 2] = g;
    }
  }
  return { width: truth.width, height: truth.height, channels: 3, data };
}
