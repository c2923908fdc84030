/**
 * `emseg export-package` as a function: reads an emseg ONNX file and its model card, then writes
 * a BioImage Model Zoo package (bioimageio.ts) and/or a Triton model repository (triton.ts).
 *
 * The card comes from models/<name>.json beside the file (its sha256 must match the file) or,
 * failing that, from the ONNX metadata (node/model-card-file.ts, the one reader of cards).
 */
import { basename, extname } from 'node:path';
import type { ModelCard } from '../core/contract.ts';
import { EmsegError } from '../core/errors.ts';
import { readInputFile } from '../node/image-files.ts';
import { cardPathFor, findModelCard } from '../node/model-card-file.ts';
import { refuseExistingOutputs, type PlannedOutput } from '../node/existing-outputs.ts';
import { bioimageioPaths, writeBioimageioPackage, type BioimageioPackage, type Maintainer, type Person } from './bioimageio.ts';
import { withModelFacts } from './model-facts.ts';
import { sha256Hex } from '../node/sha256.ts';
import { defaultTestImage, normalizeForModel, readSlice } from './isbi-slice.ts';
import { tritonRepositoryPaths, writeTritonRepository, type TritonOptions, type TritonRepository } from './triton.ts';

export interface ExportPackageOptions {
  /** The ONNX file written by `emseg convert`. */
  onnxPath: string;
  /** BioImage Model Zoo package folder. Default: none. */
  bioimageioDir?: string;
  /** Triton model repository folder. Default: none. */
  tritonDir?: string;
  /** Model card JSON. Default: <onnx without .onnx>.json if present, else the ONNX metadata. */
  cardPath?: string;
  /** Test image stack and slice for the bioimage.io test tensors. Default data/isbi2012/train-volume.tif, 0. */
  testImage?: string;
  testSlice?: number;
  /** Also write the bioimage.io package as `<dir>.zip`. Default false. */
  zip?: boolean;
  /** bioimage.io authors. Default [{ name: 'emseg contributors' }]. */
  authors?: Person[];
  /** bioimage.io maintainers (GitHub accounts). Default: none. */
  maintainers?: Maintainer[];
  /** bioimage.io git_repo. Default: none. */
  gitRepo?: string;
  /** Triton model name. Default: the card's name. */
  tritonName?: string;
  triton?: Omit<TritonOptions, 'name'>;
  /** Replace files of the packages that exist already; otherwise E_OUTPUT_EXISTS before anything is written. Default false. */
  force?: boolean;
}

export interface ExportPackageResult {
  card: ModelCard;
  sha256: string;
  bioimageio?: BioimageioPackage;
  triton?: TritonRepository;
}

/**
 * The card to package with `onnxPath`: `cardPath` if given, else the card file beside it, else the
 * ONNX metadata (node/model-card-file.ts findModelCard, which checks it and the file's sha256),
 * with the sha256 of `bytes`. E_MODEL when there is none.
 */
export async function readModelCard(onnxPath: string, bytes: Uint8Array, cardPath?: string): Promise<ModelCard> {
  const found = findModelCard(onnxPath, bytes, { prefer: 'file', ...(cardPath !== undefined ? { cardPath } : {}) });
  if (!found) {
    throw new EmsegError('E_MODEL', `${onnxPath}: no model card (neither ${cardPathFor(onnxPath)} nor emseg.model_card in the ONNX metadata); export it with emseg convert`);
  }
  return { ...found.card, name: found.card.name || basename(onnxPath, extname(onnxPath)), sha256: sha256Hex(bytes) };
}

/** The files exportPackages writes, each with the flag that asked for it. */
function plannedOutputs(options: ExportPackageOptions, card: ModelCard): PlannedOutput[] {
  const planned: PlannedOutput[] = [];
  if (options.bioimageioDir) {
    const { files, zipPath } = bioimageioPaths(options.bioimageioDir, options.zip === true);
    planned.push(...files.map((path) => ({ path, flag: '--bioimageio' })));
    if (zipPath) planned.push({ path: zipPath, flag: '--zip' });
  }
  if (options.tritonDir) {
    const { configPath, modelPath } = tritonRepositoryPaths(options.tritonDir, options.tritonName ?? card.name);
    planned.push({ path: configPath, flag: '--triton' }, { path: modelPath, flag: '--triton' });
  }
  return planned;
}

export async function exportPackages(options: ExportPackageOptions): Promise<ExportPackageResult> {
  if (!options.bioimageioDir && !options.tritonDir) {
    throw new EmsegError('E_BAD_ARGUMENT', 'export-package: give --bioimageio <dir>, --triton <dir> or both');
  }
  const bytes = await readInputFile(options.onnxPath);
  // Cards of ISBI-trained models written before the licence, intended-use and limitation fields get them here.
  const card = withModelFacts(await readModelCard(options.onnxPath, bytes, options.cardPath));
  const inputs = [options.onnxPath, ...(options.cardPath ? [options.cardPath] : [])];
  await refuseExistingOutputs(plannedOutputs(options, card), options.force === true);
  const result: ExportPackageResult = { card, sha256: card.sha256! };
  if (options.bioimageioDir) {
    const imagePath = options.testImage ?? defaultTestImage();
    const slice = options.testSlice ?? 0;
    const image = await readSlice(imagePath, slice, { image: '--test-image', slice: '--test-slice' });
    result.bioimageio = await writeBioimageioPackage({
      onnxBytes: bytes,
      card,
      dir: options.bioimageioDir,
      testImage: image,
      testImageSource: `${imagePath} slice ${slice}`,
      normalize: normalizeForModel,
      inputs: [...inputs, imagePath],
      ...(options.authors ? { authors: options.authors } : {}),
      ...(options.maintainers ? { maintainers: options.maintainers } : {}),
      ...(options.gitRepo ? { gitRepo: options.gitRepo } : {}),
      ...(options.zip ? { zip: true } : {}),
    });
  }
  if (options.tritonDir) {
    result.triton = await writeTritonRepository(bytes, options.tritonDir, {
      sizeMultiple: card.contract.input.sizeMultiple,
      tile: card.tile,
      ...(options.triton ?? {}),
      name: options.tritonName ?? card.name,
      inputs,
    });
  }
  return result;
}
