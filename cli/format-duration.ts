/**
 * A duration for progress lines and summaries, the same in every command: `1h 02m`, `3m 07s`,
 * `7s`; a negative one is `0s`, an unknown one (NaN, Infinity: no rate measured yet) `-`.
 */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '-';
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (h > 0) return `${h}h ${String(m).padStart(2, '0')}m`;
  if (m > 0) return `${m}m ${String(s % 60).padStart(2, '0')}s`;
  return `${s}s`;
}
