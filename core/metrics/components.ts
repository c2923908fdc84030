/**
 * Connected-component labelling of a binary mask with 4-connectivity (the ISBI 2012 ground-truth
 * segments are the 4-connected components of the white class). Two passes over runs (maximal
 * horizontal stretches of mask pixels in one row): the first finds each row's runs and joins,
 * with union-find, every run to the runs of the row above that share a column with it; the second
 * numbers the sets in row-major order of their first run and fills each run with its number.
 * Sequential memory access, O(pixels + runs α(runs)).
 */

export interface Components {
  /** Per pixel: 0 = not in the mask, 1..count = component. */
  labels: Int32Array;
  count: number;
  /** Pixels per component, index 0 unused. */
  sizes: Int32Array;
}

/** Growable run lists: start and end (exclusive) column, row, union-find parent. */
class Runs {
  start = new Int32Array(1024);
  end = new Int32Array(1024);
  row = new Int32Array(1024);
  parent = new Int32Array(1024);
  count = 0;

  add(start: number, end: number, row: number): void {
    if (this.count === this.start.length) this.grow();
    const r = this.count++;
    this.start[r] = start;
    this.end[r] = end;
    this.row[r] = row;
    this.parent[r] = r;
  }

  /** The set's representative, halving the path on the way. */
  find(r: number): number {
    const parent = this.parent;
    while (parent[r] !== r) {
      const up = parent[parent[r]!]!;
      parent[r] = up;
      r = up;
    }
    return r;
  }

  /** Joins the sets of runs a and b (the lower index becomes the representative). */
  union(a: number, b: number): void {
    const ra = this.find(a);
    const rb = this.find(b);
    if (ra < rb) this.parent[rb] = ra;
    else if (rb < ra) this.parent[ra] = rb;
  }

  private grow(): void {
    const size = this.start.length * 2;
    const grown = (old: Int32Array): Int32Array<ArrayBuffer> => {
      const array = new Int32Array(size);
      array.set(old);
      return array;
    };
    this.start = grown(this.start);
    this.end = grown(this.end);
    this.row = grown(this.row);
    this.parent = grown(this.parent);
  }
}

/**
 * Labels the 4-connected components of the pixels where `mask[i]` is truthy (non-zero), numbered
 * 1, 2, ... in row-major order of their first pixel.
 */
export function labelComponents4(mask: ArrayLike<number>, width: number, height: number): Components {
  const n = width * height;
  if (mask.length !== n) throw new RangeError(`mask: expected ${n} pixels for ${width}x${height}, found ${mask.length}`);
  const runs = new Runs();
  // runs of the row above: [above, aboveEnd) in the run lists
  let above = 0;
  let aboveEnd = 0;
  for (let y = 0; y < height; y++) {
    const rowStart = runs.count;
    const offset = y * width;
    let a = above;
    for (let x = 0; x < width; ) {
      if (mask[offset + x] === 0) {
        x++;
        continue;
      }
      const start = x;
      while (x < width && mask[offset + x] !== 0) x++;
      const r = runs.count;
      runs.add(start, x, y);
      // runs above sharing a column: those ending after `start` and starting before `x`
      while (a < aboveEnd && runs.end[a]! <= start) a++;
      for (let b = a; b < aboveEnd && runs.start[b]! < x; b++) runs.union(r, b);
    }
    above = rowStart;
    aboveEnd = runs.count;
  }

  const labels = new Int32Array(n);
  const number = new Int32Array(runs.count);
  const sizeList: number[] = [0];
  let count = 0;
  for (let r = 0; r < runs.count; r++) {
    const root = runs.find(r);
    // the representative is the set's first run, so it is numbered before any other of its runs
    if (root === r) {
      number[r] = ++count;
      sizeList.push(0);
    }
    const label = number[root]!;
    const start = runs.start[r]!;
    const end = runs.end[r]!;
    sizeList[label]! += end - start;
    labels.fill(label, runs.row[r]! * width + start, runs.row[r]! * width + end);
  }
  return { labels, count, sizes: Int32Array.from(sizeList) };
}
