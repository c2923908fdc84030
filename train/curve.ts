/**
 * The training curve as a small self-contained SVG: the training loss (top panel) and the
 * validation V_rand, V_info and pixel error (bottom panel, 0..1) against the step. Built from
 * the JSONL log lines, so it can be redrawn from any log (`emseg evaluate` does for its report).
 */
import type { LogLine, TrainLogLine, ValidationLogLine } from './log.ts';

export interface CurveOptions {
  /** Width and height of the picture in pixels. Default 720 x 520. */
  width?: number;
  height?: number;
  title?: string;
}

interface Series {
  name: string;
  color: string;
  points: Array<[number, number]>;
  /** Draw a dot at each point (validation figures: few points, each a measurement). */
  dots?: boolean;
}

const escapeXml = (text: string): string =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

const fmt = (value: number): string => (Math.abs(value) >= 100 ? value.toFixed(0) : Number(value.toPrecision(3)).toString());

/** "Nice" tick values covering [min, max]. */
function ticks(min: number, max: number, count: number): number[] {
  if (!(max > min)) return [min];
  const raw = (max - min) / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * magnitude).find((s) => s >= raw) ?? raw;
  const result: number[] = [];
  for (let v = Math.ceil(min / step) * step; v <= max + step * 1e-9; v += step) result.push(Number(v.toPrecision(12)));
  return result;
}

function panel(
  series: Series[],
  box: { x: number; y: number; w: number; h: number },
  xRange: [number, number],
  yRange: [number, number],
  label: string,
): string {
  const [x0, x1] = xRange;
  const [y0, y1] = yRange;
  const sx = (x: number) => box.x + ((x - x0) / (x1 - x0 || 1)) * box.w;
  const sy = (y: number) => box.y + box.h - ((y - y0) / (y1 - y0 || 1)) * box.h;
  const parts: string[] = [];
  parts.push(`<rect x="${box.x}" y="${box.y}" width="${box.w}" height="${box.h}" fill="#fff" stroke="#888"/>`);
  for (const t of ticks(y0, y1, 5)) {
    parts.push(`<line x1="${box.x}" x2="${box.x + box.w}" y1="${sy(t).toFixed(1)}" y2="${sy(t).toFixed(1)}" stroke="#eee"/>`);
    parts.push(`<text x="${box.x - 6}" y="${(sy(t) + 4).toFixed(1)}" text-anchor="end">${fmt(t)}</text>`);
  }
  for (const t of ticks(x0, x1, 6)) {
    parts.push(`<text x="${sx(t).toFixed(1)}" y="${box.y + box.h + 16}" text-anchor="middle">${fmt(t)}</text>`);
  }
  parts.push(`<text x="${box.x}" y="${box.y - 8}" font-weight="bold">${escapeXml(label)}</text>`);
  let legendX = box.x + box.w;
  for (const s of [...series].reverse()) {
    if (s.points.length === 0) continue;
    const path = s.points.map(([x, y], i) => `${i === 0 ? 'M' : 'L'}${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join(' ');
    parts.push(`<path d="${path}" fill="none" stroke="${s.color}" stroke-width="1.6"/>`);
    if (s.points.length === 1 || (s.dots && s.points.length <= 200)) {
      for (const [x, y] of s.points) parts.push(`<circle cx="${sx(x).toFixed(1)}" cy="${sy(y).toFixed(1)}" r="2.2" fill="${s.color}"/>`);
    }
    const textWidth = s.name.length * 7 + 22;
    legendX -= textWidth;
    parts.push(`<line x1="${legendX}" x2="${legendX + 14}" y1="${box.y - 12}" y2="${box.y - 12}" stroke="${s.color}" stroke-width="2"/>`);
    parts.push(`<text x="${legendX + 18}" y="${box.y - 8}">${escapeXml(s.name)}</text>`);
  }
  return parts.join('\n');
}

/** Renders the curve of a training log as an SVG document (a string). */
export function renderCurveSvg(lines: readonly LogLine[], options: CurveOptions = {}): string {
  const { width = 720, height = 520, title = 'emseg training' } = options;
  const train = lines.filter((l): l is TrainLogLine => l.type === 'train');
  const validation = lines.filter((l): l is ValidationLogLine => l.type === 'validation');
  const lastStep = Math.max(1, ...train.map((l) => l.step), ...validation.map((l) => l.step));
  const losses = train.map((l) => l.loss).filter(Number.isFinite);
  const lossMax = losses.length > 0 ? Math.max(...losses) : 1;
  const lossMin = losses.length > 0 ? Math.min(0, ...losses) : 0;
  const margin = { left: 56, right: 16 };
  const panelHeight = (height - 40 - 3 * 40) / 2;
  const box1 = { x: margin.left, y: 60, w: width - margin.left - margin.right, h: panelHeight };
  const box2 = { x: margin.left, y: 60 + panelHeight + 56, w: box1.w, h: panelHeight };
  const lossSeries: Series[] = [{ name: 'training loss', color: '#1f77b4', points: train.map((l) => [l.step, l.loss]) }];
  const validationSeries: Series[] = [
    { name: 'V_rand', color: '#d62728', points: validation.map((l) => [l.step, l.vRandBest]), dots: true },
    { name: 'V_info', color: '#2ca02c', points: validation.map((l) => [l.step, l.vInfoBest]), dots: true },
    { name: 'pixel error', color: '#9467bd', points: validation.map((l) => [l.step, l.pixelError]), dots: true },
  ];
  const best = validation.reduce<ValidationLogLine | undefined>((b, l) => (b === undefined || l.vRandBest > b.vRandBest ? l : b), undefined);
  const subtitle = best
    ? `best validation V_rand ${best.vRandBest.toFixed(4)} at step ${best.step} (threshold ${best.bestThreshold})`
    : 'no validation yet';
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="#fafafa"/>`,
    `<text x="${margin.left}" y="20" font-size="14" font-weight="bold">${escapeXml(title)}</text>`,
    `<text x="${margin.left}" y="36" fill="#444">${escapeXml(subtitle)}</text>`,
    panel(lossSeries, box1, [0, lastStep], [lossMin, lossMax * 1.05 || 1], 'loss'),
    panel(validationSeries, box2, [0, lastStep], [0, 1], 'validation'),
    `<text x="${margin.left + box2.w / 2}" y="${height - 6}" text-anchor="middle">step</text>`,
    '</svg>',
    '',
  ].join('\n');
}
