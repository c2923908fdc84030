/**
 * `emseg data export`: a thin shell over exportSlices (node/export-slices.ts).
 */
import { defineCommand } from 'citty';
import { ISBI_DIR } from '../../core/isbi-data.ts';

const exportCommand = defineCommand({
  meta: {
    name: 'export',
    description:
      'Write every slice of the ISBI stacks as a lossless PNG: <out>/train/images/00.png, <out>/train/labels/00.png, <out>/test/images/00.png.',
  },
  args: {
    data: { type: 'string', description: 'Folder with train-volume.tif, train-labels.tif, test-volume.tif', default: ISBI_DIR },
    out: { type: 'string', description: 'Output folder (created if missing)', required: true },
    force: { type: 'boolean', description: 'Overwrite PNGs that already exist', default: false },
  },
  async run({ args }) {
    const { exportSlices } = await import('../../node/export-slices.ts');
    const written = await exportSlices({ dataDir: args.data, outDir: args.out, force: args.force });
    process.stdout.write(`wrote ${written.length} PNG files under ${args.out}\n`);
  },
});

export default defineCommand({
  meta: { name: 'data', description: 'Work with the ISBI 2012 data stacks.' },
  subCommands: { export: exportCommand },
});
