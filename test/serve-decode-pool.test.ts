/**
 * The server's TIFF decode pool (serve/decode-pool.ts): decodes as core/tiff.ts does, in worker
 * threads; a job over its work budget or cancelled frees its worker (terminated and replaced).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { decodeTiff, encodeTiff } from '../core/tiff.ts';
import { DecodePool, decodeBudgetMs } from '../serve/decode-pool.ts';
import { buildTiff, greyPage } from '../bench/shared/raw-tiff.ts';
import { zerosZlibStream } from './helpers/hostile-inputs.ts';
import { patternImage } from './serve-fixtures.ts';

const pools: DecodePool[] = [];
const pool = (options: ConstructorParameters<typeof DecodePool>[0]) => {
  const created = new DecodePool(options);
  pools.push(created);
  return created;
};
afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.close()));
});

const small = encodeTiff({ width: 96, height: 80, pages: [patternImage(96, 80), patternImage(96, 80)] });
const job = (bytes: Uint8Array, extra: { signal?: AbortSignal } = {}) => ({
  bytes: bytes.slice(),
  name: 'upload.tif',
  declaredPixels: 96 * 80 * 2,
  maxPages: 1000,
  maxTotalSamples: 2 ** 30,
  ...extra,
});
/** A 4000x4000 page in Deflate strips: tens of ms of honest work. */
function heavyTiff(): Uint8Array {
  const strip = zerosZlibStream(4000 * 100);
  const data = new Uint8Array(strip.length * 40);
  for (let i = 0; i < 40; i += 1) data.set(strip, i * strip.length);
  const offsets = Array.from({ length: 40 }, (_, i) => 8 + i * strip.length);
  return buildTiff(data, [greyPage(4000, 4000, { offsets, counts: Array(40).fill(strip.length), rows: 100, compression: 8 })]);
}

describe('DecodePool', () => {
  it('gives the pages core/tiff.ts gives, and the decoder errors as they are', async () => {
    const decoded = await pool({ workers: 1 }).decode(job(small));
    expect(decoded.pages.map((page) => Array.from(page.data))).toEqual(decodeTiff(small, 'x').pages.map((page) => Array.from(page.data)));
    await expect(pool({ workers: 1 }).decode(job(small.subarray(0, 300)))).rejects.toMatchObject({ code: 'E_CORRUPT' });
  });

  it('decodes JPEG-compressed TIFF (utif in the worker) as core/tiff.ts does', async () => {
    const decoder = pool({ workers: 1 });
    for (const name of ['jpeg-grey.tif', 'jpeg-ycbcr.tif']) {
      const bytes = new Uint8Array(readFileSync(join(import.meta.dirname, 'fixtures', 'tiff', name)));
      const expected = decodeTiff(bytes, name);
      const decoded = await decoder.decode({ ...job(bytes), declaredPixels: expected.width * expected.height * expected.pages.length });
      expect(decoded.pages.map((page) => Array.from(page.data))).toEqual(expected.pages.map((page) => Array.from(page.data)));
    }
  });

  it('derives the budget from the declared pixels', () => {
    expect(decodeBudgetMs({ baseMs: 2000, msPerMegapixel: 250 }, 4_000_000)).toBe(3000);
  });

  it('terminates a job over its budget with E_TOO_LARGE, and decodes the next one with a new worker', async () => {
    const decoder = pool({ workers: 1, budget: { baseMs: 1, msPerMegapixel: 0 } });
    await expect(decoder.decode({ ...job(heavyTiff()), declaredPixels: 16_000_000 })).rejects.toMatchObject({ code: 'E_TOO_LARGE', message: expect.stringMatching(/work budget of 1 ms/) });
    expect(decoder.terminations).toBe(1);
    const relaxed = pool({ workers: 1 });
    expect((await relaxed.decode(job(small))).pages).toHaveLength(2);
  });

  it('frees the worker of a cancelled job, and drops a cancelled job from the queue', async () => {
    const decoder = pool({ workers: 1 });
    await decoder.decode(job(small)); // the worker is up
    const running = new AbortController();
    const queued = new AbortController();
    const heavy = decoder.decode({ ...job(heavyTiff()), declaredPixels: 16_000_000, signal: running.signal });
    const waiting = decoder.decode(job(small, { signal: queued.signal }));
    const after = decoder.decode(job(small));
    expect(decoder.waiting).toBe(2);
    queued.abort(new Error('queued job cancelled'));
    await expect(waiting).rejects.toThrow('queued job cancelled');
    setTimeout(() => running.abort(new Error('client gone')), 5);
    await expect(heavy).rejects.toThrow('client gone');
    expect(decoder.terminations).toBe(1);
    expect((await after).pages).toHaveLength(2);
  });
});
