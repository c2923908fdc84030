/** train/curve.ts: the SVG curve drawn from log lines. */
import { describe, expect, it } from 'vitest';
import { renderCurveSvg } from '../train/curve.ts';
import type { LogLine } from '../train/log.ts';

const validation = (step: number, vRandBest: number): LogLine => ({
  type: 'validation', step, crops: step * 4, vRandBest, vInfoBest: vRandBest - 0.05, bestThreshold: 0.7, pixelError: 0.1, dice: 0.9, iou: 0.8,
  threshold: 0.5, vRand: vRandBest - 0.01, vInfo: vRandBest - 0.06, seconds: 1, elapsedSeconds: step,
});

describe('renderCurveSvg', () => {
  it('draws one path per series and names the best validation', () => {
    const lines: LogLine[] = [
      { type: 'event', event: 'start', step: 0 },
      ...[10, 20, 30, 40].map((step, i): LogLine => ({ type: 'train', step, crops: step * 4, loss: 1 / (i + 1), lr: 1e-3, cropsPerSecond: 2, elapsedSeconds: step })),
      validation(20, 0.61),
      validation(40, 0.83),
    ];
    const svg = renderCurveSvg(lines, { title: 'run <a&b>' });
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    expect(svg.match(/<path /g)).toHaveLength(4); // loss, V_rand, V_info, pixel error
    expect(svg).toContain('best validation V_rand 0.8300 at step 40');
    expect(svg).toContain('run &lt;a&amp;b&gt;');
    // the loss path has one point per train line
    const lossPath = /<path d="([^"]+)" fill="none" stroke="#1f77b4"/.exec(svg)![1]!;
    expect(lossPath.split(/[ML]/).filter(Boolean)).toHaveLength(4);
  });

  it('renders an empty log without failing', () => {
    const svg = renderCurveSvg([]);
    expect(svg).toContain('no validation yet');
    expect(svg).not.toContain('NaN');
  });

  it("reads the older log names (the log of the model shipped before 2026-12-02, kept as a fixture), where vRand was the best over the sweep", async () => {
    const { readLog } = await import('../train/log.ts');
    const best = readLog('test/fixtures/train-log-older-names.jsonl').find((l) => l.type === 'validation' && l.step === 1750);
    expect(best).toMatchObject({ vRandBest: 0.9851559421262686, bestThreshold: 0.4, threshold: 0.5, vRand: 0.9829474323546021, vInfo: 0.9837252015046882 });
    expect(best).not.toHaveProperty('vRandAtThreshold');
  });
});
