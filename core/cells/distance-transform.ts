/**
 * The exact Euclidean distance transform of a binary image (Felzenszwalb and Huttenlocher 2012,
 * "Distance transforms of sampled functions", Theory of Computing 8: the lower envelope of
 * parabolas, one pass per column then one per row, O(pixels)). Platform-neutral.
 *
 *   const distance = distanceTransform(inside, width, height);   // Float32Array, 0 outside
 *
 * Every pixel where `inside[i]` is non-zero gets its Euclidean distance, in pixels, to the nearest
 * pixel where `inside` is zero; those pixels get 0. The image border is not background: a pixel is
 * only as far from the edge as its nearest outside pixel within the image (an image without any
 * outside pixel is Infinity everywhere).
 */

/**
 * Squared distances along one line: `f` (length n) in, `out` (length n) out, with scratch arrays
 * `vertex` (n) and `boundary` (n + 1). Also the 1D step of train/weight-map.ts's distances.
 */
export function envelope1d(f: Float64Array, n: number, out: Float64Array, vertex: Int32Array, boundary: Float64Array): void {
  let k = 0;
  // the first finite parabola starts the envelope; lines without any are all Infinity
  let first = 0;
  while (first < n && f[first] === Infinity) first++;
  if (first === n) {
    out.fill(Infinity, 0, n);
    return;
  }
  vertex[0] = first;
  boundary[0] = -Infinity;
  boundary[1] = Infinity;
  for (let q = first + 1; q < n; q++) {
    const fq = f[q]!;
    if (fq === Infinity) continue; // an infinite parabola is never the lowest
    // where the new parabola passes below the last one of the envelope; drop those it hides
    let v = vertex[k]!;
    let s = (fq + q * q - (f[v]! + v * v)) / (2 * (q - v));
    while (s <= boundary[k]!) {
      k--;
      v = vertex[k]!;
      s = (fq + q * q - (f[v]! + v * v)) / (2 * (q - v));
    }
    k++;
    vertex[k] = q;
    boundary[k] = s;
    boundary[k + 1] = Infinity;
  }
  k = 0;
  for (let q = 0; q < n; q++) {
    while (boundary[k + 1]! < q) k++;
    const v = vertex[k]!;
    out[q] = (q - v) * (q - v) + f[v]!;
  }
}

/** Euclidean distance of each inside pixel to the nearest outside pixel (0 for outside pixels). */
export function distanceTransform(inside: ArrayLike<number>, width: number, height: number): Float32Array {
  const n = width * height;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
    throw new RangeError(`size: expected positive integers, found ${width}x${height}`);
  }
  if (inside.length !== n) throw new RangeError(`inside: expected ${n} pixels for ${width}x${height}, found ${inside.length}`);
  const longest = Math.max(width, height);
  const f = new Float64Array(longest);
  const line = new Float64Array(longest);
  const vertex = new Int32Array(longest);
  const boundary = new Float64Array(longest + 1);
  const squared = new Float64Array(n);
  for (let x = 0; x < width; x++) {
    for (let y = 0; y < height; y++) f[y] = inside[y * width + x] !== 0 ? Infinity : 0;
    envelope1d(f, height, line, vertex, boundary);
    for (let y = 0; y < height; y++) squared[y * width + x] = line[y]!;
  }
  const out = new Float32Array(n);
  for (let y = 0; y < height; y++) {
    const row = y * width;
    for (let x = 0; x < width; x++) f[x] = squared[row + x]!;
    envelope1d(f, width, line, vertex, boundary);
    for (let x = 0; x < width; x++) out[row + x] = Math.sqrt(line[x]!);
  }
  return out;
}
