/**
 * TIFF writing (re-exported by core/tiff.ts): uncompressed little-endian baseline TIFF, 8-bit or
 * 16-bit unsigned or 32-bit float greyscale, and 32-bit unsigned for instance labels
 * (`encodeLabelTiff`), one strip per page, with an ImageJ ImageDescription
 * for stacks and the pixel data of all pages contiguous after the IFDs, as ImageJ expects, so that
 * ImageJ/Fiji and Python's tifffile read it as a stack; the pixel size of the input it was made
 * from (`stack.pixelSize`) goes along, so a mask overlays its image.
 */
import { EmsegError } from './errors.ts';
import { bitDepthOf, type ImageStack, type PixelSize } from './image.ts';
import { Tag } from './tiff-ifd.ts';
import { imagejCalibration, metresPerUnit } from './tiff-pixel-size.ts';

export interface EncodeTiffOptions {
  /**
   * Write an ImageJ ImageDescription ("ImageJ=1.11a images=N slices=N ...") so that ImageJ/Fiji
   * opens the pages as a stack (with min/max for display). Default true.
   */
  imagej?: boolean;
  /**
   * The pixel size to state. Default: the stack's own (`stack.pixelSize`, from the file it was
   * decoded from). With the ImageJ description: `unit=nm` or `unit=micron` (and `spacing=`) there
   * and the resolution tags in pixels per that unit, ResolutionUnit none, as ImageJ and tifffile
   * write and read it; without it: the resolution tags in pixels per centimeter (ResolutionUnit 3).
   * Nothing stated: resolution 1/1, ResolutionUnit none (no pixel size).
   */
  pixelSize?: PixelSize | undefined;
}

/** A positive number as a TIFF RATIONAL [numerator, denominator] of 32-bit integers (decimal denominators). */
export function tiffRational(value: number): [number, number] {
  let denominator = 1;
  while (denominator < 1e9 && value * denominator * 10 < 2 ** 32 - 1 && Math.abs(Math.round(value * denominator) - value * denominator) > 1e-9 * value * denominator) {
    denominator *= 10;
  }
  return [Math.min(Math.round(value * denominator), 2 ** 32 - 1), denominator];
}

interface Resolution {
  x: [number, number];
  y: [number, number];
  unit: 1 | 3;
  lines: string[];
}

/** The resolution tags and description lines that state `size` (see EncodeTiffOptions.pixelSize). */
function resolutionOf(size: PixelSize | undefined, imagej: boolean): Resolution {
  const none: Resolution = { x: [1, 1], y: [1, 1], unit: 1, lines: [] };
  if (!size) return none;
  if (imagej) {
    const calibration = imagejCalibration(size);
    if (!calibration) return none;
    return { x: tiffRational(calibration.xResolution), y: tiffRational(calibration.yResolution), unit: 1, lines: calibration.lines };
  }
  const metres = metresPerUnit(size.unit);
  if (metres === undefined) return none;
  return { x: tiffRational(0.01 / (size.x * metres)), y: tiffRational(0.01 / (size.y * metres)), unit: 3, lines: [] };
}

const LITTLE_ENDIAN = true;

/**
 * Encodes a stack as an uncompressed little-endian TIFF: 8-bit or 16-bit unsigned, or 32-bit
 * float (SampleFormat 3) greyscale, one strip per page, all IFDs first and the pixel data of all
 * pages contiguous after them (the layout ImageJ itself writes and expects).
 */
export function encodeTiff(stack: ImageStack, options: EncodeTiffOptions = {}): Uint8Array {
  const pages = stack.pages;
  const firstPage = pages[0];
  if (!firstPage) throw new RangeError('stack: expected at least one page, found none');
  const depth = bitDepthOf(firstPage.data);
  pages.forEach((page, i) => {
    if (bitDepthOf(page.data) !== depth) throw new RangeError(`stack page ${i}: expected ${depth}-bit data like page 0, found ${bitDepthOf(page.data)}-bit`);
  });
  return writeTiff(stack.width, stack.height, pages, depth === 32 ? 'float32' : depth === 16 ? 'uint16' : 'uint8', options, stack.pixelSize);
}

/** A stack of instance labels: 32-bit unsigned, 0 = no cell (core/cells). */
export interface LabelStack {
  readonly width: number;
  readonly height: number;
  readonly pages: readonly { readonly width: number; readonly height: number; readonly data: Uint32Array }[];
  /** The pixel size of the image the labels were made from, stated like `encodeTiff` states it. */
  readonly pixelSize?: PixelSize | undefined;
}

/**
 * Encodes instance labels as an uncompressed little-endian TIFF of 32-bit unsigned samples
 * (SampleFormat 1), one page per slice, in the same layout as `encodeTiff` (ImageJ opens it as a
 * 32-bit stack; tifffile and geotiff read uint32).
 */
export function encodeLabelTiff(stack: LabelStack, options: EncodeTiffOptions = {}): Uint8Array {
  stack.pages.forEach((page, i) => {
    if (!(page.data instanceof Uint32Array)) throw new RangeError(`stack page ${i}: expected Uint32Array labels, found ${Object.prototype.toString.call(page.data)}`);
  });
  return writeTiff(stack.width, stack.height, stack.pages, 'uint32', options, stack.pixelSize);
}

type SampleKind = 'uint8' | 'uint16' | 'uint32' | 'float32';
type Samples = Uint8Array | Uint16Array | Uint32Array | Float32Array;

function writeTiff(
  width: number,
  height: number,
  pages: readonly { width: number; height: number; data: Samples }[],
  kind: SampleKind,
  options: EncodeTiffOptions,
  statedPixelSize: PixelSize | undefined,
): Uint8Array {
  if (pages.length === 0) throw new RangeError('stack: expected at least one page, found none');
  pages.forEach((page, i) => {
    if (page.width !== width || page.height !== height) {
      throw new RangeError(`stack page ${i}: expected ${width}x${height}, found ${page.width}x${page.height}`);
    }
  });
  const depth = kind === 'uint8' ? 8 : kind === 'uint16' ? 16 : 32;
  const bytesPerSample = depth / 8;
  const pageBytes = width * height * bytesPerSample;

  const imagej = options.imagej ?? true;
  const resolution = resolutionOf('pixelSize' in options ? options.pixelSize : statedPixelSize, imagej);
  let description: string | undefined;
  if (imagej) {
    const lines = ['ImageJ=1.11a', `images=${pages.length}`];
    if (pages.length > 1) lines.push(`slices=${pages.length}`, 'loop=false');
    lines.push(...resolution.lines);
    if (depth !== 8) {
      let min = Infinity;
      let max = -Infinity;
      for (const page of pages) {
        for (const v of page.data) {
          if (v < min) min = v;
          if (v > max) max = v;
        }
      }
      if (Number.isFinite(min) && Number.isFinite(max)) lines.push(`min=${min}`, `max=${max}`);
    }
    description = `${lines.join('\n')}\n\0`;
  }

  // Entries: [tag, type, values]. Types: 2 ASCII, 3 SHORT, 4 LONG, 5 RATIONAL.
  type Entry = [tag: number, type: 2 | 3 | 4 | 5, values: number[] | string];
  const entryCount = description === undefined ? 14 : 15;
  const ifdSize = 2 + entryCount * 12 + 4;
  const extraSize = 16 + (description === undefined ? 0 : description.length + (description.length & 1));
  const pixelStart = 8 + pages.length * (ifdSize + extraSize);
  const dataStart = pixelStart + ((16 - (pixelStart % 16)) % 16); // aligned for float32 readers
  const total = dataStart + pages.length * pageBytes;
  if (total > 0xffffffff) throw new EmsegError('E_TOO_LARGE', `stack of ${pages.length} pages of ${width}x${height}x${depth}-bit needs ${total} bytes, over the 4 GiB limit of classic TIFF`);

  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  out.set([0x49, 0x49, 42, 0]);
  view.setUint32(4, 8, LITTLE_ENDIAN);

  pages.forEach((page, p) => {
    const ifd = 8 + p * (ifdSize + extraSize);
    const extra = ifd + ifdSize;
    const entries: Entry[] = [
      [Tag.NewSubfileType, 4, [0]],
      [Tag.ImageWidth, 4, [width]],
      [Tag.ImageLength, 4, [height]],
      [Tag.BitsPerSample, 3, [depth]],
      [Tag.Compression, 3, [1]],
      [Tag.Photometric, 3, [1]],
      ...(description === undefined ? [] : [[Tag.ImageDescription, 2, description] as Entry]),
      [Tag.StripOffsets, 4, [dataStart + p * pageBytes]],
      [Tag.SamplesPerPixel, 3, [1]],
      [Tag.RowsPerStrip, 4, [height]],
      [Tag.StripByteCounts, 4, [pageBytes]],
      [Tag.XResolution, 5, resolution.x],
      [Tag.YResolution, 5, resolution.y],
      [Tag.ResolutionUnit, 3, [resolution.unit]],
      [Tag.SampleFormat, 3, [kind === 'float32' ? 3 : 1]],
    ];
    view.setUint16(ifd, entries.length, LITTLE_ENDIAN);
    let extraAt = extra;
    entries.forEach(([tag, type, values], i) => {
      const e = ifd + 2 + i * 12;
      view.setUint16(e, tag, LITTLE_ENDIAN);
      view.setUint16(e + 2, type, LITTLE_ENDIAN);
      if (type === 2) {
        const text = values as string;
        view.setUint32(e + 4, text.length, LITTLE_ENDIAN);
        view.setUint32(e + 8, extraAt, LITTLE_ENDIAN);
        for (let c = 0; c < text.length; c += 1) out[extraAt + c] = text.charCodeAt(c) & 0x7f;
        extraAt += text.length + (text.length & 1);
      } else if (type === 5) {
        const [numerator, denominator] = values as number[];
        view.setUint32(e + 4, 1, LITTLE_ENDIAN);
        view.setUint32(e + 8, extraAt, LITTLE_ENDIAN);
        view.setUint32(extraAt, numerator!, LITTLE_ENDIAN);
        view.setUint32(extraAt + 4, denominator!, LITTLE_ENDIAN);
        extraAt += 8;
      } else {
        view.setUint32(e + 4, 1, LITTLE_ENDIAN);
        if (type === 3) view.setUint16(e + 8, (values as number[])[0]!, LITTLE_ENDIAN);
        else view.setUint32(e + 8, (values as number[])[0]!, LITTLE_ENDIAN);
      }
    });
    const nextIfd = p + 1 < pages.length ? 8 + (p + 1) * (ifdSize + extraSize) : 0;
    view.setUint32(ifd + 2 + entries.length * 12, nextIfd, LITTLE_ENDIAN);

    const at = dataStart + p * pageBytes;
    const data = page.data;
    if (data instanceof Uint8Array) out.set(data, at);
    else if (data instanceof Uint16Array) for (let i = 0; i < data.length; i += 1) view.setUint16(at + i * 2, data[i]!, LITTLE_ENDIAN);
    else if (data instanceof Uint32Array) for (let i = 0; i < data.length; i += 1) view.setUint32(at + i * 4, data[i]!, LITTLE_ENDIAN);
    else for (let i = 0; i < data.length; i += 1) view.setFloat32(at + i * 4, data[i]!, LITTLE_ENDIAN);
  });
  return out;
}
