/**
 * Cells of consecutive sections linked by overlap into 3D objects (`emseg predict --link-sections`):
 * the instance labels of each section (cell-labels.ts, 1..count per section, 0 = boundary) get
 * object ids that are the same for a cell and the cell it continues in the section before.
 * Platform-neutral.
 *
 * The rule, between section z-1 (cells a) and section z (cells b), with n(a, b) the pixels that are
 * a in z-1 and b in z at the same (x, y), and area(.) a cell's pixels in its own section:
 * - b continues a when a is b's best match (the largest n(a, b) over every a; on a tie the smaller
 *   label), b is a's best match (the largest n(a, b) over every b; on a tie the smaller label), and
 *   n(a, b) >= minOverlap * min(area(a), area(b)) with n(a, b) > 0;
 * - b then takes a's object id; every other cell of z starts a new object, numbered after every id
 *   given so far, in label order (so section 0's ids are its labels).
 *
 * What follows: an object holds at most one cell per section, in consecutive sections (a chain).
 * On a **split** (a continues as b1 and b2) the one of b1, b2 that is a's mutual best match (if it
 * passes the overlap) keeps a's id and the other starts a new object; on a **merge** (a1 and a2
 * become b) b keeps the id of its mutual best match and the other object ends at z-1. Limits: a
 * cell missing from one section (a gap) ends its object; a cell that moves by more than its size
 * between sections (oblique neurites in thick sections) is not linked; branches are not joined;
 * only 2 sections are ever compared. Deterministic: the ids depend only on the labels.
 *
 *   const linker = new SectionLinker(0.5);
 *   for (const labels of sections) ids.push(linker.next(labels));   // ids[k][label] = object id
 *   relabelSection(labels, ids[k]);                                  // the section in object ids
 */

/** The overlap a link needs by default: half of the smaller cell's area. */
export const DEFAULT_MIN_OVERLAP = 0.5;

/** The overlaps of two sections of the same size: pixels shared per pair of cells, and each cell's area. */
export interface SectionOverlaps {
  /** Area of each label of the previous section (index = label; [0] unused). */
  previousAreas: Float64Array;
  /** Area of each label of the next section. */
  nextAreas: Float64Array;
  /** Each pair of cells that share pixels: previous label, next label, shared pixels. */
  pairs: { previous: number; next: number; pixels: number }[];
}

/** Whether `minOverlap` is a valid minimum overlap: a fraction of the smaller cell's area in (0, 1]. */
export function isMinOverlap(minOverlap: number): boolean {
  return minOverlap > 0 && minOverlap <= 1;
}

/** Throws a RangeError unless `minOverlap` is a fraction in (0, 1]. */
export function checkMinOverlap(minOverlap: number, name = 'minOverlap'): void {
  if (!isMinOverlap(minOverlap)) throw new RangeError(`${name}: expected a fraction of the smaller cell's area in (0, 1], found ${minOverlap}`);
}

function largestLabel(labels: ArrayLike<number>, name: string): number {
  let max = 0;
  for (let i = 0; i < labels.length; i++) {
    const v = labels[i]!;
    if (!(Number.isInteger(v) && v >= 0 && v <= labels.length)) {
      throw new RangeError(`${name}: expected labels numbered 0..${labels.length} (at most one per pixel), found ${v} at pixel ${i}`);
    }
    if (v > max) max = v;
  }
  return max;
}

/** Counts the pixels each pair of cells of two sections shares (both labels > 0), and each cell's area. */
export function sectionOverlaps(previous: ArrayLike<number>, next: ArrayLike<number>): SectionOverlaps {
  if (previous.length !== next.length) throw new RangeError(`next section: expected ${previous.length} pixels like the previous one, found ${next.length}`);
  const previousAreas = new Float64Array(largestLabel(previous, 'previous section') + 1);
  const nextAreas = new Float64Array(largestLabel(next, 'next section') + 1);
  const stride = nextAreas.length;
  const shared = new Map<number, number>(); // previous * stride + next -> pixels
  // Cells are runs along rows: count a run of one pair before touching the map.
  let runKey = -1;
  let runLength = 0;
  for (let i = 0; i < previous.length; i++) {
    const a = previous[i]!;
    const b = next[i]!;
    previousAreas[a]!++;
    nextAreas[b]!++;
    if (a === 0 || b === 0) continue;
    const key = a * stride + b;
    if (key === runKey) {
      runLength++;
      continue;
    }
    if (runLength > 0) shared.set(runKey, (shared.get(runKey) ?? 0) + runLength);
    runKey = key;
    runLength = 1;
  }
  if (runLength > 0) shared.set(runKey, (shared.get(runKey) ?? 0) + runLength);
  const pairs = [...shared].map(([key, pixels]) => ({ previous: Math.floor(key / stride), next: key % stride, pixels }));
  return { previousAreas, nextAreas, pairs };
}

/**
 * For each label of the next section, the label of the previous section it continues by the rule
 * above, 0 for none (index = next label; [0] is 0).
 */
export function matchSections(overlaps: SectionOverlaps, minOverlap = DEFAULT_MIN_OVERLAP): Uint32Array {
  checkMinOverlap(minOverlap);
  const { previousAreas, nextAreas, pairs } = overlaps;
  // best[label] = the other section's best label, bestPixels[label] its overlap; ties to the smaller label
  const bestOfNext = new Uint32Array(nextAreas.length);
  const bestOfNextPixels = new Float64Array(nextAreas.length);
  const bestOfPrevious = new Uint32Array(previousAreas.length);
  const bestOfPreviousPixels = new Float64Array(previousAreas.length);
  for (const { previous, next, pixels } of pairs) {
    if (pixels > bestOfNextPixels[next]! || (pixels === bestOfNextPixels[next]! && previous < bestOfNext[next]!)) {
      bestOfNext[next] = previous;
      bestOfNextPixels[next] = pixels;
    }
    if (pixels > bestOfPreviousPixels[previous]! || (pixels === bestOfPreviousPixels[previous]! && next < bestOfPrevious[previous]!)) {
      bestOfPrevious[previous] = next;
      bestOfPreviousPixels[previous] = pixels;
    }
  }
  const continues = new Uint32Array(nextAreas.length);
  for (let b = 1; b < nextAreas.length; b++) {
    const a = bestOfNext[b]!;
    if (a === 0 || bestOfPrevious[a] !== b) continue;
    if (bestOfNextPixels[b]! >= minOverlap * Math.min(previousAreas[a]!, nextAreas[b]!)) continues[b] = a;
  }
  return continues;
}

/**
 * Gives the sections of a stack, one after the other, their object ids. Keeps the previous
 * section's labels (the array given, not a copy: do not change it before the next call) and ids,
 * so its memory is two sections' labels.
 */
export class SectionLinker {
  private previous: ArrayLike<number> | null = null;
  private previousIds = new Uint32Array(1);
  private nextId = 1;

  constructor(readonly minOverlap = DEFAULT_MIN_OVERLAP) {
    checkMinOverlap(minOverlap);
  }

  /** Object ids given so far: 1..objects. */
  get objects(): number {
    return this.nextId - 1;
  }

  /** The object id of each label of the next section (index = label; [0] = 0, labels absent from the section get 0). */
  next(labels: ArrayLike<number>): Uint32Array {
    const previous = this.previous ?? new Uint32Array(labels.length);
    const overlaps = sectionOverlaps(previous, labels);
    const continues = matchSections(overlaps, this.minOverlap);
    const ids = new Uint32Array(overlaps.nextAreas.length);
    for (let b = 1; b < ids.length; b++) {
      if (overlaps.nextAreas[b] === 0) continue;
      const a = continues[b]!;
      ids[b] = a > 0 ? this.previousIds[a]! : this.nextId++;
    }
    this.previous = labels;
    this.previousIds = ids;
    return ids;
  }
}

/** The object ids of every section of a stack (ids[k][label]) and how many objects there are. */
export function linkSections(sections: readonly ArrayLike<number>[], minOverlap = DEFAULT_MIN_OVERLAP): { ids: Uint32Array[]; objects: number } {
  const linker = new SectionLinker(minOverlap);
  const ids = sections.map((labels) => linker.next(labels));
  return { ids, objects: linker.objects };
}

/** A section's labels as object ids (`ids` from SectionLinker.next for these labels); 0 stays 0. */
export function relabelSection(labels: ArrayLike<number>, ids: Uint32Array): Uint32Array {
  const out = new Uint32Array(labels.length);
  for (let i = 0; i < labels.length; i++) {
    const v = labels[i]!;
    if (v >= ids.length) throw new RangeError(`labels: expected labels up to ${ids.length - 1} (those the ids were given for), found ${v} at pixel ${i}`);
    out[i] = ids[v]!;
  }
  return out;
}
