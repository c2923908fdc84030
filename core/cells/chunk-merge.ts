/**
 * The cells of a slice from its label chunks' records (label-chunk.ts): pieces joined across chunk
 * borders, one-pixel lines where different cells would touch across a border, and cell numbers
 * 1..count in row-major order of each cell's first pixel. Needs the records only (not the chunks'
 * labels), so it runs on the large-image path with every chunk's labels on disk.
 *
 * - Joining (union-find over the pieces of every chunk): across each border, pixel a (chunk A,
 *   above or left) and pixel b (chunk B, below or right) join their pieces when both chunks saw
 *   them in one cell: A's label of b (its `beyond` edge) is A's label of a, and B's label of a is
 *   B's label of b, neither 0.
 * - Lines: where a and b are labelled, in cells that did not join, b becomes 0 (B's top row or
 *   left column), so that different cells are never 4-neighbours, as inside a chunk.
 * - Numbering: a piece's first pixel is its first pixel left after the lines (found among its
 *   top-row and left-column pixels and its first pixel off them); a cell's is the first of its
 *   pieces'; cells left without pixels get no number.
 *
 * For a slice of one chunk this is the chunk's pieces as they are: the labels of cell-regions.ts
 * numbered in row-major order. Platform-neutral.
 */
import type { LabelChunkGrid, LabelChunkRecord, Side } from './label-chunk.ts';

export interface SliceResolution {
  grid: LabelChunkGrid;
  /** Cells of the slice, numbered 1..count. */
  count: number;
  /** Per chunk (ly * columns + lx): the cell number of each piece (index = piece; 0: left without pixels). */
  cellOf: Uint32Array[];
  /** Per chunk: the pixels of its top row and left column that became lines, or null for none. */
  lineTop: (Uint8Array | null)[];
  lineLeft: (Uint8Array | null)[];
}

/** Union-find with path halving over 0..size-1. */
class DisjointSets {
  readonly parent: Int32Array;
  constructor(size: number) {
    this.parent = Int32Array.from({ length: size }, (_, i) => i);
  }
  find(i: number): number {
    const parent = this.parent;
    while (parent[i] !== i) {
      parent[i] = parent[parent[i]!]!;
      i = parent[i]!;
    }
    return i;
  }
  union(a: number, b: number): void {
    const ra = this.find(a);
    const rb = this.find(b);
    if (ra !== rb) this.parent[Math.max(ra, rb)] = Math.min(ra, rb);
  }
}

function checkRecords(grid: LabelChunkGrid, records: readonly LabelChunkRecord[]): void {
  if (records.length !== grid.columns * grid.rows) {
    throw new RangeError(`records: expected ${grid.columns * grid.rows} label chunks (${grid.columns}x${grid.rows}), found ${records.length}`);
  }
  records.forEach((record, i) => {
    if (record.lx !== i % grid.columns || record.ly !== Math.floor(i / grid.columns)) {
      throw new RangeError(`records[${i}]: expected label chunk ${i % grid.columns}, ${Math.floor(i / grid.columns)}, found ${record.lx}, ${record.ly}`);
    }
  });
}

/** Joins the pieces of a slice's label chunks (records in row-major chunk order) into numbered cells. */
export function resolveLabelChunks(grid: LabelChunkGrid, records: readonly LabelChunkRecord[]): SliceResolution {
  checkRecords(grid, records);
  const { columns, rows } = grid;
  // Piece k of chunk c is node offset[c] + k (k = 0 unused).
  const offset = new Int32Array(records.length + 1);
  records.forEach((record, c) => (offset[c + 1] = offset[c]! + record.pieces + 1));
  const sets = new DisjointSets(offset[records.length]!);

  // Each border pair: (chunk A, A's edge, A's beyond), (chunk B, B's edge, B's beyond); B is below or right of A.
  const borders: { a: number; b: number; sideA: Side; sideB: Side }[] = [];
  for (let ly = 0; ly < rows; ly++) {
    for (let lx = 0; lx < columns; lx++) {
      const c = ly * columns + lx;
      if (lx + 1 < columns) borders.push({ a: c, b: c + 1, sideA: 'right', sideB: 'left' });
      if (ly + 1 < rows) borders.push({ a: c, b: c + columns, sideA: 'bottom', sideB: 'top' });
    }
  }
  const facing = (a: number, b: number, sideA: Side, sideB: Side) => {
    const A = records[a]!;
    const B = records[b]!;
    const edgeA = A.edge[sideA];
    const edgeB = B.edge[sideB];
    const beyondA = A.beyond[sideA];
    const beyondB = B.beyond[sideB];
    if (!beyondA || !beyondB || edgeA.length !== edgeB.length || beyondA.length !== edgeA.length || beyondB.length !== edgeB.length) {
      throw new RangeError(`label chunks ${A.lx}, ${A.ly} and ${B.lx}, ${B.ly}: their ${sideA} and ${sideB} edges do not face each other`);
    }
    return { edgeA, edgeB, beyondA, beyondB };
  };
  for (const { a, b, sideA, sideB } of borders) {
    const { edgeA, edgeB, beyondA, beyondB } = facing(a, b, sideA, sideB);
    for (let k = 0; k < edgeA.length; k++) {
      const pa = edgeA[k]!;
      const pb = edgeB[k]!;
      if (pa !== 0 && pb !== 0 && beyondA[k] === pa && beyondB[k] === pb) sets.union(offset[a]! + pa, offset[b]! + pb);
    }
  }

  // Lines where different cells meet across a border: B's pixel becomes 0.
  const lineTop: (Uint8Array | null)[] = records.map(() => null);
  const lineLeft: (Uint8Array | null)[] = records.map(() => null);
  for (const { a, b, sideA, sideB } of borders) {
    const { edgeA, edgeB } = facing(a, b, sideA, sideB);
    for (let k = 0; k < edgeA.length; k++) {
      const pa = edgeA[k]!;
      const pb = edgeB[k]!;
      if (pa === 0 || pb === 0 || sets.find(offset[a]! + pa) === sets.find(offset[b]! + pb)) continue;
      const lines = sideB === 'top' ? lineTop : lineLeft;
      (lines[b] ??= new Uint8Array(edgeB.length))[k] = 1;
    }
  }

  // Each piece's area and first pixel after the lines; each cell's, summed and least over its pieces.
  const nodes = offset[records.length]!;
  const cellArea = new Float64Array(nodes);
  const cellFirst = new Float64Array(nodes).fill(Infinity);
  records.forEach((record, c) => {
    const area = record.area.slice();
    const first = record.first.slice();
    const top = lineTop[c];
    const left = lineLeft[c];
    if (top || left) {
      const { core, edge } = record;
      const touched = new Uint8Array(record.pieces + 1);
      // corner pixel (0, 0) is in both the top row and the left column: counted once
      for (let k = 0; k < core.width; k++) if (top?.[k] || (k === 0 && left?.[0])) (area[edge.top[k]!]!--, (touched[edge.top[k]!] = 1));
      for (let k = 1; k < core.height; k++) if (left?.[k]) (area[edge.left[k]!]!--, (touched[edge.left[k]!] = 1));
      for (let piece = 1; piece <= record.pieces; piece++) if (touched[piece]) first[piece] = record.innerFirst[piece]!;
      for (let k = 0; k < core.width; k++) {
        const piece = edge.top[k]!;
        if (touched[piece] && !(top?.[k] || (k === 0 && left?.[0]))) first[piece] = Math.min(first[piece]!, core.y * grid.width + core.x + k);
      }
      for (let k = 1; k < core.height; k++) {
        const piece = edge.left[k]!;
        if (touched[piece] && !left?.[k]) first[piece] = Math.min(first[piece]!, (core.y + k) * grid.width + core.x);
      }
    }
    for (let piece = 1; piece <= record.pieces; piece++) {
      if (area[piece]! <= 0) continue;
      const root = sets.find(offset[c]! + piece);
      cellArea[root]! += area[piece]!;
      cellFirst[root] = Math.min(cellFirst[root]!, first[piece]!);
    }
  });
  const roots: number[] = [];
  for (let node = 0; node < nodes; node++) if (cellArea[node]! > 0) roots.push(node);
  roots.sort((a, b) => cellFirst[a]! - cellFirst[b]!);
  const number = new Uint32Array(nodes);
  roots.forEach((root, i) => (number[root] = i + 1));
  const cellOf = records.map((record, c) => {
    const out = new Uint32Array(record.pieces + 1);
    for (let piece = 1; piece <= record.pieces; piece++) out[piece] = number[sets.find(offset[c]! + piece)]!;
    return out;
  });
  return { grid, count: roots.length, cellOf, lineTop, lineLeft };
}

/** Whether pixel (x, y) of chunk c's core became a line. */
function isLine(resolution: SliceResolution, c: number, x: number, y: number): boolean {
  return (y === 0 && resolution.lineTop[c]?.[x] === 1) || (x === 0 && resolution.lineLeft[c]?.[y] === 1);
}

/** A chunk's core labels (its pieces, label-chunk.ts) as the slice's cell numbers, lines included. */
export function finalChunkLabels(resolution: SliceResolution, record: LabelChunkRecord, pieces: Uint32Array): Uint32Array {
  const { core } = record;
  const c = record.ly * resolution.grid.columns + record.lx;
  const cellOf = resolution.cellOf[c]!;
  if (pieces.length !== core.width * core.height) {
    throw new RangeError(`labels of label chunk ${record.lx}, ${record.ly}: expected ${core.width * core.height} pixels (${core.width}x${core.height}), found ${pieces.length}`);
  }
  const out = new Uint32Array(pieces.length);
  for (let i = 0; i < pieces.length; i++) {
    const piece = pieces[i]!;
    if (piece > record.pieces) throw new RangeError(`labels of label chunk ${record.lx}, ${record.ly}: expected pieces 0-${record.pieces}, found ${piece} at pixel ${i}`);
    out[i] = cellOf[piece]!;
  }
  const top = resolution.lineTop[c];
  const left = resolution.lineLeft[c];
  if (top) for (let x = 0; x < core.width; x++) if (top[x]) out[x] = 0;
  if (left) for (let y = 0; y < core.height; y++) if (left[y]) out[y * core.width] = 0;
  return out;
}

/** The cell numbers of one edge of a chunk's core (label-chunk.ts `edge`), lines included. */
export function finalEdge(resolution: SliceResolution, record: LabelChunkRecord, side: Side): Uint32Array {
  const c = record.ly * resolution.grid.columns + record.lx;
  const cellOf = resolution.cellOf[c]!;
  const { width, height } = record.core;
  const edge = record.edge[side];
  return edge.map((piece, k) => {
    const x = side === 'left' ? 0 : side === 'right' ? width - 1 : k;
    const y = side === 'top' ? 0 : side === 'bottom' ? height - 1 : k;
    return isLine(resolution, c, x, y) ? 0 : cellOf[piece]!;
  });
}

/** The cell numbers just outside chunk (lx, ly)'s core on each side (its neighbours' edges), null at the slice's edge. */
export function finalSurroundings(resolution: SliceResolution, records: readonly LabelChunkRecord[], lx: number, ly: number): Record<Side, Uint32Array | null> {
  const { columns, rows } = resolution.grid;
  const at = (x: number, y: number) => records[y * columns + x]!;
  return {
    top: ly > 0 ? finalEdge(resolution, at(lx, ly - 1), 'bottom') : null,
    bottom: ly + 1 < rows ? finalEdge(resolution, at(lx, ly + 1), 'top') : null,
    left: lx > 0 ? finalEdge(resolution, at(lx - 1, ly), 'right') : null,
    right: lx + 1 < columns ? finalEdge(resolution, at(lx + 1, ly), 'left') : null,
  };
}
