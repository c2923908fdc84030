/**
 * `emseg visualize`: a thin shell over writeSliceMontage (node/visualize.ts).
 */
import { defineCommand } from 'citty';
import { numberOption } from '../options.ts';
import { ISBI_TRAIN_IMAGES, ISBI_TRAIN_LABELS } from '../../core/isbi-data.ts';

const DEFAULTS = {
  images: ISBI_TRAIN_IMAGES,
  labels: ISBI_TRAIN_LABELS,
};

const command = defineCommand({
  meta: {
    name: 'visualize',
    description: 'Write a PNG montage of chosen slices: image | label | label overlaid in colour on the image (| predicted cells in colour, with --cells).',
  },
  args: {
    images: { type: 'string', description: 'Image stack (TIFF, PNG or JPEG)', default: DEFAULTS.images },
    labels: { type: 'string', description: "Label stack of the same size, 255 = cell interior ('none' for images only)", default: DEFAULTS.labels },
    cells: { type: 'string', description: 'Instance labels to show as a column of coloured cells over the image: the uint32 TIFF of emseg predict --output labels (or a 16-bit label image), as many slices of the same size as --images' },
    slices: { type: 'string', description: 'Slices to show, e.g. 0,5,25-29 (default: first, middle and last)' },
    shrink: { type: 'string', description: 'Shrink every picture by this integer factor', default: '1' },
    out: { type: 'string', description: 'Output PNG file', required: true },
    force: { type: 'boolean', description: 'Replace the output PNG if it exists (otherwise it is refused)' },
  },
  async run({ args }) {
    const shrink = numberOption(args.shrink, '--shrink', { integer: true, min: 1, max: 64 })!;
    const { writeSliceMontage } = await import('../../node/visualize.ts');
    const montage = await writeSliceMontage(args.out, {
      imagesPath: args.images,
      labelsPath: args.labels === 'none' ? null : args.labels,
      ...(args.cells === undefined ? {} : { cellsPath: args.cells }),
      ...(args.slices === undefined ? {} : { slices: args.slices }),
      shrink,
      force: args.force === true,
    });
    process.stdout.write(`wrote ${args.out} (${montage.width}x${montage.height})\n`);
  },
});
// Named first: tsc 5.9 does not rewrite `.ts` dynamic imports inside `export default <expression>`.
export default command;
