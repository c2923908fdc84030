/**
 * Halving an image for the lower levels of a multiscale pyramid (OME-Zarr, tiled BigTIFF).
 * Each output pixel summarizes the 2x2 block of input pixels it covers (1x2, 2x1 or 1x1 at the
 * right and bottom edges of an odd-sized image).
 *
 * - 'mean' (probabilities): the block's mean; uint8 rounds half up.
 * - 'majority' (masks 0/255): 255 when more than half of the block is non-zero, else 0; a tie
 *   (2 of 4, 1 of 2) gives 0, so thin membranes (0) survive downsampling and the mask stays binary.
 * - 'nearest' (cell labels): the block's top-left pixel, so every value is a label of the image.
 */
export type DownsampleRule = 'mean' | 'majority' | 'nearest';

/** An image of one sample per pixel, row-major, as the pyramids hold them. */
export interface SampleImage<D extends Uint8Array | Float32Array | Uint32Array> {
  readonly width: number;
  readonly height: number;
  readonly data: D;
}

export function halveImage<D extends Uint8Array | Float32Array | Uint32Array>(image: SampleImage<D>, rule: DownsampleRule): SampleImage<D> {
  const { width, height, data } = image;
  const outWidth = Math.ceil(width / 2);
  const outHeight = Math.ceil(height / 2);
  const out = new (data.constructor as { new (n: number): D })(outWidth * outHeight);
  if (rule === 'nearest') {
    for (let oy = 0; oy < outHeight; oy += 1) for (let ox = 0; ox < outWidth; ox += 1) out[oy * outWidth + ox] = data[oy * 2 * width + ox * 2]!;
    return { width: outWidth, height: outHeight, data: out };
  }
  const integer = !(data instanceof Float32Array);
  for (let oy = 0; oy < outHeight; oy += 1) {
    const y0 = oy * 2;
    const y1 = Math.min(y0 + 2, height);
    for (let ox = 0; ox < outWidth; ox += 1) {
      const x0 = ox * 2;
      const x1 = Math.min(x0 + 2, width);
      let sum = 0;
      let nonZero = 0;
      for (let y = y0; y < y1; y += 1) {
        const row = y * width;
        for (let x = x0; x < x1; x += 1) {
          const v = data[row + x]!;
          sum += v;
          if (v !== 0) nonZero += 1;
        }
      }
      const n = (y1 - y0) * (x1 - x0);
      let value: number;
      if (rule === 'majority') value = nonZero * 2 > n ? 255 : 0;
      else value = integer ? Math.floor(sum / n + 0.5) : sum / n;
      out[oy * outWidth + ox] = value;
    }
  }
  return { width: outWidth, height: outHeight, data: out };
}

/** Lower levels of a pyramid: halve until the level fits in one chunk (tile), at most 6. */
export function pyramidLevelCount(width: number, height: number, chunkWidth: number, chunkHeight: number): number {
  let levels = 0;
  let w = width;
  let h = height;
  while ((w > chunkWidth || h > chunkHeight) && levels < 6) {
    w = Math.ceil(w / 2);
    h = Math.ceil(h / 2);
    levels += 1;
  }
  return levels;
}
