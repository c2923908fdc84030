/**
 * The 512x512 slice the server benchmarks send: slice 0 of the ISBI test volume, or, where the data
 * is missing, a deterministic pseudo-random picture of the same size (the speed does not depend on
 * the pixel values).
 */
import { existsSync } from 'node:fs';
import { makeImage, type GreyImage } from '../../core/image.ts';
import { ISBI_TEST_IMAGES } from '../../core/isbi-data.ts';
import { readImageFile } from '../../node/image-files.ts';

export async function benchSlice(): Promise<GreyImage> {
  if (existsSync(ISBI_TEST_IMAGES)) return (await readImageFile(ISBI_TEST_IMAGES)).pages[0]!;
  const data = new Uint8Array(512 * 512);
  for (let i = 0; i < data.length; i += 1) data[i] = (i * 2654435761) >>> 24;
  return makeImage(512, 512, data);
}
