/**
 * Where a large job keeps its hidden working files: beside its output `out` (a file or an
 * OME-Zarr folder, a trailing slash ignored), named `.emseg-tmp-<output name>.<what>`, so that they
 * share the output's disk and a listing shows whose they are. One definition for every such path
 * (predict/predict-large.ts's model-scale store, predict/predict-large-labels.ts's probability
 * store and label chunks, node/tile-spill.ts's folder).
 */
import { basename, dirname, join, resolve } from 'node:path';

export function scratchPathBeside(out: string, what: string): string {
  const target = resolve(out.replace(/[\\/]+$/, ''));
  return join(dirname(target), `.emseg-tmp-${basename(target)}.${what}`);
}
