/**
 * The progress line of `emseg predict` on the large-image path: tiles done, tiles/s from the
 * elapsed time, the ETA from that rate, chunks, and chunks done by an earlier run.
 */
import { describe, expect, it } from 'vitest';
import { volumeProgressLine } from '../cli/commands/predict.ts';
import { formatDuration } from '../cli/format-duration.ts';

describe('volumeProgressLine', () => {
  it('shows tiles/s and the ETA that rate gives', () => {
    const line = volumeProgressLine({ tilesDone: 120, tiles: 900, chunksDone: 30, chunks: 220, chunksSkipped: 12 }, 40, 10);
    expect(line).toBe('[#.........] 120/900 tiles, 3.0 tiles/s, ETA 4m 20s, chunks 30/220 (12 done before)');
  });

  it('has no ETA before the first tile, and a full bar at the end', () => {
    expect(volumeProgressLine({ tilesDone: 0, tiles: 50, chunksDone: 0, chunks: 4, chunksSkipped: 0 }, 3, 4)).toBe('[....] 0/50 tiles, 0.0 tiles/s, ETA -, chunks 0/4');
    expect(volumeProgressLine({ tilesDone: 50, tiles: 50, chunksDone: 4, chunks: 4, chunksSkipped: 0 }, 25, 4)).toBe('[####] 50/50 tiles, 2.0 tiles/s, ETA 0s, chunks 4/4');
  });

  it('formats durations in h/m/s', () => {
    expect([formatDuration(7), formatDuration(187), formatDuration(3720), formatDuration(-1), formatDuration(Infinity), formatDuration(NaN)]).toEqual(['7s', '3m 07s', '1h 02m', '0s', '-', '-']);
  });
});
