/**
 * The `emseg` command tree. Every subcommand lives in its own module under cli/commands/ and is
 * loaded only when it runs, so `emseg data export` never loads TensorFlow.js or onnxruntime.
 */
import { defineCommand, type CommandDef } from 'citty';

const lazy = (load: () => Promise<{ default: CommandDef<any> }>) => async () => (await load()).default;

export const main = defineCommand({
  meta: {
    name: 'emseg',
    description: 'Segment electron-microscopy images of neural tissue with a U-Net.',
  },
  subCommands: {
    data: lazy(() => import('./commands/data.ts')),
    visualize: lazy(() => import('./commands/visualize.ts')),
    train: lazy(() => import('./commands/train.ts')),
    evaluate: lazy(() => import('./commands/evaluate.ts')),
    convert: lazy(() => import('./commands/convert.ts')),
    quantize: lazy(() => import('./commands/quantize.ts')),
    'export-package': lazy(() => import('./commands/export-package.ts')),
    predict: lazy(() => import('./commands/predict.ts')),
    serve: lazy(() => import('./commands/serve.ts')),
  },
});
