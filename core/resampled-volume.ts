/**
 * A volume seen at another pixel size, region by region: each slice resampled bilinearly to
 * width x height exactly as core/resample.ts's resampleBilinear resamples it in memory (same
 * coordinates, same arithmetic, float32 out), reading only the source pixels a region needs. The
 * large-image path (predict/predict-large.ts) segments the source at the model's pixel size through
 * it, then brings the probabilities back to the source's grid through it again.
 * Platform-neutral.
 */
import type { GreyImage } from './image.ts';
import type { Box } from './padding.ts';
import { sourceCoordinate } from './resample.ts';
import type { VolumeSource } from './volume.ts';

/** The rows (or columns) of the source a run of output rows [from, to) reads, and each one's two neighbours and weight. */
function axisPlan(from: number, to: number, inSize: number, outSize: number): { first: number; last: number; lo: Int32Array; hi: Int32Array; t: Float64Array } {
  const n = to - from;
  const lo = new Int32Array(n);
  const hi = new Int32Array(n);
  const t = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const s = sourceCoordinate(from + i, inSize, outSize);
    lo[i] = Math.floor(s);
    hi[i] = Math.min(inSize - 1, lo[i]! + 1);
    t[i] = s - lo[i]!;
  }
  return { first: lo[0]!, last: hi[n - 1]!, lo, hi, t };
}

class ResampledVolume implements VolumeSource {
  readonly name: string;
  readonly depth: number;
  readonly bitDepth = 32 as const;
  readonly pixelSize?: VolumeSource['pixelSize'];

  constructor(
    private readonly source: VolumeSource,
    readonly width: number,
    readonly height: number,
  ) {
    this.name = source.name;
    this.depth = source.depth;
    const size = source.pixelSize;
    if (size) this.pixelSize = { ...size, x: (size.x * source.width) / width, y: (size.y * source.height) / height };
  }

  async readRegion(z: number, box: Box): Promise<GreyImage> {
    const xs = axisPlan(box.x, box.x + box.width, this.source.width, this.width);
    const ys = axisPlan(box.y, box.y + box.height, this.source.height, this.height);
    const region = { x: xs.first, y: ys.first, width: xs.last - xs.first + 1, height: ys.last - ys.first + 1 };
    const { data } = await this.source.readRegion(z, region);
    const w = region.width;
    const out = new Float32Array(box.width * box.height);
    for (let y = 0; y < box.height; y++) {
      const y0 = (ys.lo[y]! - region.y) * w;
      const y1 = (ys.hi[y]! - region.y) * w;
      const ty = ys.t[y]!;
      for (let x = 0; x < box.width; x++) {
        const x0 = xs.lo[x]! - region.x;
        const x1 = xs.hi[x]! - region.x;
        const tx = xs.t[x]!;
        // The order of resampleBilinear's operations, so that the values are the same to the bit.
        const top = data[y0 + x0]! * (1 - tx) + data[y0 + x1]! * tx;
        const bottom = data[y1 + x0]! * (1 - tx) + data[y1 + x1]! * tx;
        out[y * box.width + x] = top * (1 - ty) + bottom * ty;
      }
    }
    return { width: box.width, height: box.height, data: out };
  }

  async close(): Promise<void> {
    await this.source.close();
  }
}

/** `source` resampled to width x height per slice (bilinear, float32); closing it closes the source. */
export function resampledVolume(source: VolumeSource, width: number, height: number): VolumeSource {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new RangeError(`resampled volume size: expected positive integers, found ${width}x${height}`);
  }
  return new ResampledVolume(source, width, height);
}
