/**
 * The two public entry points: `emseg` (lib/index.ts) stays platform-neutral, so it bundles for the
 * browser with no Node built-ins or native modules; `emseg/node` is the Node side.
 */
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import * as emseg from '../lib/index.ts';

describe('package entry points', () => {
  it('emseg bundles for the browser: no Node built-ins, onnxruntime-node or sharp behind it', async () => {
    const result = await build({ entryPoints: ['lib/index.ts'], bundle: true, platform: 'browser', format: 'esm', write: false, logLevel: 'silent', metafile: true });
    expect(result.errors).toEqual([]);
    const inputs = Object.keys(result.metafile.inputs);
    expect(inputs.filter((path) => /onnxruntime-node|sharp|node_modules\/@img|^node:/.test(path))).toEqual([]);
  });

  it('emseg lists the API the README promises', () => {
    for (const name of ['segmentImage', 'segmentStack', 'slidingWindowInference', 'withTta', 'normalizeSlice', 'scoreSlices', 'pixelScores', 'decodeTiff', 'encodeTiff', 'parseModelCardJson', 'segmentOptionsFromCard', 'EmsegError', 'labelCells', 'measureCells', 'cellTableCsv', 'scoreLabelSlices', 'encodeLabelTiff']) {
      expect(typeof (emseg as Record<string, unknown>)[name], name).toBe('function');
    }
  });
});
