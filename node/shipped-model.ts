/**
 * Which model file a command uses when none is given, and where the files shipped inside the emseg
 * package are. Looked up in this order:
 *   1. the file given (`--model`, EMSEG_MODEL), as given;
 *   2. `models/isbi2012-unet.onnx` in the current folder (a checkout of the repository, the image);
 *   3. the same file inside the installed emseg package (node_modules/emseg/models/...), found from
 *      this module's own location, so `npx emseg predict` works in any project that installed it.
 * The caller prints where the file came from.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EmsegError } from '../core/errors.ts';

/** The default model, relative to the current folder and to the package's root. */
export const DEFAULT_MODEL = 'models/isbi2012-unet.onnx';

export type ModelSource = 'given' | 'current folder' | 'package';

export interface ModelChoice {
  /** The path to open: as given, relative to the current folder, or absolute inside the package. */
  path: string;
  source: ModelSource;
}

/**
 * The root of the emseg package this module belongs to: the nearest folder above it whose
 * package.json is named `emseg` (the repository from the sources, the installed package from dist/).
 */
export function packageRoot(from: string = fileURLToPath(import.meta.url)): string {
  for (let dir = dirname(from); ; dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) {
      try {
        if ((JSON.parse(readFileSync(manifest, 'utf8')) as { name?: unknown }).name === 'emseg') return dir;
      } catch {
        // Not a readable package.json: keep looking upwards.
      }
    }
    if (dirname(dir) === dir) throw new EmsegError('E_NOT_FOUND', `${from}: no package.json named emseg in any folder above it`);
  }
}

/** Absolute path of a file shipped in the package (e.g. DEFAULT_MODEL, core/isbi-data.ts's ISBI_SAMPLE_SLICE). */
export function packageFile(file: string): string {
  return join(packageRoot(), file);
}

/** The model to use: `given` when set, else the default model of the current folder, else the package's. */
export function chooseModel(given: string | undefined, cwd: string = process.cwd(), root: string = packageRoot()): ModelChoice {
  if (given !== undefined && given !== '') return { path: given, source: 'given' };
  if (existsSync(resolve(cwd, DEFAULT_MODEL))) return { path: DEFAULT_MODEL, source: 'current folder' };
  const shipped = join(root, DEFAULT_MODEL);
  if (existsSync(shipped)) return { path: shipped, source: 'package' };
  throw new EmsegError(
    'E_NOT_FOUND',
    `no model given and none found: expected ${DEFAULT_MODEL} in ${cwd} or in the emseg package (${shipped}); pass --model <file.onnx> (or EMSEG_MODEL), or make one with emseg train and emseg convert`,
  );
}

/** `models/x.onnx (current folder)`, `node_modules/emseg/models/x.onnx (shipped in the emseg package)`, for logs. */
export function describeModelChoice(choice: ModelChoice, cwd: string = process.cwd()): string {
  if (choice.source === 'given') return choice.path;
  if (choice.source === 'current folder') return `${choice.path} (default, in the current folder)`;
  const shown = relative(cwd, choice.path);
  return `${shown.startsWith('..') ? choice.path : shown} (default, shipped in the emseg package)`;
}
