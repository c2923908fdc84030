/**
 * `npm run bench:link` (bench/section-links.ts) end to end on a tiny stack: labels that are the
 * ground truth's own 2D regions score 3D V_rand 1 when linked at the truth's fraction and far less
 * unlinked; a missing --labels, a labels file of another size and non-consecutive --slices are
 * one line each.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { labelComponents4 } from '../core/metrics/index.ts';
import { encodeLabelTiff, encodeTiff } from '../core/tiff.ts';
import { runBench } from '../bench/section-links.ts';

const size = 32;
let dir: string;

/** Cell interior (255) in squares of side 6 on a grid of 8, shifted right by `shift`: each square a tube through the pages. */
function truthPage(shift: number): Uint8Array {
  return Uint8Array.from({ length: size * size }, (_, i) => ((i % size) + shift) % 8 < 6 && Math.floor(i / size) % 8 < 6 ? 255 : 0);
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'emseg-bench-link-'));
  const truth = [0, 1, 2, 3].map(truthPage);
  writeFileSync(join(dir, 'truth.tif'), encodeTiff({ width: size, height: size, pages: truth.map((data) => ({ width: size, height: size, data })) }));
  const labels = truth.map((data) => ({ width: size, height: size, data: Uint32Array.from(labelComponents4(data, size, size).labels) }));
  writeFileSync(join(dir, 'labels.tif'), encodeLabelTiff({ width: size, height: size, pages: labels }));
  writeFileSync(join(dir, 'small.tif'), encodeLabelTiff({ width: 2, height: 2, pages: [{ width: 2, height: 2, data: new Uint32Array(4) }] }));
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function bench(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((text) => (out.push(String(text)), true));
  vi.spyOn(process.stderr, 'write').mockImplementation((text) => (err.push(String(text)), true));
  try {
    const code = await runBench(args);
    return { code, out: out.join(''), err: err.join('') };
  } finally {
    vi.restoreAllMocks();
  }
}

/** The V_rand cells of the first table row starting with `name`. */
function vRandRow(out: string, name: string): number[] {
  const row = out.split('\n').find((line) => line.startsWith(`| ${name} |`));
  expect(row, name).toBeDefined();
  return row!.split('|').slice(4, -1).map(Number);
}

describe('npm run bench:link', () => {
  it('scores the truth regions as labels: 1 linked at the truth fraction, far less unlinked', async () => {
    const { code, out, err } = await bench('--labels', join(dir, 'labels.tif'), '--truth', join(dir, 'truth.tif'), '--overlaps', '0.5', '--truth-overlaps', '0.5');
    expect([code, err]).toEqual([0, '']);
    expect(vRandRow(out, 'labels linked at 0.5')).toEqual([1]);
    expect(vRandRow(out, 'ground-truth regions linked at 0.5')).toEqual([1]);
    // tubes through 4 pages, each square shifted by 1 of its 6 pixels a page: unlinked, each object is one page of a tube
    const [apart] = vRandRow(out, 'labels, not linked (each cell its own object)');
    expect(apart).toBeGreaterThan(0.1);
    expect(apart).toBeLessThan(0.5);
    expect(out).toContain("the labels' 2D scores averaged over these sections: V_rand 1.0000");
  });

  it('refuses a missing --labels, labels of another size and sections that are not consecutive', async () => {
    expect(await bench()).toMatchObject({ code: 1, err: 'bench:link: --labels: required; make it with emseg predict data/isbi2012/train-volume.tif -o labels.tif --output labels\n' });
    const other = await bench('--labels', join(dir, 'small.tif'), '--truth', join(dir, 'truth.tif'));
    expect(other.code).toBe(1);
    expect(other.err).toContain('expected 4 pages of 32x32 like --truth');
    const gaps = await bench('--labels', join(dir, 'labels.tif'), '--truth', join(dir, 'truth.tif'), '--slices', '0,2');
    expect(gaps).toMatchObject({ code: 1, err: 'bench:link: --slices: expected consecutive sections, found 0,2\n' });
  });
});
