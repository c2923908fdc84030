/**
 * Builds the web demo into a folder of plain static files (default web-demo/dist):
 *
 *   index.html, styles.css        the page (copied from web-demo/)
 *   app.js (+ app.js.map)         web-demo/src/main.ts bundled by esbuild, core/ and onnxruntime-web included
 *   ort/ort-wasm-simd-threaded.jsep.{mjs,wasm}
 *                                 the onnxruntime-web runtime the default `onnxruntime-web` entry loads
 *                                 for both the 'webgpu' (JSEP) and the 'wasm' execution providers
 *   ort/ort-wasm-simd-threaded.{mjs,wasm}
 *                                 the plain WASM-only build, loaded instead by a page that runs WASM only
 *   model/<name>.onnx, model/<name>.json
 *                                 the model and its card (threshold, tile, halo, size multiple)
 *   model/<name>.int8.onnx, model/<name>.int8.json
 *                                 its int8 variant (`emseg quantize`) and that variant's card, when
 *                                 the build has one (beside the model, or named): the WASM page runs it
 *   samples/*.png                 a few ISBI 2012 slices, 8-bit grey PNG
 *   demo.json                     what the page loads: model file, card, byte size, the int8
 *                                 variant (or null), samples
 *
 * The output replaces the old one with node/atomic-dir.ts (temp folder beside it, renamed into
 * place), so a server serving the old dist never sees a half-written one, and a killed build
 * leaves nothing the next build does not tidy.
 */
import { existsSync } from 'node:fs';
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import type { ModelCard } from '../core/contract.ts';
import { EmsegError } from '../core/errors.ts';
import { decodeTiff } from '../core/tiff.ts';
import { recoverInterruptedWrites, replaceDirAtomic } from '../node/atomic-dir.ts';
import { cardPathFor, findModelCard, siblingPath } from '../node/model-card-file.ts';
import { encodePng } from '../node/png.ts';
import { sha256Hex } from '../node/sha256.ts';
import { ISBI_TEST_IMAGES, ISBI_TRAIN_IMAGES } from '../core/isbi-data.ts';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..');

/**
 * The onnxruntime-web files the bundle loads at run time: the JSEP build (WebGPU and WASM in one)
 * for a page that may run WebGPU, the plain build (WASM only, half the size) for a page that runs
 * WASM only (web-demo/src/runtime.ts).
 */
export const ORT_RUNTIME_FILES = [
  'ort-wasm-simd-threaded.jsep.mjs',
  'ort-wasm-simd-threaded.jsep.wasm',
  'ort-wasm-simd-threaded.mjs',
  'ort-wasm-simd-threaded.wasm',
] as const;

export interface SampleSlice {
  /** TIFF stack the slice comes from. */
  stack: string;
  /** Page index (0-based). */
  page: number;
  /** File name in dist/samples/. */
  file: string;
  /** What the page shows on the button. */
  label: string;
}

export const DEFAULT_SAMPLES: readonly SampleSlice[] = [
  { stack: ISBI_TRAIN_IMAGES, page: 0, file: 'isbi2012-train-00.png', label: 'ISBI 2012 training slice 0' },
  {
    stack: ISBI_TRAIN_IMAGES,
    page: 27,
    file: 'isbi2012-train-27.png',
    label: 'ISBI 2012 training slice 27 (held out: the model never trained on it)',
  },
  { stack: ISBI_TEST_IMAGES, page: 0, file: 'isbi2012-test-00.png', label: 'ISBI 2012 test slice 0' },
];

export const DEFAULT_MODEL = 'models/isbi2012-unet.onnx';

export interface BuildOptions {
  /** Output folder. Default web-demo/dist. */
  outDir?: string;
  /**
   * ONNX model to ship. Default: $EMSEG_WEB_MODEL, else models/isbi2012-unet.onnx. Its card is
   * the JSON file of the same name beside it (see `card`), else the copy in its ONNX metadata.
   */
  model?: string;
  /** Model card JSON. Default: the model path with .json instead of .onnx. */
  card?: string;
  /**
   * The int8 variant of the model to ship too (`emseg quantize` output; its card is the JSON file
   * of the same name beside it, else its metadata's, and must name the model as its parent by sha256), or false to
   * leave it out. Default: $EMSEG_WEB_INT8 (`none`: leave it out), else `<model>.int8.onnx`
   * beside the model when that file exists, else none.
   */
  int8?: string | false;
  /**
   * When the default model does not exist yet: false (default) builds the page without a model
   * (it says so); true fails. A model given explicitly must always exist.
   */
  requireModel?: boolean;
  /** Slices to bundle. Default DEFAULT_SAMPLES. */
  samples?: readonly SampleSlice[];
  /** Minify the bundle. Default true. */
  minify?: boolean;
  /** Progress lines. Default: none. */
  log?: (line: string) => void;
  /** Extra esbuild plugins (e.g. to substitute a module in an experiment). Default none. */
  esbuildPlugins?: esbuild.Plugin[];
}

/** One ONNX file the build ships: its path in dist, size, sha256 and card. */
export interface ShippedModel {
  file: string;
  bytes: number;
  sha256: string;
  card: ModelCard;
}

/** What dist/demo.json holds; the page reads it first. */
export interface DemoManifest {
  /** The float model, and its int8 variant when the build has one (web-demo/src/model-choice.ts picks). */
  model: (ShippedModel & { int8: ShippedModel | null }) | null;
  samples: { file: string; label: string; width: number; height: number }[];
  ort: { version: string; runtime: readonly string[] };
  builtAt: string;
}

export interface BuildResult {
  outDir: string;
  manifest: DemoManifest;
  /** Bytes of each file written, relative path -> size. */
  files: Record<string, number>;
}

/** An ONNX file to ship, read with its card (node/model-card-file.ts: the card file first, else the metadata; checked). */
interface ModelToShip {
  path: string;
  bytes: Uint8Array;
  sha256: string;
  card: ModelCard;
  /** Where the card was read. */
  cardFrom: string;
}

async function readModelToShip(modelPath: string, cardPath?: string): Promise<ModelToShip> {
  const bytes = new Uint8Array(await readFile(modelPath));
  const found = findModelCard(modelPath, bytes, { prefer: 'file', ...(cardPath !== undefined ? { cardPath } : {}) });
  if (!found) {
    throw new EmsegError(
      'E_NOT_FOUND',
      `${cardPathFor(modelPath)}: no model card beside ${modelPath}, nor in its metadata; the demo needs its threshold, tile and halo (pass --card <file.json>)`,
    );
  }
  return { path: modelPath, bytes, sha256: sha256Hex(bytes), card: found.card, cardFrom: found.path };
}

/**
 * Which int8 file to ship: the option, else $EMSEG_WEB_INT8 ('none': none), else `<model>.int8.onnx`
 * beside the model if it exists. Undefined: none. A file named explicitly must exist.
 */
function int8PathFor(modelPath: string, option: string | false | undefined): string | undefined {
  const named = option ?? process.env.EMSEG_WEB_INT8;
  if (named === false || named === 'none') return undefined;
  if (named === undefined) {
    const beside = siblingPath(modelPath, '.int8.onnx');
    return existsSync(beside) ? beside : undefined;
  }
  const path = resolve(root, named);
  if (!existsSync(path)) throw new EmsegError('E_NOT_FOUND', `${path}: no such int8 model file (web demo --int8 / EMSEG_WEB_INT8)`);
  return path;
}

/**
 * The int8 variant with its card, checked to be one of this model: it has a quantization section
 * and its parent's sha256 is the model's (a variant left from an older model would otherwise be
 * shipped as if it were this one).
 */
async function readInt8ToShip(int8Path: string, model: ModelToShip): Promise<ModelToShip> {
  const int8 = await readModelToShip(int8Path);
  const parent = int8.card.quantization?.parent;
  if (!parent) {
    throw new EmsegError('E_MODEL', `${int8.cardFrom}: not an int8 variant (its card has no quantization section); make one with emseg quantize`);
  }
  if (parent.sha256 !== model.sha256) {
    throw new EmsegError(
      'E_MODEL',
      `${int8Path}: made from another model (parent sha256 ${parent.sha256.slice(0, 12)}…, ${model.path} is ${model.sha256.slice(0, 12)}…); ` +
        'make it again (scripts/make-int8-model.sh) or build without it (--no-int8)',
    );
  }
  return int8;
}

async function ortVersion(): Promise<string> {
  const pkg = JSON.parse(await readFile(join(root, 'node_modules/onnxruntime-web/package.json'), 'utf8')) as { version: string };
  return pkg.version;
}

/** Builds the demo; returns the manifest and the files written. */
export async function buildWebDemo(options: BuildOptions = {}): Promise<BuildResult> {
  const log = options.log ?? (() => undefined);
  const outDir = resolve(options.outDir ?? join(here, 'dist'));
  const explicitModel = options.model ?? process.env.EMSEG_WEB_MODEL;
  const modelPath = resolve(root, explicitModel ?? DEFAULT_MODEL);
  const haveModel = existsSync(modelPath);
  if (!haveModel && (explicitModel !== undefined || options.requireModel)) {
    throw new EmsegError('E_NOT_FOUND', `${modelPath}: no such model file (web demo --model / EMSEG_WEB_MODEL)`);
  }
  const int8Path = int8PathFor(modelPath, options.int8);
  if (int8Path !== undefined && !haveModel) {
    throw new EmsegError('E_NOT_FOUND', `${modelPath}: no such model file, so its int8 variant ${int8Path} cannot be shipped`);
  }
  if (int8Path !== undefined && basename(int8Path) === basename(modelPath)) {
    throw new EmsegError('E_BAD_ARGUMENT', `${int8Path}: the int8 file needs another file name than the model (${basename(modelPath)})`);
  }
  // Read and checked before anything is built: a bad card or a stale int8 variant fails at once.
  const float = haveModel ? await readModelToShip(modelPath, options.card === undefined ? undefined : resolve(root, options.card)) : undefined;
  const int8 = float && int8Path !== undefined ? await readInt8ToShip(int8Path, float) : undefined;
  const files: Record<string, number> = {};
  let manifest: DemoManifest | undefined;
  // Leftovers of a build that was killed (temp folders of node/atomic-dir.ts) go first.
  await recoverInterruptedWrites(dirname(outDir), { names: [basename(outDir)] });
  await replaceDirAtomic(outDir, async (staging) => {
    const put = async (relative: string, bytes: Uint8Array | string) => {
      const target = join(staging, relative);
      await mkdir(dirname(target), { recursive: true });
      await writeFile(target, bytes);
      files[relative] = typeof bytes === 'string' ? Buffer.byteLength(bytes) : bytes.byteLength;
    };

    const started = performance.now();
    const bundle = await esbuild.build({
      entryPoints: [join(here, 'src/main.ts')],
      bundle: true,
      format: 'esm',
      platform: 'browser',
      target: ['es2022', 'chrome113', 'firefox120', 'safari17'],
      // The non-bundled ort build: it loads ort-wasm-simd-threaded.jsep.mjs from env.wasm.wasmPaths
      // (our ort/ folder) instead of embedding it, which keeps app.js small.
      conditions: ['onnxruntime-web-use-extern-wasm'],
      minify: options.minify ?? true,
      sourcemap: 'external',
      write: false,
      outfile: join(staging, 'app.js'),
      legalComments: 'linked',
      logLevel: 'silent',
      plugins: options.esbuildPlugins ?? [],
    });
    for (const file of bundle.outputFiles) await put(file.path.slice(staging.length + 1), file.contents);
    log(`bundled app.js (${(files['app.js']! / 1024).toFixed(0)} KiB) in ${(performance.now() - started).toFixed(0)} ms`);

    for (const name of ['index.html', 'styles.css']) await put(name, await readFile(join(here, name)));
    for (const name of ORT_RUNTIME_FILES) {
      const target = join(staging, 'ort', name);
      await mkdir(dirname(target), { recursive: true });
      await copyFile(join(root, 'node_modules/onnxruntime-web/dist', name), target);
      files[`ort/${name}`] = (await readFile(target)).byteLength;
    }

    /** Copies an ONNX file and its card into model/. */
    const shipModel = async ({ path, card, bytes, sha256 }: ModelToShip): Promise<ShippedModel> => {
      const file = `model/${basename(path)}`;
      await put(file, bytes);
      await put(`model/${basename(path).replace(/\.onnx$/i, '')}.json`, `${JSON.stringify(card, null, 2)}\n`);
      log(`model ${path} (${(bytes.byteLength / 1024).toFixed(0)} KiB), ${card.name}@${card.version}, threshold ${card.threshold}, tile ${card.tile}, halo ${card.halo}`);
      return { file, bytes: bytes.byteLength, sha256, card };
    };
    let model: DemoManifest['model'] = null;
    if (float) {
      const shipped = await shipModel(float);
      if (!int8) {
        log(`no int8 variant shipped (none at ${siblingPath(modelPath, '.int8.onnx')}, or left out): the page runs the float model on every provider`);
      }
      model = { ...shipped, int8: int8 ? await shipModel(int8) : null };
    } else {
      log(`no model at ${modelPath}: the page will say so (build with --model <file.onnx>)`);
    }

    const samples: DemoManifest['samples'] = [];
    const stacks = new Map<string, ReturnType<typeof decodeTiff>>();
    for (const sample of options.samples ?? DEFAULT_SAMPLES) {
      const stackPath = resolve(root, sample.stack);
      let stack = stacks.get(stackPath);
      if (!stack) {
        stack = decodeTiff(new Uint8Array(await readFile(stackPath)), stackPath);
        stacks.set(stackPath, stack);
      }
      const page = stack.pages[sample.page];
      if (!page) throw new EmsegError('E_BAD_ARGUMENT', `${stackPath}: has ${stack.pages.length} pages, sample asks for page ${sample.page}`);
      await put(`samples/${sample.file}`, await encodePng(page));
      samples.push({ file: `samples/${sample.file}`, label: sample.label, width: page.width, height: page.height });
    }

    manifest = {
      model,
      samples,
      ort: { version: await ortVersion(), runtime: ORT_RUNTIME_FILES.map((name) => `ort/${name}`) },
      builtAt: new Date().toISOString(),
    };
    await put('demo.json', `${JSON.stringify(manifest, null, 2)}\n`);
  });
  log(`wrote ${outDir} (${Object.keys(files).length} files)`);
  return { outDir, manifest: manifest!, files };
}
