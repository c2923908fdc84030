/**
 * The mask PNG the web demo downloads (web-demo/src/png-grey.ts, platform-neutral): an 8-bit,
 * 1-channel PNG that libpng (through sharp) decodes to exactly the mask, for odd sizes too.
 */
import { describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { greyPngPixels } from './harness.ts';
import { makeImage } from '../../core/image.ts';
import { encodeGreyPng } from '../../web-demo/src/png-grey.ts';

describe('web demo mask PNG', () => {
  for (const [width, height] of [[1, 1], [7, 3], [512, 512], [61, 45]] as const) {
    it(`round-trips a ${width}x${height} mask and grey values`, async () => {
      const data = new Uint8Array(width * height);
      for (let i = 0; i < data.length; i += 1) data[i] = (i * 37 + (i >> 3)) % 5 === 0 ? 255 : (i * 11) % 256;
      const png = encodeGreyPng(makeImage(width, height, data));
      const decoded = await greyPngPixels(png);
      expect(decoded).toMatchObject({ width, height, channels: 1 });
      expect(Buffer.compare(decoded.data, data)).toBe(0);
      const meta = await sharp(png).metadata();
      expect(meta).toMatchObject({ format: 'png', space: 'b-w', depth: 'uchar', channels: 1 });
    });
  }
});
