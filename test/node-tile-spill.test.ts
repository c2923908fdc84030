/**
 * node/tile-spill.ts: tiles put into the spill come back value for value (also from a view that
 * does not start at its buffer's beginning), each once; the folder is hidden beside the output
 * and removed by close().
 */
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openTileSpill } from '../node/tile-spill.ts';

const dir = mkdtempSync(join(tmpdir(), 'emseg-tile-spill-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('openTileSpill', () => {
  it('gives back what was put, once, and removes its folder on close', async () => {
    const spill = await openTileSpill(join(dir, 'out.ome.zarr/'));
    expect(dirname(spill.folder)).toBe(dir);
    expect(basename(spill.folder)).toMatch(/^\.emseg-tmp-out\.ome\.zarr\.tiles-/);
    const whole = Float32Array.from({ length: 64 }, (_, i) => Math.sin(i) * 1e-3);
    const backing = new Float32Array(100).fill(-1);
    backing.set([0.25, 0.5, 0.75], 37);
    const view = backing.subarray(37, 40);
    await spill.put(7, whole);
    await spill.put(3, view);
    expect(spill.waiting).toBe(2);
    expect(readdirSync(spill.folder).sort()).toEqual(['3.f32', '7.f32']);
    expect([...(await spill.take(3))]).toEqual([0.25, 0.5, 0.75]);
    expect(await spill.take(7)).toEqual(whole);
    expect(spill.waiting).toBe(0);
    expect(readdirSync(spill.folder)).toEqual([]);
    await expect(spill.take(7)).rejects.toThrow('tile spill: tile 7 was not put');
    await spill.put(9, whole);
    await spill.close();
    expect(existsSync(spill.folder)).toBe(false);
  });
});
