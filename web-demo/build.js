#!/usr/bin/env node
// `npm run build:web [-- --model <file.onnx>] [--card <file.json>] [--int8 <file.onnx> | --no-int8]
// [--out <folder>] [--no-minify]`: builds the web demo into web-demo/dist (see web-demo/README.md).
// Loads the TypeScript build (web-demo/build.ts) through tsx, like bin/emseg.js. EMSEG_WEB_MODEL
// also sets the model, EMSEG_WEB_INT8 the int8 variant (`none`: without one).
import { parseArgs } from 'node:util';
import { register } from 'tsx/esm/api';

register();
const { values } = parseArgs({
  options: {
    model: { type: 'string' },
    card: { type: 'string' },
    int8: { type: 'string' },
    'no-int8': { type: 'boolean', default: false },
    out: { type: 'string' },
    'require-model': { type: 'boolean', default: false },
    'no-minify': { type: 'boolean', default: false },
  },
});
const { buildWebDemo } = await import('./build.ts');
try {
  await buildWebDemo({
    model: values.model,
    card: values.card,
    int8: values['no-int8'] ? false : values.int8,
    outDir: values.out,
    requireModel: values['require-model'],
    minify: !values['no-minify'],
    log: (line) => process.stdout.write(`build:web: ${line}\n`),
  });
} catch (error) {
  if (error instanceof Error && error.name === 'EmsegError') {
    process.stderr.write(`emseg: ${error.message}\n`);
    process.exitCode = 1;
  } else {
    throw error;
  }
}
