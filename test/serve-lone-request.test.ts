/**
 * The app counts its segmentation requests for the model's session scheduler (ServedModel
 * setDemand): 1 while a request is alone, more while others are in the server, back to 0 after;
 * and /metrics shows the model's session calls by kind.
 */
import { describe, expect, it } from 'vitest';
import { encodePng } from '../node/png.ts';
import { createApp } from '../serve/app.ts';
import { captureLog, fakeModel, patternImage } from './serve-fixtures.ts';

describe('segmentation requests counted for the session scheduler', () => {
  it('tells the model how many requests are in the server at each session call', async () => {
    const base = fakeModel({ delayMs: 30 });
    let demand: () => number = () => Number.NaN;
    const seen: number[] = [];
    const model = {
      ...base,
      setDemand: (next: () => number) => {
        demand = next;
      },
      runs: { wide: 3, narrow: 5 },
      predictor: async (tiles: Float32Array, n: number, height: number, width: number) => {
        seen.push(demand());
        return base.predictor(tiles, n, height, width);
      },
    };
    const emseg = createApp({ model, log: captureLog(), processMetrics: false, concurrency: 4 });
    await emseg.ready;
    const png = await encodePng(patternImage(64, 64));
    const post = () => emseg.app.request('/v1/segment', { method: 'POST', body: png as Uint8Array<ArrayBuffer>, headers: { 'Content-Type': 'image/png' } });

    expect((await post()).status).toBe(200);
    expect(seen).toEqual([1]);

    seen.length = 0;
    const answers = await Promise.all([post(), post(), post()]);
    expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200]);
    expect(seen).toHaveLength(3);
    expect(Math.max(...seen)).toBeGreaterThanOrEqual(2); // the first call saw the others in the server
    expect(demand()).toBe(0);

    const metrics = await (await emseg.app.request('/metrics')).text();
    expect(metrics).toContain('# TYPE emseg_session_calls_total counter');
    expect(metrics).toMatch(/emseg_session_calls_total\{session="wide"\} 3/);
    expect(metrics).toMatch(/emseg_session_calls_total\{session="narrow"\} 5/);
  });
});
