/**
 * BioImage Model Zoo package (rdf.yaml, format 0.5) for an emseg ONNX file, loadable by
 * deepImageJ, ilastik and the bioimageio tools:
 *
 *   rdf.yaml          the resource description (model, 0.5.3)
 *   weights.onnx      the ONNX file, unchanged
 *   test_input.npy    a real ISBI slice as float32 [1, 1, H, W], raw 8-bit intensities
 *   test_output.npy   onnxruntime-node's output for it after the preprocessing, float32 [1, 1, H, W]
 *   sample_input.png  the same slice as a PNG, sample_output.png its probability (x 255): for people
 *   cover.png         image | prediction, 2:1, square crops of the two
 *   README.md         documentation, with a Validation section
 *   model_card.json   the emseg model card (an attachment)
 *
 * Preprocessing is declared in the rdf (ensure_dtype float32, then zero_mean_unit_variance
 * over y and x per sample: the contract's per-slice normalization), so consumers feed raw
 * images and the test tensors are the raw input and the model's output.
 */
import { join } from 'node:path';
import { zipSync } from 'fflate';
import { dump, parse } from 'npyjs';
import { stringify } from 'yaml';
import { sizeMultipleFor, type ModelCard } from '../core/contract.ts';
import { EmsegError } from '../core/errors.ts';
import { makeImage, type GreyImage } from '../core/image.ts';
import { writeFileAtomic } from '../node/atomic-write.ts';
import { encodePng } from '../node/png.ts';
import { readOnnxSignature } from './onnx-graph.ts';
import { createCpuSession, maxAbsDifference, runOnnx } from './parity.ts';
import { sha256Hex } from '../node/sha256.ts';
import { CITATIONS, ISBI2012_DATASET, packageDocumentation } from './bioimageio-docs.ts';
import { trainedOnIsbi2012 } from './model-facts.ts';

export const BIOIMAGEIO_FORMAT_VERSION = '0.5.7';

/** A maintainer as bioimage.io wants one: a GitHub account (the zoo checks that it exists). */
export interface Maintainer {
  github_user: string;
  name?: string;
}

/**
 * The smallest spatial input size bioimage.io may ask for: a multiple of `multiple` that leaves at
 * least one pixel once the output halo is cropped from both sides (spec 0.5: size - 2 * halo >= 1).
 */
export function minimumInputSize(multiple: number, halo: number): number {
  return (Math.floor((2 * halo) / multiple) + 1) * multiple;
}

/** The tags of the bioimage.io categories (modality, dims, content, framework, software, network, task) and more. */
export const BIOIMAGEIO_TAGS = [
  'electron-microscopy',
  '2d',
  'cell-membrane',
  'tensorflow.js',
  'deepimagej',
  'ilastik',
  'fiji',
  'unet',
  'semantic-segmentation',
  'neurons',
  'connectomics',
  'isbi2012',
  'onnx',
];

export interface Person {
  name: string;
  affiliation?: string;
  email?: string;
  github_user?: string;
  orcid?: string;
}

export interface BioimageioOptions {
  /** The ONNX bytes (written unchanged as weights.onnx). */
  onnxBytes: Uint8Array;
  /** The model card (from models/<name>.json, or the ONNX metadata). */
  card: ModelCard;
  /** Output folder. */
  dir: string;
  /** The raw test slice (8-bit ISBI slice) and where it comes from. */
  testImage: GreyImage;
  testImageSource: string;
  /** The contract's preprocessing (core/normalize.ts normalizeSlice). */
  normalize: (image: GreyImage) => Float32Array;
  /** Default [{ name: 'emseg contributors' }]. */
  authors?: Person[];
  /** Maintainers (GitHub accounts). Default: none, which the zoo's validator reports. */
  maintainers?: Maintainer[];
  /** URL of the Git repository the model comes from. Default: none. */
  gitRepo?: string;
  /** SPDX identifier. Default 'MIT' (the project's licence). */
  license?: string;
  /** Files the command reads (refused as outputs). */
  inputs?: string[];
  /** Version of the package. Default: the card's version. */
  version?: string;
  /** Also write `<dir>.zip` (rdf.yaml at its root), the form deepImageJ and the zoo upload take. Default false. */
  zip?: boolean;
}

export interface BioimageioPackage {
  dir: string;
  rdfPath: string;
  files: string[];
  /** Largest |onnxruntime(normalize(test_input)) - test_output| after reading the files back. */
  reproduceMaxAbsDiff: number;
  /** Largest difference when the input is normalized as bioimage.io tools do (with eps). */
  consumerMaxAbsDiff: number;
  rdf: Record<string, unknown>;
  /** `<dir>.zip` when asked for. */
  zipPath?: string;
}

function npyBytes(data: Float32Array, shape: number[]): Uint8Array {
  return new Uint8Array(dump(data, shape));
}

/**
 * bioimage.io's own zero_mean_unit_variance, (x - mean) / (std + eps), as deepImageJ and
 * bioimageio.core compute it from rdf.yaml; used only to measure how far a consumer's result is
 * from the contract's normalization (core/normalize.ts, no eps).
 */
function consumerNormalization(data: Float32Array, eps: number): Float32Array {
  let sum = 0;
  for (const value of data) sum += value;
  const mean = sum / data.length;
  let squares = 0;
  for (const value of data) squares += (value - mean) ** 2;
  const std = Math.sqrt(squares / data.length);
  return data.map((value) => (value - mean) / (std + eps));
}

export const ZERO_MEAN_UNIT_VARIANCE_EPS = 1e-6;

/** The files of a package folder besides rdf.yaml. */
export const BIOIMAGEIO_FILES = ['weights.onnx', 'test_input.npy', 'test_output.npy', 'cover.png', 'sample_input.png', 'sample_output.png', 'README.md', 'model_card.json'] as const;

/** Every path writeBioimageioPackage writes for `dir`: the files, rdf.yaml, and with `zip` the archive `<dir>.zip`. */
export function bioimageioPaths(dir: string, zip: boolean): { files: string[]; zipPath?: string } {
  const files = [...BIOIMAGEIO_FILES, 'rdf.yaml'].map((name) => join(dir, name));
  return zip ? { files, zipPath: `${dir.replace(/[\\/]+$/, '')}.zip` } : { files };
}

function probabilityImage(probability: Float32Array, width: number, height: number): GreyImage<Uint8Array> {
  const data = new Uint8Array(width * height);
  for (let index = 0; index < data.length; index++) data[index] = Math.round(Math.min(1, Math.max(0, probability[index]!)) * 255);
  return makeImage(width, height, data);
}

/**
 * The cover: square centre crops of the image and of the probability side by side, 2:1 as the
 * zoo asks, at most 256 px high.
 */
function sideBySideCover(image: GreyImage, probability: GreyImage<Uint8Array>): GreyImage<Uint8Array> {
  const side = Math.min(image.width, image.height);
  const shrink = Math.max(1, Math.ceil(side / 256));
  const out = Math.floor(side / shrink);
  const left = Math.floor((image.width - side) / 2);
  const top = Math.floor((image.height - side) / 2);
  const data = new Uint8Array(2 * out * out);
  [image, probability].forEach((source, panel) => {
    const scale = source === image ? displayScale(image) : 1;
    for (let y = 0; y < out; y++) {
      for (let x = 0; x < out; x++) {
        const value = source.data[(top + y * shrink) * source.width + left + x * shrink]!;
        data[y * 2 * out + panel * out + x] = Math.min(255, Math.round(value * scale));
      }
    }
  });
  return makeImage(2 * out, out, data);
}

/** Factor that maps the image's largest value to at most 255 (1 for 8-bit images). */
function displayScale(image: GreyImage): number {
  let max = 0;
  for (let index = 0; index < image.data.length; index++) max = Math.max(max, image.data[index]!);
  return max > 255 ? 255 / max : 1;
}

/** The names of the model's one input and one output tensor, as the rdf and onnxruntime use them. */
interface TensorNames {
  input: string;
  output: string;
}

/** The ONNX file's first input and output; E_MODEL when it has none. */
function tensorNames(signature: ReturnType<typeof readOnnxSignature>): TensorNames {
  const input = signature.inputs[0];
  const output = signature.outputs[0];
  if (!input || !output) throw new EmsegError('E_MODEL', 'the ONNX model has no input or no output');
  return { input: input.name, output: output.name };
}

/** The shape of a test tensor: [1, 1, H, W]. */
type TensorShape = [number, number, number, number];

/** The test slice's tensor shape; E_BAD_ARGUMENT when its sides are not multiples of the model's size multiple. */
function testTensorShape(testImage: GreyImage, multiple: number, source: string): TensorShape {
  const { width, height } = testImage;
  if (width % multiple !== 0 || height % multiple !== 0) {
    throw new EmsegError('E_BAD_ARGUMENT', `test image ${source}: ${width}x${height} is not a multiple of ${multiple}`);
  }
  return [1, 1, height, width];
}

/** The test tensors and how well they reproduce. */
interface TestTensors {
  /** test_input.npy: the raw slice. */
  inputNpy: Uint8Array;
  /** test_output.npy: onnxruntime's output for the normalized slice. */
  outputNpy: Uint8Array;
  probability: Float32Array;
  /** Largest |onnxruntime(normalize(test_input)) - test_output| after reading the .npy files back. */
  reproduce: number;
  /** Largest difference when the input is normalized as bioimage.io tools do (with eps). */
  consumerDiff: number;
}

/**
 * Runs the model on the test slice in onnxruntime-node (CPU), writes the raw input and the output as
 * .npy, then reads both back as a consumer would and runs again: they must reproduce; and once more
 * with bioimage.io's own normalization, to measure how far a consumer's result is.
 */
async function computeTestTensors(
  onnxBytes: Uint8Array,
  names: TensorNames,
  testImage: GreyImage,
  normalize: BioimageioOptions['normalize'],
  shape: TensorShape,
): Promise<TestTensors> {
  const { width, height } = testImage;
  const raw = Float32Array.from(testImage.data as ArrayLike<number>);
  const inputNpy = npyBytes(raw, shape);
  const session = await createCpuSession(onnxBytes);
  try {
    const run = async (label: string, data: Float32Array) => (await runOnnx(session, { label, data, shape }, names)).data;
    const probability = Float32Array.from(await run('test', normalize(testImage)));
    const outputNpy = npyBytes(probability, shape);
    const readInput = parse(inputNpy.slice().buffer);
    const readOutput = parse(outputNpy.slice().buffer);
    const again = await run('reproduce', normalize(makeImage(width, height, Float32Array.from(readInput.data as Float32Array))));
    const reproduce = maxAbsDifference(again, readOutput.data as Float32Array);
    const consumer = await run('consumer', consumerNormalization(raw, ZERO_MEAN_UNIT_VARIANCE_EPS));
    return { inputNpy, outputNpy, probability, reproduce, consumerDiff: maxAbsDifference(consumer, probability) };
  } finally {
    await session.release();
  }
}

type PackageFiles = Record<(typeof BIOIMAGEIO_FILES)[number], Uint8Array | string>;

/** The contents of the package's files besides rdf.yaml: weights, test tensors, pictures, documentation, card. */
async function packageFiles(options: BioimageioOptions, tensors: TestTensors, shape: TensorShape): Promise<PackageFiles> {
  const { card, testImage } = options;
  const probabilityPng = probabilityImage(tensors.probability, testImage.width, testImage.height);
  return {
    'weights.onnx': options.onnxBytes,
    'test_input.npy': tensors.inputNpy,
    'test_output.npy': tensors.outputNpy,
    'cover.png': await encodePng(sideBySideCover(testImage, probabilityPng)),
    'sample_input.png': await encodePng(testImage),
    'sample_output.png': await encodePng(probabilityPng),
    'README.md': packageDocumentation({
      card,
      testImageSource: options.testImageSource,
      reproduce: tensors.reproduce,
      consumerDiff: tensors.consumerDiff,
      inputShape: shape,
      eps: ZERO_MEAN_UNIT_VARIANCE_EPS,
    }),
    'model_card.json': `${JSON.stringify(card, null, 2)}\n`,
  };
}

function contentBytes(content: Uint8Array | string): Uint8Array {
  return typeof content === 'string' ? new TextEncoder().encode(content) : content;
}

/** The y and x axes of a tensor in the rdf, with the output's halo when given. */
function spaceAxes(size: Record<string, unknown>, halo?: number) {
  return [
    { type: 'space', id: 'y', size: size['y'], ...(halo ? { halo } : {}) },
    { type: 'space', id: 'x', size: size['x'], ...(halo ? { halo } : {}) },
  ];
}

/** The rdf's input: the raw slice, any size from the smallest allowed in steps of the size multiple, normalized by the declared preprocessing. */
function rdfInput(name: string, multiple: number, halo: number, sha: (file: keyof PackageFiles) => string) {
  const minimum = minimumInputSize(multiple, halo);
  return {
    id: name,
    description: 'Greyscale EM slice (8-bit intensities); normalized per slice by the preprocessing.',
    axes: [
      { type: 'batch' },
      { type: 'channel', channel_names: ['intensity'] },
      ...spaceAxes({ y: { min: minimum, step: multiple }, x: { min: minimum, step: multiple } }),
    ],
    test_tensor: { source: 'test_input.npy', sha256: sha('test_input.npy') },
    sample_tensor: { source: 'sample_input.png', sha256: sha('sample_input.png') },
    data: { type: 'float32' },
    preprocessing: [
      { id: 'ensure_dtype', kwargs: { dtype: 'float32' } },
      { id: 'zero_mean_unit_variance', kwargs: { axes: ['y', 'x'], eps: ZERO_MEAN_UNIT_VARIANCE_EPS } },
    ],
  };
}

/** The rdf's output: the cell-interior probability, the input's size, with the card's halo. */
function rdfOutput(names: TensorNames, card: ModelCard, sha: (file: keyof PackageFiles) => string) {
  return {
    id: names.output,
    description: `Probability of cell interior (white in the ISBI labels); mask = probability >= ${card.threshold}.`,
    axes: [
      { type: 'batch' },
      { type: 'channel', channel_names: ['cell_interior'] },
      // The halo is to be cropped from the output by tools that tile (the card's halo).
      ...spaceAxes({ y: { tensor_id: names.input, axis_id: 'y' }, x: { tensor_id: names.input, axis_id: 'x' } }, card.halo),
    ],
    test_tensor: { source: 'test_output.npy', sha256: sha('test_output.npy') },
    sample_tensor: { source: 'sample_output.png', sha256: sha('sample_output.png') },
    data: { type: 'float32', range: [0, 1] },
  };
}

/** The rdf's `config.emseg`: what inference needs from the card, and where the whole card is. */
function emsegConfig(card: ModelCard) {
  return {
    threshold: card.threshold,
    tile: card.tile,
    halo: card.halo,
    model_card: 'model_card.json',
    ...(card.intendedUse ? { intended_use: card.intendedUse } : {}),
    ...(card.limitations ? { limitations: card.limitations } : {}),
    ...(card.licence ? { licence: card.licence } : {}),
  };
}

/** The resource description (rdf.yaml's content), with the sha256 of every file it names. */
function bioimageioRdf(options: BioimageioOptions, names: TensorNames, opset: number, files: PackageFiles): Record<string, unknown> {
  const { card } = options;
  const sha = (name: keyof PackageFiles) => sha256Hex(contentBytes(files[name]));
  return {
    format_version: BIOIMAGEIO_FORMAT_VERSION,
    type: 'model',
    name: card.name,
    description: card.description ?? 'U-Net segmentation of cell interior vs membrane in serial-section EM of neural tissue (ISBI 2012).',
    version: options.version ?? card.version,
    timestamp: new Date().toISOString(),
    authors: options.authors ?? [{ name: 'emseg contributors' }],
    ...(options.maintainers && options.maintainers.length > 0 ? { maintainers: options.maintainers } : {}),
    cite: CITATIONS,
    license: options.license ?? card.licence?.model ?? 'MIT',
    documentation: 'README.md',
    covers: ['cover.png'],
    tags: BIOIMAGEIO_TAGS,
    ...(options.gitRepo ? { git_repo: options.gitRepo } : {}),
    attachments: [{ source: 'model_card.json', sha256: sha('model_card.json') }],
    inputs: [rdfInput(names.input, sizeMultipleFor(card.architecture.depth), card.halo, sha)],
    outputs: [rdfOutput(names, card, sha)],
    ...(trainedOnIsbi2012(card) ? { training_data: ISBI2012_DATASET } : {}),
    weights: { onnx: { source: 'weights.onnx', sha256: sha('weights.onnx'), opset_version: opset } },
    config: { emseg: emsegConfig(card) },
  };
}

/** Writes the files, then rdf.yaml, each atomically; returns their paths in that order. */
async function writePackageFolder(dir: string, files: PackageFiles, rdfText: string, inputs: string[]): Promise<string[]> {
  const written: string[] = [];
  for (const [name, content] of [...Object.entries(files), ['rdf.yaml', rdfText] as const]) {
    await writeFileAtomic(join(dir, name), content, { inputs });
    written.push(join(dir, name));
  }
  return written;
}

/** Writes `<dir>.zip` with the same files and rdf.yaml at its root; returns its path. */
async function writePackageZip(dir: string, files: PackageFiles, rdfText: string, inputs: string[]): Promise<string> {
  const entries = Object.fromEntries([...Object.entries(files), ['rdf.yaml', rdfText] as const].map(([name, content]) => [name, contentBytes(content)]));
  const zipPath = bioimageioPaths(dir, true).zipPath!;
  await writeFileAtomic(zipPath, zipSync(entries, { level: 6 }), { inputs });
  return zipPath;
}

/** Writes the package folder (and with `zip` its archive) for the ONNX file and its card; see the top of this file. */
export async function writeBioimageioPackage(options: BioimageioOptions): Promise<BioimageioPackage> {
  const { card, onnxBytes, dir, testImage } = options;
  const signature = readOnnxSignature(onnxBytes);
  const names = tensorNames(signature);
  const shape = testTensorShape(testImage, sizeMultipleFor(card.architecture.depth), options.testImageSource);
  const tensors = await computeTestTensors(onnxBytes, names, testImage, options.normalize, shape);
  const files = await packageFiles(options, tensors, shape);
  const rdf = bioimageioRdf(options, names, signature.opset, files);
  const rdfText = stringify(rdf, { lineWidth: 0 });
  const inputs = options.inputs ?? [];
  const written = await writePackageFolder(dir, files, rdfText, inputs);
  const result: BioimageioPackage = {
    dir,
    rdfPath: join(dir, 'rdf.yaml'),
    files: written,
    reproduceMaxAbsDiff: tensors.reproduce,
    consumerMaxAbsDiff: tensors.consumerDiff,
    rdf,
  };
  if (options.zip) result.zipPath = await writePackageZip(dir, files, rdfText, inputs);
  return result;
}
