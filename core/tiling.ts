/**
 * The tile plan of sliding-window inference, after MONAI's `sliding_window_inference`: the options
 * and their defaults, where the tiles of a slice go, their blending window, and how a tile is read
 * out of a slice with its mirror padding. core/stitch.ts puts the predicted tiles back together
 * (`stitchTiles`, and `slidingWindowInference` for an image in memory); the model is a function
 * (a TilePredictor) and the tiler knows nothing else about it.
 *
 * How an image of any size goes through a model that takes sizes that are multiples of 16:
 * - Each axis is mirror-padded (core/padding.ts) after its end to the next multiple of
 *   `sizeMultiple`. When the padded axis fits in one tile, the tile covers it (a 37x53 image is
 *   one 48x64 tile).
 * - Along a longer axis, tiles are `tile` pixels long, start at multiples of `sizeMultiple`, and
 *   are spread evenly from one end to the other so that neighbours overlap by at least
 *   `2 * halo` pixels. Starting at multiples keeps every pixel at the same phase of the model's
 *   pooling grid as in a whole-image run: a U-Net is not invariant to other shifts, and tiles at
 *   arbitrary offsets would blend predictions that differ everywhere, not only near tile edges.
 * - Tiles go to the predictor `tileBatch` at a time. Each prediction is weighted by a blending
 *   window (`gaussian`: exp(-d^2 / (2 sigma^2)) per axis with sigma = sigmaScale * tile length,
 *   largest at the tile centre, so a pixel is taken mostly from the tile where it lies furthest
 *   from an edge; `constant`: all ones, a plain average), summed in float64, divided by the summed
 *   weights, and cropped back to the image's own size. Where only one tile covers a pixel, the
 *   result is exactly that tile's prediction; where several do, it is a weighted mean of them,
 *   so a pointwise predictor (e.g. x + 1) is reproduced exactly and no seams appear.
 *
 * A 512x512 slice with the default 512 tile is one tile, with no blending at all.
 * Platform-neutral: runs in Node and the browser.
 */
import { EmsegError } from './errors.ts';
import type { GreyImage } from './image.ts';
import { reflectIndex, roundUpToMultiple, type Box, type Padding } from './padding.ts';
import { DEFAULT_HALO, DEFAULT_TILE, sizeMultipleFor, DEFAULT_DEPTH } from './contract.ts';

/**
 * The model as the tiler sees it: `n` tiles of `height` x `width` float32 values, packed as NCHW
 * with C = 1 (for one channel the same memory as NHWC), in; the same number of values out.
 */
export type TilePredictor = (tiles: Float32Array, n: number, height: number, width: number) => Promise<Float32Array>;

export type Blending = 'gaussian' | 'constant';

/**
 * The options of sliding-window inference (core/stitch.ts), each with its default (DEFAULT_TILING)
 * and MONAI's name for it where it has one. There is no padding mode: padding is always the
 * contract's mirror (reflect) padding after the end of each axis, to a multiple of `sizeMultiple`.
 */
export interface TilingOptions {
  /** Longest tile side given to the predictor, a multiple of `sizeMultiple` (MONAI's roi_size). Default 512 (contract). */
  tile?: number;
  /** Neighbouring tiles overlap by at least twice this many pixels (MONAI's overlap, in pixels); 0 <= halo <= (tile - sizeMultiple) / 2. Default 32 (contract). */
  halo?: number;
  /** Tiles per predictor call (MONAI's sw_batch_size). Default 4. */
  tileBatch?: number;
  /** How overlapping predictions are weighted: 'gaussian' or 'constant', a plain average (MONAI's mode). Default 'gaussian'. */
  blending?: Blending;
  /** Gaussian sigma as a fraction of the tile length (MONAI's sigma_scale). Default 0.125. */
  sigmaScale?: number;
  /** Padding: each axis is mirror-padded after its end to a multiple of this, and heights and widths given to the predictor are multiples of it. Default 16 (2^depth, depth 4). */
  sizeMultiple?: number;
  /** Called after each predictor call with the tiles done and the tiles in all. Default none. */
  onProgress?: (done: number, total: number) => void;
  /** Checked before each predictor call: when aborted, rejects with the signal's reason. Default none. */
  signal?: AbortSignal;
}

/** The defaults of TilingOptions. */
export const DEFAULT_TILING: Readonly<{ tile: number; halo: number; tileBatch: number; blending: Blending; sigmaScale: number; sizeMultiple: number }> = {
  tile: DEFAULT_TILE,
  halo: DEFAULT_HALO,
  tileBatch: 4,
  blending: 'gaussian',
  sigmaScale: 0.125,
  sizeMultiple: sizeMultipleFor(DEFAULT_DEPTH),
};

/** Where the tiles of one image go. */
export interface TilePlan {
  /** The image's own size. */
  width: number;
  height: number;
  /** Mirror padding applied before tiling (only along axes that fit in one tile). */
  padding: Padding;
  /** Size of the padded image the tiles are cut from. */
  paddedWidth: number;
  paddedHeight: number;
  /** Size of every tile. */
  tileWidth: number;
  tileHeight: number;
  /** Left and top edges of the tile columns and rows, in the padded image. */
  xs: number[];
  ys: number[];
}

function badArgument(name: string, expected: string, found: unknown): EmsegError {
  return new EmsegError('E_BAD_ARGUMENT', `${name}: expected ${expected}, found ${String(found)}`);
}

/** The options with their defaults, checked. Throws E_BAD_ARGUMENT naming the option. */
export function resolveTilingOptions(options: TilingOptions = {}): Required<Omit<TilingOptions, 'onProgress' | 'signal'>> {
  const sizeMultiple = options.sizeMultiple ?? DEFAULT_TILING.sizeMultiple;
  const tile = options.tile ?? DEFAULT_TILING.tile;
  const halo = options.halo ?? DEFAULT_TILING.halo;
  const tileBatch = options.tileBatch ?? DEFAULT_TILING.tileBatch;
  const blending = options.blending ?? DEFAULT_TILING.blending;
  const sigmaScale = options.sigmaScale ?? DEFAULT_TILING.sigmaScale;
  if (!Number.isInteger(sizeMultiple) || sizeMultiple < 1) throw badArgument('sizeMultiple', 'a positive integer', sizeMultiple);
  if (!Number.isInteger(tile) || tile < sizeMultiple || tile % sizeMultiple !== 0) {
    throw badArgument('tile', `a positive multiple of ${sizeMultiple}`, tile);
  }
  const maxHalo = Math.floor((tile - sizeMultiple) / 2);
  if (!Number.isInteger(halo) || halo < 0 || halo > maxHalo) {
    throw badArgument('halo', `an integer from 0 to ${maxHalo} (tile ${tile} minus twice the halo must leave at least ${sizeMultiple})`, halo);
  }
  if (!Number.isInteger(tileBatch) || tileBatch < 1) throw badArgument('tileBatch', 'a positive integer', tileBatch);
  if (blending !== 'gaussian' && blending !== 'constant') throw badArgument('blending', "'gaussian' or 'constant'", blending);
  if (!(sigmaScale > 0) || !Number.isFinite(sigmaScale)) throw badArgument('sigmaScale', 'a positive number', sigmaScale);
  return { tile, halo, tileBatch, blending, sigmaScale, sizeMultiple };
}

/**
 * One axis: the image is mirror-padded after its end to a multiple of `multiple`; one tile covers
 * it when that fits, else tiles of `tile` pixels start at multiples of `multiple` (same phase for
 * the model's pooling grid as a whole-image run), spread as evenly as that allows, neighbours
 * overlapping by at least `2 * halo`.
 */
function planAxis(size: number, tile: number, halo: number, multiple: number) {
  const padded = roundUpToMultiple(size, multiple);
  if (padded <= tile) return { after: padded - size, padded, length: padded, starts: [0] };
  const maxStride = Math.floor((tile - 2 * halo) / multiple) * multiple;
  const count = Math.ceil((padded - tile) / maxStride) + 1;
  const units = (padded - tile) / multiple;
  const starts = Array.from({ length: count }, (_, i) => multiple * Math.floor((i * units) / (count - 1)));
  return { after: padded - size, padded, length: tile, starts };
}

/** Plans the tiles of a `width` x `height` image. */
export function planTiles(width: number, height: number, options: TilingOptions = {}): TilePlan {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new RangeError(`image size: expected positive integers, found ${width}x${height}`);
  }
  const { tile, halo, sizeMultiple } = resolveTilingOptions(options);
  const x = planAxis(width, tile, halo, sizeMultiple);
  const y = planAxis(height, tile, halo, sizeMultiple);
  return {
    width,
    height,
    padding: { top: 0, bottom: y.after, left: 0, right: x.after },
    paddedWidth: x.padded,
    paddedHeight: y.padded,
    tileWidth: x.length,
    tileHeight: y.length,
    xs: x.starts,
    ys: y.starts,
  };
}

/** The window along one axis of a tile: all ones, or a Gaussian centred on the tile, largest 1. */
export function blendingProfile(length: number, blending: Blending, sigmaScale = DEFAULT_TILING.sigmaScale): Float64Array {
  const values = new Float64Array(length);
  const centre = (length - 1) / 2;
  const sigma = sigmaScale * length;
  for (let i = 0; i < length; i++) values[i] = blending === 'constant' ? 1 : Math.exp(-((i - centre) ** 2) / (2 * sigma * sigma));
  return values;
}

/**
 * Part of a slice held in memory: `data` holds the pixels of `box` (row-major, box.width per row)
 * of a sliceWidth x sliceHeight slice. A whole image in memory is the region whose box is the slice.
 */
export interface SliceRegion {
  data: Float32Array;
  box: Box;
  sliceWidth: number;
  sliceHeight: number;
}

/** The region of a slice that an image in memory is: all of it. */
export function wholeSlice(image: GreyImage<Float32Array>): SliceRegion {
  return { data: image.data, box: { x: 0, y: 0, width: image.width, height: image.height }, sliceWidth: image.width, sliceHeight: image.height };
}

/** The slice pixels that `tile` reads, mirroring (core/padding.ts reflectIndex) past the right and bottom edges. */
export function tileSourceBox(tile: Box, sliceWidth: number, sliceHeight: number): Box {
  const axis = (start: number, length: number, size: number) => {
    if (start + length <= size) return { from: start, to: start + length - 1 };
    let from = size - 1;
    let to = 0;
    for (let i = start; i < start + length; i++) {
      const k = reflectIndex(i, size);
      if (k < from) from = k;
      if (k > to) to = k;
    }
    return { from, to };
  };
  const x = axis(tile.x, tile.width, sliceWidth);
  const y = axis(tile.y, tile.height, sliceHeight);
  return { x: x.from, y: y.from, width: x.to - x.from + 1, height: y.to - y.from + 1 };
}

/**
 * Copies one tile out of a region of its slice, mirroring past the slice's right and bottom edges.
 * The region must hold tileSourceBox(tile).
 */
export function extractTile(region: SliceRegion, tile: Box, out: Float32Array, offset: number): void {
  const { data, box, sliceWidth, sliceHeight } = region;
  const inside = Math.max(0, Math.min(tile.width, sliceWidth - tile.x));
  for (let row = 0; row < tile.height; row++) {
    // Index of slice column 0 of this row in `data` (may lie before the region's first column).
    const source = (reflectIndex(tile.y + row, sliceHeight) - box.y) * box.width - box.x;
    const target = offset + row * tile.width;
    out.set(data.subarray(source + tile.x, source + tile.x + inside), target);
    for (let col = inside; col < tile.width; col++) out[target + col] = data[source + reflectIndex(tile.x + col, sliceWidth)]!;
  }
}
