/**
 * The human side of the bioimage.io package: README.md (with the Validation section the zoo
 * asks for) and the citations (the ISBI 2012 papers of data/isbi2012/README.md, and the U-Net).
 */
import type { ModelCard } from '../core/contract.ts';
import { ancestryFromCard } from '../core/training-ancestry.ts';

/** The ISBI 2012 papers (data/isbi2012/README.md) and the U-Net paper. */
export const CITATIONS = [
  {
    text: 'Ronneberger O., Fischer P., Brox T. U-Net: Convolutional Networks for Biomedical Image Segmentation. MICCAI 2015.',
    doi: '10.1007/978-3-319-24574-4_28',
  },
  {
    text: 'Cardona A. et al. An integrated micro- and macroarchitectural analysis of the Drosophila brain by computer-assisted serial section electron microscopy. PLoS Biology 8(10), 2010.',
    doi: '10.1371/journal.pbio.1000502',
  },
  {
    text: 'Arganda-Carreras I. et al. Crowdsourcing the creation of image segmentation algorithms for connectomics. Frontiers in Neuroanatomy 9:142, 2015.',
    doi: '10.3389/fnana.2015.00142',
  },
];

/**
 * The training data as a bioimage.io dataset description (spec: `training_data` may be a dataset
 * description inline; format 0.3). No `license`: the publishers state none (model-facts.ts).
 */
export const ISBI2012_DATASET = {
  type: 'dataset',
  format_version: '0.3.0',
  name: 'ISBI 2012 EM segmentation challenge',
  description:
    'Serial-section TEM of the ventral nerve cord of a first-instar Drosophila larva: 30 training slices of 512x512 px (4 x 4 x 50 nm) with membrane labels, 30 test slices without. Published for the challenge without a stated licence; cite the papers below.',
  source: 'https://imagej.net/events/isbi-2012-segmentation-challenge',
  cite: CITATIONS.slice(1),
  tags: ['electron-microscopy', '2d', 'cell-membrane', 'drosophila', 'connectomics', 'isbi2012'],
};

export interface DocumentationFacts {
  card: ModelCard;
  /** Where test_input.npy comes from, e.g. 'data/isbi2012/train-volume.tif slice 0'. */
  testImageSource: string;
  inputShape: number[];
  /** |onnxruntime(normalize(test_input)) - test_output| after reading the files back. */
  reproduce: number;
  /** The same with bioimage.io's normalization (with eps) instead of the contract's. */
  consumerDiff: number;
  eps: number;
}

/** The runs the training continued (emseg train --init), earliest first, as one sentence; empty when none. */
function earlierRuns(training: NonNullable<ModelCard['training']>): string {
  const { ancestors, cropsSeenWithAncestors } = ancestryFromCard(training);
  if (!ancestors) return '';
  const runs = ancestors.map((a) => (a.command ? `\`${a.command}\`` : `${a.name} (sha256 ${a.sha256.slice(0, 12)}...)`)).join(', then ');
  return ` That run is the last of ${ancestors.length + 1}; each run after the first started from the previous one's export (emseg train --init), and the earlier ones were ${runs}${cropsSeenWithAncestors !== undefined ? `; ${cropsSeenWithAncestors} crops in all` : ''}.`;
}

/** README.md of the package: model, training data, Validation, use, citation. */
export function packageDocumentation(facts: DocumentationFacts): string {
  const { card } = facts;
  const figures = facts;
  const metric = card.metrics?.withoutTta;
  const lines = [
    `# ${card.name}`,
    '',
    card.description ?? 'U-Net that segments electron-microscopy images of neural tissue (ISBI 2012) into cell interior and membrane.',
    '',
    '## Model',
    '',
    `- Architecture: U-Net, depth ${card.architecture.depth}, ${card.architecture.baseFilters} base filters, batch norm ${card.architecture.batchNorm ? 'on' : 'off'}, ${card.architecture.parameters} parameters.`,
    `- Input \`${card.contract.input.name}\`: float32 [batch, 1, y, x], y and x multiples of ${card.contract.input.sizeMultiple}.`,
    `- Preprocessing (declared in rdf.yaml): ${card.contract.preprocessing}.`,
    `- Output \`${card.contract.output.name}\`: float32 [batch, 1, y, x], ${card.contract.output.meaning}.`,
    `- Mask: probability >= ${card.threshold} is cell interior (255), else membrane (0), the polarity of the ISBI labels.`,
    `- Large images: tiles of ${card.tile} px with a halo of ${card.halo} px, blended, give seamless results.`,
    '',
    '## Intended use',
    '',
    card.intendedUse ?? 'Not stated in the model card.',
    '',
    '## Limitations',
    '',
    ...(card.limitations?.map((line) => `- ${line}`) ?? ['Not stated in the model card.']),
    '',
    '## Licences',
    '',
    `- Model (these weights): ${card.licence?.model ?? 'not stated in the model card'}.`,
    `- Training data: ${card.licence?.data ?? 'not stated in the model card'}`,
    '',
    '## Preprocessing, exactly',
    '',
    ...(card.contract.preprocessingSteps ?? [card.contract.preprocessing]).map((line) => `- ${line}`),
    `- rdf.yaml declares it as ensure_dtype float32 and zero_mean_unit_variance over y and x with eps ${facts.eps}, which bioimage.io tools compute as (x - mean) / (std + eps): the difference is measured under Validation.`,
    `- Tools that tile should overlap tiles and crop the output halo of ${card.halo} px declared in rdf.yaml; inputs must be at least the declared minimum and a multiple of ${card.contract.input.sizeMultiple} per side.`,
    '',
    '## Training data',
    '',
    card.training
      ? `${card.training.data}; training slices ${card.training.split.train.join(',')}, validation slices ${card.training.split.validation.join(',')}${card.training.command ? `; command \`${card.training.command}\`` : ''}.${earlierRuns(card.training)}`
      : 'ISBI 2012 EM segmentation challenge training stack (see the model card).',
    '',
    '## Validation',
    '',
    `- Test tensors: \`test_input.npy\` is ${facts.testImageSource} as float32 ${JSON.stringify(figures.inputShape)} (raw intensities); \`test_output.npy\` is onnxruntime-node's (CPU) output for it after the declared preprocessing. Read back and run again, they agree to ${figures.reproduce.toExponential(2)}.`,
    `- Preprocessing as bioimage.io tools compute it, (x - mean) / (std + ${facts.eps}), gives outputs within ${figures.consumerDiff.toExponential(2)} of test_output.npy (which uses the contract's (x - mean) / std).`,
    card.conversion
      ? `- Export parity: the ONNX graph equals the TensorFlow.js model it was exported from to ${card.conversion.parityMaxAbsDiff.toExponential(2)} (largest absolute difference; ${card.conversion.paritySizes.join('; ')}).`
      : '- Export parity: see the model card.',
    metric
      ? `- Accuracy (${card.metrics?.split}): V_rand ${metric.vRand ?? 'n/a'}, V_info ${metric.vInfo ?? 'n/a'}, pixel error ${metric.pixelError ?? 'n/a'}, Dice ${metric.dice ?? 'n/a'}, IoU ${metric.iou ?? 'n/a'}; measured with \`${card.metrics?.command}\`.`
      : '- Accuracy: not measured for this package (run `emseg evaluate` and convert with `--metrics`).',
    '- Scores follow the ISBI 2012 definition: foreground-restricted V_rand and V_info after border thinning, best over thresholds 0.0 to 1.0.',
    '',
    '## Use',
    '',
    '- deepImageJ / Fiji, ilastik, bioimageio.core: import this folder (or its zip).',
    '- Any ONNX runtime: normalize the whole slice to zero mean and unit variance, pad to a multiple of the size step, run `weights.onnx`, crop back.',
    '',
    '## Citation',
    '',
    ...CITATIONS.map((cite) => `- ${cite.text} doi:${cite.doi}`),
    '',
  ];
  return lines.join('\n');
}

