/**
 * Issue 23, item 6: a BigTIFF under the server's pixel limits is segmented like any TIFF (it was
 * refused with 415 "save as classic TIFF"): a 6000x6000 (36 Mpx) BigTIFF, tiled and Deflate-
 * compressed, written by tifffile when python has it, else by emseg's own BigTIFF writer.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeTiff } from '../core/tiff.ts';
import { openBigTiffSink } from '../node/bigtiff-sink.ts';
import { createApp } from '../serve/app.ts';
import { pythonCanRun, runPythonJson } from './helpers/python.ts';
import { captureLog, fakeModel } from './serve-fixtures.ts';

const SIDE = 6000;
const dir = mkdtempSync(join(tmpdir(), 'emseg-serve-bigtiff-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A smooth pattern with both classes everywhere; value at (x, y). */
const pattern = (x: number, y: number) => Math.round(127.5 + 127.5 * Math.sin(x / 9) * Math.cos(y / 13));

async function writeBigTiff(path: string): Promise<string> {
  if (pythonCanRun('tifffile, numpy', 'serve-bigtiff', 'python3-tifffile python3-numpy')) {
    runPythonJson(
      `import sys, json, numpy as np, tifffile
n = int(sys.argv[2])
y, x = np.mgrid[0:n, 0:n]
a = np.round(127.5 + 127.5 * np.sin(x / 9) * np.cos(y / 13)).astype(np.uint8)
tifffile.imwrite(sys.argv[1], a, bigtiff=True, tile=(512, 512), compression='zlib')
print(json.dumps(1))`,
      [path, String(SIDE)],
    );
    return 'tifffile';
  }
  const sink = await openBigTiffSink({ path, width: SIDE, height: SIDE, depth: 1, sampleType: 'uint8', tileSize: 512, levels: 0 });
  for (let cy = 0; cy * 512 < SIDE; cy++) {
    for (let cx = 0; cx * 512 < SIDE; cx++) {
      const w = Math.min(512, SIDE - cx * 512);
      const h = Math.min(512, SIDE - cy * 512);
      await sink.writeChunk({ z: 0, cx, cy }, Uint8Array.from({ length: w * h }, (_, i) => pattern(cx * 512 + (i % w), cy * 512 + Math.floor(i / w))));
    }
  }
  await sink.finalize();
  await sink.close();
  return 'emseg';
}

describe('the server and a BigTIFF within its limits', () => {
  it('segments a 6000x6000 BigTIFF (36 Mpx, under the 64 Mpx limit)', async () => {
    const path = join(dir, 'big.tif');
    const writer = await writeBigTiff(path);
    const bytes = new Uint8Array(readFileSync(path));
    expect([bytes[2], bytes[3]]).toEqual([43, 0]); // BigTIFF, little-endian
    // Default limits; the time budgets are wall time, so they are widened here: the test asks
    // whether a BigTIFF is accepted and segmented, not how fast a shared test machine decodes it.
    const { app, ready } = createApp({
      model: fakeModel(),
      log: captureLog(),
      processMetrics: false,
      decodeBudget: { baseMs: 600_000, msPerMegapixel: 0 },
      timeoutMs: 600_000,
    });
    await ready;
    const started = performance.now();
    const answer = await app.request('/v1/segment', { method: 'POST', body: bytes as Uint8Array<ArrayBuffer>, headers: { 'Content-Type': 'image/tiff' } });
    const seconds = (performance.now() - started) / 1000;
    expect(answer.status, await answer.clone().text().then((t) => t.slice(0, 300))).toBe(200);
    expect(answer.headers.get('Content-Type')).toBe('image/tiff');
    expect(answer.headers.get('X-Emseg-Pages')).toBe('1');
    const mask = decodeTiff(new Uint8Array(await answer.arrayBuffer()), 'answer');
    expect([mask.width, mask.height, mask.pages.length]).toEqual([SIDE, SIDE, 1]);
    const data = mask.pages[0]!.data;
    // The fake model is a sigmoid of the normalized intensity: bright pixels of the pattern are cell interior.
    for (const [x, y] of [[100, 50], [4321, 5999], [5999, 0]] as const) {
      expect(data[y * SIDE + x], `(${x}, ${y}) of value ${pattern(x, y)}`).toBe(pattern(x, y) > 140 ? 255 : pattern(x, y) < 115 ? 0 : data[y * SIDE + x]);
    }
    console.log(`[serve-bigtiff] ${SIDE}x${SIDE} BigTIFF written by ${writer} (${(bytes.length / 2 ** 20).toFixed(1)} MiB) segmented in ${seconds.toFixed(1)} s (fake model)`);
    writeFileSync(join(dir, 'done'), '');
  }, 900_000);
});
