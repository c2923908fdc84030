/**
 * Filters on float images (row-major, width x height), platform-neutral: a Gaussian blur and the
 * lossy step of JPEG. Used by the training's shift augmentation (train/augment-shifts.ts) and by the
 * shift suite of `emseg evaluate --shift` (core/shift-suite.ts).
 */

/** Separable Gaussian blur in place, mirrored at the edges (edge pixel not repeated), radius ceil(3 sigma). */
export function gaussianBlur(values: Float32Array, width: number, height: number, sigma: number): void {
  if (values.length !== width * height) throw new RangeError(`gaussianBlur: expected ${width * height} values, found ${values.length}`);
  if (!(Number.isFinite(sigma) && sigma > 0)) throw new RangeError(`gaussianBlur: sigma: expected a number > 0, found ${sigma}`);
  const radius = Math.max(1, Math.ceil(3 * sigma));
  const kernel = Array.from({ length: 2 * radius + 1 }, (_, k) => Math.exp(-((k - radius) ** 2) / (2 * sigma * sigma)));
  const total = kernel.reduce((a, b) => a + b, 0);
  const weights = kernel.map((k) => k / total);
  const mirror = (i: number, n: number) => {
    if (n === 1) return 0;
    let j = i;
    while (j < 0 || j >= n) j = j < 0 ? -j : 2 * (n - 1) - j;
    return j;
  };
  const line = new Float64Array(Math.max(width, height));
  // Rows, then columns.
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let acc = 0;
      for (let k = -radius; k <= radius; k++) acc += weights[k + radius]! * values[y * width + mirror(x + k, width)]!;
      line[x] = acc;
    }
    for (let x = 0; x < width; x++) values[y * width + x] = line[x]!;
  }
  for (let x = 0; x < width; x++) {
    for (let y = 0; y < height; y++) {
      let acc = 0;
      for (let k = -radius; k <= radius; k++) acc += weights[k + radius]! * values[mirror(y + k, height) * width + x]!;
      line[y] = acc;
    }
    for (let y = 0; y < height; y++) values[y * width + x] = line[y]!;
  }
}

/** The JPEG standard's luminance quantization table (ITU-T T.81, Annex K), row-major. */
const JPEG_LUMINANCE = [
  16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69, 56, 14, 17, 22, 29, 51, 87, 80, 62, 18, 22, 37, 56, 68, 109,
  103, 77, 24, 35, 55, 64, 81, 104, 113, 92, 49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99,
];

/** The table scaled to a quality 1-100, as the Independent JPEG Group's encoder (libjpeg) scales it. */
export function jpegQuantizationTable(quality: number): number[] {
  const q = Math.min(100, Math.max(1, Math.round(quality)));
  const scale = q < 50 ? 5000 / q : 200 - 2 * q;
  return JPEG_LUMINANCE.map((t) => Math.min(255, Math.max(1, Math.floor((t * scale + 50) / 100))));
}

const DCT = Array.from({ length: 8 }, (_, k) => Array.from({ length: 8 }, (_, n) => (k === 0 ? Math.SQRT1_2 : 1) * 0.5 * Math.cos(((2 * n + 1) * k * Math.PI) / 16)));

/**
 * JPEG's lossy step on greyscale values in [0, 1], in place: each 8x8 block from the top-left
 * corner at 8-bit levels, level-shifted by 128, orthonormal DCT, quantized with the luminance table
 * of `quality`, dequantized, inverse DCT, rounded and clipped to 0-255. Edge blocks are padded by
 * repeating the last row and column, as encoders do, and only their inside is written back.
 */
export function jpegArtefacts(values: Float32Array, width: number, height: number, quality: number): void {
  if (values.length !== width * height) throw new RangeError(`jpegArtefacts: expected ${width * height} values, found ${values.length}`);
  const table = jpegQuantizationTable(quality);
  const block = new Float64Array(64);
  const temp = new Float64Array(64);
  for (let by = 0; by < height; by += 8) {
    for (let bx = 0; bx < width; bx += 8) {
      for (let y = 0; y < 8; y++) {
        const sy = Math.min(height - 1, by + y);
        for (let x = 0; x < 8; x++) block[y * 8 + x] = values[sy * width + Math.min(width - 1, bx + x)]! * 255 - 128;
      }
      transform8x8(block, temp, false);
      for (let i = 0; i < 64; i++) block[i] = Math.round(block[i]! / table[i]!) * table[i]!;
      transform8x8(block, temp, true);
      for (let y = 0; y < 8 && by + y < height; y++) {
        for (let x = 0; x < 8 && bx + x < width; x++) values[(by + y) * width + bx + x] = Math.min(255, Math.max(0, Math.round(block[y * 8 + x]! + 128))) / 255;
      }
    }
  }
}

/** The orthonormal 2D DCT-II of an 8x8 block in place (inverse: its transpose, the DCT-III). */
function transform8x8(block: Float64Array, temp: Float64Array, inverse: boolean): void {
  const c = (k: number, n: number) => (inverse ? DCT[n]![k]! : DCT[k]![n]!);
  for (let y = 0; y < 8; y++) {
    for (let k = 0; k < 8; k++) {
      let acc = 0;
      for (let n = 0; n < 8; n++) acc += c(k, n) * block[y * 8 + n]!;
      temp[y * 8 + k] = acc;
    }
  }
  for (let x = 0; x < 8; x++) {
    for (let k = 0; k < 8; k++) {
      let acc = 0;
      for (let n = 0; n < 8; n++) acc += c(k, n) * temp[n * 8 + x]!;
      block[k * 8 + x] = acc;
    }
  }
}
