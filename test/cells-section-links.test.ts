/**
 * core/cells/section-links.ts: cells of consecutive sections linked into 3D objects by overlap
 * (mutual best match, overlap >= a fraction of the smaller cell): tubes, merges, splits, crossings,
 * gaps, the overlap rule's edges, ties, and random stacks against a brute-force reading of the rule.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_MIN_OVERLAP, SectionLinker, linkSections, matchSections, relabelSection, sectionOverlaps } from '../core/cells/section-links.ts';
import { createRng } from '../core/random.ts';

/** A section drawn as text: '.' = 0 (boundary), '1'..'9' = that label; every row the same width. */
function section(...rows: string[]): Uint32Array {
  return Uint32Array.from(rows.join(''), (c) => (c === '.' ? 0 : Number(c)));
}

/** The object ids of each section as { label: id } of the labels present. */
function idsOf(sections: Uint32Array[], minOverlap = DEFAULT_MIN_OVERLAP): Record<number, number>[] {
  return linkSections(sections, minOverlap).ids.map((ids) => Object.fromEntries([...ids].flatMap((id, label) => (label > 0 && id > 0 ? [[label, id]] : []))));
}

describe('linkSections', () => {
  it('gives a tube through three sections one id, each of its cells overlapping the one before', () => {
    const sections = [
      section('........', '.11..22.', '.11..22.', '........'),
      section('........', '..1...2.', '..1...2.', '........'), // thinner: all of it overlaps, half of the cell before
      section('........', '..11.22.', '..11.22.', '........'),
    ];
    expect(idsOf(sections)).toEqual([{ 1: 1, 2: 2 }, { 1: 1, 2: 2 }, { 1: 1, 2: 2 }]);
    const linked = linkSections(sections);
    expect(linked.objects).toBe(2);
    // the labels in object ids: the tube's pixels carry id 1 in every section
    expect([...relabelSection(sections[1]!, linked.ids[1]!)].filter((v) => v === 1)).toHaveLength(2);
  });

  it('links when the overlap is at least the fraction of the smaller cell, not below', () => {
    const sections = [section('1111....', '1111....'), section('..2222..', '..2222..')]; // shares 4 of 8 pixels
    expect(idsOf(sections, 0.5)).toEqual([{ 1: 1 }, { 2: 1 }]);
    expect(idsOf(sections, 0.51)).toEqual([{ 1: 1 }, { 2: 2 }]);
    // a small cell inside a large one: its whole area overlaps
    expect(idsOf([section('11111111'), section('...22...')], 1)).toEqual([{ 1: 1 }, { 2: 1 }]);
  });

  it('on a merge keeps the id of the larger overlap and ends the other object', () => {
    const sections = [section('1.222', '1.222'), section('11111', '11111'), section('11111', '11111')];
    expect(idsOf(sections)).toEqual([{ 1: 1, 2: 2 }, { 1: 2 }, { 1: 2 }]);
  });

  it('on a split keeps the id in the part of the larger overlap and starts a new object for the other', () => {
    const sections = [section('11111', '11111'), section('222.1', '222.1')];
    expect(idsOf(sections)).toEqual([{ 1: 1 }, { 2: 1, 1: 2 }]);
  });

  it('breaks two crossing tubes where they touch: one of each pair continues, the others start anew', () => {
    const sections = [
      section('11...22', '11...22'),
      section('.11.22.', '.11.22.'),
      section('..111..', '..111..'), // the tubes meet: one cell
      section('.22.11.', '.22.11.'), // and part again (labels in row-major order)
      section('22...11', '22...11'),
    ];
    const ids = idsOf(sections);
    expect(ids[0]).toEqual({ 1: 1, 2: 2 });
    expect(ids[1]).toEqual({ 1: 1, 2: 2 });
    expect(ids[2]).toEqual({ 1: 1 }); // 2 pixels from each tube, a tie: the smaller label, tube 1, continues; object 2 ends
    expect(ids[3]).toEqual({ 1: 1, 2: 3 }); // a tie again: the smaller label (1, on the right) continues, the other part is new
    expect(ids[4]).toEqual({ 1: 1, 2: 3 });
  });

  it('ends an object at a gap (a section without the cell) and starts a new one after it', () => {
    expect(idsOf([section('11..'), section('....'), section('11..')])).toEqual([{ 1: 1 }, {}, { 1: 2 }]);
  });

  it('links only mutual best matches', () => {
    // section 1's cell 1 overlaps only cell 1 before, wholly, but cell 1's best is cell 2 (4 pixels against 2)
    expect(idsOf([section('111111'), section('112222')])).toEqual([{ 1: 1 }, { 1: 2, 2: 1 }]);
  });

  it('numbers the first section by its labels and new objects after every id given, in label order', () => {
    const ids = idsOf([section('1.2.3'), section('4.1.2'), section('52.13')]);
    expect(ids[0]).toEqual({ 1: 1, 2: 2, 3: 3 });
    expect(ids[1]).toEqual({ 1: 2, 2: 3, 4: 1 });
    expect(ids[2]).toEqual({ 1: 4, 2: 5, 3: 3, 5: 1 }); // labels 1 and 2 lie where nothing was: new ids 4 and 5, in label order
  });

  it('refuses sections of different sizes, labels that are not counts, and fractions outside (0, 1]', () => {
    expect(() => linkSections([section('11'), section('111')])).toThrow('next section: expected 2 pixels like the previous one, found 3');
    expect(() => linkSections([Float32Array.from([1, 0.5])])).toThrow('next section: expected labels numbered 0..2 (at most one per pixel), found 0.5 at pixel 1');
    expect(() => linkSections([Uint32Array.from([9, 0])])).toThrow('found 9 at pixel 0');
    expect(() => new SectionLinker(0)).toThrow("minOverlap: expected a fraction of the smaller cell's area in (0, 1], found 0");
    expect(() => new SectionLinker(1.5)).toThrow('found 1.5');
    expect(() => relabelSection(section('12'), Uint32Array.from([0, 1]))).toThrow('labels: expected labels up to 1 (those the ids were given for), found 2 at pixel 1');
  });
});

/** The rule read literally, pair by pair over every pixel: the oracle of the random stacks. */
function bruteForceIds(sections: Uint32Array[], minOverlap: number): number[][] {
  const result: number[][] = [];
  let nextId = 1;
  sections.forEach((labels, z) => {
    const count = Math.max(0, ...labels);
    const ids = new Array<number>(count + 1).fill(0);
    const area = (s: Uint32Array, l: number) => s.filter((v) => v === l).length;
    const shared = (a: number, b: number) => labels.filter((v, i) => v === b && sections[z - 1]![i] === a).length;
    for (let b = 1; b <= count; b++) {
      if (area(labels, b) === 0) continue;
      if (z > 0) {
        const previous = sections[z - 1]!;
        const previousCount = Math.max(0, ...previous);
        let bestA = 0;
        for (let a = 1; a <= previousCount; a++) if (shared(a, b) > (bestA === 0 ? 0 : shared(bestA, b))) bestA = a;
        if (bestA > 0) {
          let bestB = 0;
          for (let c = 1; c <= count; c++) if (shared(bestA, c) > (bestB === 0 ? 0 : shared(bestA, bestB))) bestB = c;
          if (bestB === b && shared(bestA, b) >= minOverlap * Math.min(area(previous, bestA), area(labels, b))) {
            ids[b] = result[z - 1]![bestA]!;
            continue;
          }
        }
      }
      ids[b] = nextId++;
    }
    result.push(ids);
  });
  return result;
}

/** Blocky random labels: a coarse grid of labels 0..maxLabel, each block `block` pixels, in a `size` x `size` section. */
function randomSection(rng: ReturnType<typeof createRng>, size: number, block: number, maxLabel: number): Uint32Array {
  const coarse = Array.from({ length: Math.ceil(size / block) ** 2 }, () => rng.int(0, maxLabel + 1));
  const side = Math.ceil(size / block);
  const labels = new Uint32Array(size * size);
  for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) labels[y * size + x] = coarse[Math.floor(y / block) * side + Math.floor(x / block)]!;
  return labels;
}

describe('linkSections on random stacks', () => {
  it('gives the ids of the rule read literally, for many stacks and fractions', () => {
    const rng = createRng(24);
    for (let trial = 0; trial < 60; trial++) {
      const size = rng.int(3, 13);
      const sections = Array.from({ length: rng.int(1, 6) }, () => randomSection(rng, size, rng.int(1, 4), rng.int(1, 7)));
      const minOverlap = [0.1, 0.25, 0.5, 0.75, 1][trial % 5]!;
      const { ids } = linkSections(sections, minOverlap);
      expect(ids.map((section) => [...section]), `trial ${trial}`).toEqual(bruteForceIds(sections, minOverlap));
    }
  });

  it('gives an object at most one cell per section, in consecutive sections, ids 1..objects', () => {
    const rng = createRng(7);
    const sections = Array.from({ length: 8 }, () => randomSection(rng, 24, 3, 9));
    const { ids, objects } = linkSections(sections, 0.25);
    const seenIn = new Map<number, number[]>();
    ids.forEach((section, z) => {
      const present = [...section].filter((id) => id > 0);
      expect(new Set(present).size).toBe(present.length);
      for (const id of present) seenIn.set(id, [...(seenIn.get(id) ?? []), z]);
    });
    expect([...seenIn.keys()].sort((a, b) => a - b)).toEqual(Array.from({ length: objects }, (_, i) => i + 1));
    for (const zs of seenIn.values()) expect(zs).toEqual(Array.from({ length: zs.length }, (_, i) => zs[0]! + i));
    expect([...seenIn.values()].some((zs) => zs.length > 1)).toBe(true); // some links were made
  });

  it('is deterministic: the same sections give the same ids, whole or section by section', () => {
    const rng = createRng(3);
    const sections = Array.from({ length: 5 }, () => randomSection(rng, 16, 2, 6));
    const once = linkSections(sections);
    expect(linkSections(sections.map((s) => s.slice()))).toEqual(once);
    const linker = new SectionLinker();
    expect(sections.map((s) => linker.next(s))).toEqual(once.ids);
    expect(linker.objects).toBe(once.objects);
  });
});

describe('sectionOverlaps and matchSections', () => {
  it('counts shared pixels per pair and areas, and matches by the rule', () => {
    const overlaps = sectionOverlaps(section('1122', '1122'), section('1112', '.112'));
    expect([...overlaps.previousAreas]).toEqual([0, 4, 4]);
    expect([...overlaps.nextAreas]).toEqual([1, 5, 2]);
    expect(overlaps.pairs.sort((p, q) => p.previous - q.previous || p.next - q.next)).toEqual([
      { previous: 1, next: 1, pixels: 3 },
      { previous: 2, next: 1, pixels: 2 },
      { previous: 2, next: 2, pixels: 2 },
    ]);
    // next 1's best is previous 1 (3 pixels), mutual; next 2's best is previous 2 (2 pixels), whose best ties 2-2: the smaller label, 1
    expect([...matchSections(overlaps, 0.5)]).toEqual([0, 1, 0]);
  });
});
