/**
 * The shift suite: labelled slices under the changes another microscope or lab brings, scored like
 * the slices themselves (core/evaluation.ts), one row per shift and variant. `emseg evaluate
 * --shift` runs it; it chooses the training recipe and the served threshold (core/serving-choice.ts)
 * and its table goes into the model card and the report.
 *
 * Each shift changes the image only (the labels stay): at the ISBI data's 4 nm,
 * - `4.6nm`, `6nm`: acquired at a coarser pixel (anti-aliased as skimage's rescale does, Gaussian
 *   sigma (r - 1) / 2 for a ratio r, then bilinear), then rescaled back to 4 nm, as emseg does when
 *   the file states its pixel size: the detail lost, at the model's scale;
 * - `4.6nm-as-is`: acquired at 4.6 nm and fed at that scale (a file without a pixel size): the
 *   probabilities are rescaled to the labels' grid to be scored;
 * - `gamma0.7`, `gamma1.4`: a detector or display curve, 255 (x / 255)^gamma;
 * - `contrast+30%`, `contrast-30%`: about the slice mean, clipped to 0-255 (per-slice normalization
 *   cancels the gain itself; the clipping and the 8-bit rounding remain);
 * - `noise`: additive Gaussian noise, sigma 10 grey levels (the generator seeded per slice by a hash
 *   of its pixels, so a rerun gives the same figures), clipped;
 * - `blur`: Gaussian, sigma 1 pixel (focus);
 * - `jpeg50`: stored as JPEG at quality 50 (core/image-filters.ts).
 * The 8-bit rounding of every shifted image is kept (the shifted image is what a lab would store).
 */
import { evaluateSlices, type EvaluationOptions, type EvaluationVariant, type LabelledSlice, type MetricsRow, type SlicePredictor } from './evaluation.ts';
import type { GreyImage } from './image.ts';
import { gaussianBlur, jpegArtefacts } from './image-filters.ts';
import { Rng } from './random.ts';
import { resampleBilinear } from './resample.ts';
import { formatTextTable } from './text-table.ts';

/** A shift of the suite: the changed image, and how to bring probabilities back to the original grid when its size changed. */
export interface ImageShift {
  name: string;
  description: string;
  apply(image: GreyImage): { image: GreyImage; restore?: (probabilities: Float32Array) => Float32Array };
}

const toUnit = (image: GreyImage) => Float32Array.from(image.data, (v) => v / 255);
const fromUnit = (width: number, height: number, values: Float32Array): GreyImage<Uint8Array> => ({
  width,
  height,
  data: Uint8Array.from(values, (v) => Math.round(Math.min(1, Math.max(0, v)) * 255)),
});

function perPixel(image: GreyImage, f: (v: number) => number): GreyImage<Uint8Array> {
  return { width: image.width, height: image.height, data: Uint8Array.from(image.data, (v) => Math.round(Math.min(255, Math.max(0, f(v))))) };
}

/** Downsampled by `ratio` (> 1), anti-aliased, rounded to 8 bits. */
function acquireCoarser(image: GreyImage, ratio: number): GreyImage<Uint8Array> {
  const values = Float32Array.from(image.data);
  gaussianBlur(values, image.width, image.height, (ratio - 1) / 2);
  const small = resampleBilinear({ width: image.width, height: image.height, data: values }, Math.round(image.width / ratio), Math.round(image.height / ratio));
  return perPixel(small, (v) => v);
}

function pixelSizeShift(nm: number, backToModelScale: boolean): ImageShift {
  const ratio = nm / 4;
  return {
    name: backToModelScale ? `${nm}nm` : `${nm}nm-as-is`,
    description: backToModelScale ? `acquired at ${nm} nm, rescaled back to 4 nm` : `acquired at ${nm} nm and fed at that scale (no pixel size known)`,
    apply(image) {
      const coarse = acquireCoarser(image, ratio);
      if (backToModelScale) return { image: perPixel(resampleBilinear(coarse, image.width, image.height), (v) => v) };
      return {
        image: coarse,
        restore: (p) => resampleBilinear({ width: coarse.width, height: coarse.height, data: p }, image.width, image.height).data,
      };
    },
  };
}

function mean(data: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < data.length; i++) sum += data[i]!;
  return sum / data.length;
}

/** FNV-1a over the pixels: the noise seed of a slice. */
function pixelHash(image: GreyImage): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < image.data.length; i++) h = Math.imul(h ^ (image.data[i]! & 0xff), 0x01000193);
  return h >>> 0;
}

export const SHIFT_SUITE: readonly ImageShift[] = [
  { name: 'none', description: 'the slices as they are', apply: (image) => ({ image }) },
  pixelSizeShift(4.6, true),
  pixelSizeShift(6, true),
  pixelSizeShift(4.6, false),
  ...[0.7, 1.4].map((gamma) => ({ name: `gamma${gamma}`, description: `gamma ${gamma}`, apply: (image: GreyImage) => ({ image: perPixel(image, (v) => 255 * (v / 255) ** gamma) }) })),
  ...[1.3, 0.7].map((gain) => ({
    name: `contrast${gain > 1 ? '+' : '-'}30%`,
    description: `contrast ${gain > 1 ? '+' : '-'}30 % about the slice mean, clipped`,
    apply: (image: GreyImage) => {
      const m = mean(image.data);
      return { image: perPixel(image, (v) => m + (v - m) * gain) };
    },
  })),
  {
    name: 'noise',
    description: 'Gaussian noise, sigma 10 grey levels',
    apply: (image) => {
      const rng = Rng.fromSeed(pixelHash(image));
      return { image: perPixel(image, (v) => v + rng.normal(0, 10)) };
    },
  },
  {
    name: 'blur',
    description: 'Gaussian blur, sigma 1 pixel',
    apply: (image) => {
      const values = Float32Array.from(image.data);
      gaussianBlur(values, image.width, image.height, 1);
      return { image: perPixel({ width: image.width, height: image.height, data: values }, (v) => v) };
    },
  },
  {
    name: 'jpeg50',
    description: 'stored as JPEG, quality 50',
    apply: (image) => {
      const values = toUnit(image);
      jpegArtefacts(values, image.width, image.height, 50);
      return { image: fromUnit(image.width, image.height, values) };
    },
  },
];

export interface ShiftRow {
  shift: string;
  description: string;
  rows: MetricsRow[];
}

export interface ShiftSuiteResult {
  slices: number[];
  shifts: ShiftRow[];
  /** Per variant, averages over the shifts other than `none`: V_rand and V_info at the threshold, and V_rand per threshold of the sweep. */
  meanOverShifts: Partial<Record<EvaluationVariant, { vRand: number; vInfo: number; perThreshold: Array<{ threshold: number; vRand: number; vInfo: number }> }>>;
}

/** `predict` under `shift`: the image changed before, the probabilities brought back to its grid after. */
export function shiftedPredictor(shift: ImageShift, predict: SlicePredictor): SlicePredictor {
  return async (image) => {
    const { image: changed, restore } = shift.apply(image);
    const p = await predict(changed);
    return restore ? restore(p) : p;
  };
}

/** Runs the predictors on every slice under every shift and scores them (core/evaluation.ts). */
export async function runShiftSuite(
  slices: readonly LabelledSlice[],
  predictors: { plain: SlicePredictor; tta?: SlicePredictor },
  options: EvaluationOptions & {
    shifts?: readonly ImageShift[];
    /** The threshold of each variant's "at threshold" figures, when they differ. Default `threshold` for both. */
    variantThresholds?: Partial<Record<EvaluationVariant, number>>;
    onShift?: (shift: ImageShift, done: number, total: number) => void;
  } = {},
): Promise<ShiftSuiteResult> {
  const { shifts = SHIFT_SUITE, variantThresholds = {}, onShift, ...evaluation } = options;
  const results: ShiftRow[] = [];
  const variants = Object.entries(predictors).filter((entry): entry is [EvaluationVariant, SlicePredictor] => entry[1] !== undefined);
  for (const [i, shift] of shifts.entries()) {
    const rows: MetricsRow[] = [];
    for (const [variant, predict] of variants) {
      const shifted = shiftedPredictor(shift, predict);
      const threshold = variantThresholds[variant] ?? evaluation.threshold;
      const result = await evaluateSlices(slices, { plain: shifted }, { ...evaluation, ...(threshold !== undefined ? { threshold } : {}) });
      rows.push({ ...result.rows[0]!, variant });
    }
    results.push({ shift: shift.name, description: shift.description, rows });
    onShift?.(shift, i + 1, shifts.length);
  }
  return { slices: slices.map((s) => s.index), shifts: results, meanOverShifts: meanOverShifts(results) };
}

function meanOverShifts(results: readonly ShiftRow[]): ShiftSuiteResult['meanOverShifts'] {
  const shifted = results.filter((r) => r.shift !== 'none');
  const out: ShiftSuiteResult['meanOverShifts'] = {};
  if (shifted.length === 0) return out;
  for (const variant of ['plain', 'tta'] as const) {
    const rows = shifted.map((r) => r.rows.find((row) => row.variant === variant)).filter((row): row is MetricsRow => row !== undefined);
    if (rows.length !== shifted.length) continue;
    const avg = (f: (row: MetricsRow) => number) => rows.reduce((a, row) => a + f(row), 0) / rows.length;
    out[variant] = {
      vRand: avg((r) => r.vRand),
      vInfo: avg((r) => r.vInfo),
      perThreshold: rows[0]!.perThreshold.map((t, k) => ({ threshold: t.threshold, vRand: avg((r) => r.perThreshold[k]!.vRand), vInfo: avg((r) => r.perThreshold[k]!.vInfo) })),
    };
  }
  return out;
}

/** The suite as a Markdown table: V_rand and V_info at the threshold per shift, plain and TTA, with the mean over shifts. */
export function formatShiftSuiteMarkdown(result: ShiftSuiteResult): string {
  const variants = (['plain', 'tta'] as const).filter((v) => result.shifts[0]?.rows.some((r) => r.variant === v));
  const name = (v: EvaluationVariant) => (v === 'tta' ? 'TTA' : 'plain');
  const header = ['shift', ...variants.flatMap((v) => [`V_rand ${name(v)}`, `V_info ${name(v)}`])];
  const lines = [`| ${header.join(' | ')} |`, `| ${header.map((_, i) => (i === 0 ? '---' : '---:')).join(' | ')} |`];
  const f = (v: number | undefined) => (v === undefined ? 'n/a' : v.toFixed(4));
  for (const r of result.shifts) {
    const cells = variants.flatMap((v) => {
      const row = r.rows.find((x) => x.variant === v);
      return [f(row?.vRand), f(row?.vInfo)];
    });
    lines.push(`| ${r.shift} (${r.description}) | ${cells.join(' | ')} |`);
  }
  const meanCells = variants.flatMap((v) => [f(result.meanOverShifts[v]?.vRand), f(result.meanOverShifts[v]?.vInfo)]);
  lines.push(`| **mean over the shifts** | ${meanCells.join(' | ')} |`);
  return `${lines.join('\n')}\n`;
}

/** The suite as an aligned plain-text table for a terminal. */
export function formatShiftSuiteText(result: ShiftSuiteResult): string {
  const md = formatShiftSuiteMarkdown(result).trim().split('\n').filter((_, i) => i !== 1);
  // The shift's name only (the Markdown table describes each).
  const table = md.map((line) => line.slice(2, -2).split(' | ').map((c, i) => (i === 0 ? c.replace(/\*\*/g, '').replace(/ \(.*\)$/, '') : c)));
  return formatTextTable(table);
}
