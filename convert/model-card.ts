/**
 * The model card (core/contract.ts ModelCard): built from the tfjs model (architecture read
 * from the U-Net's stable layer names), the training outputs when known, the evaluation figures
 * and the cell parameters when given, and the parity figure of the conversion. It travels in two copies: models/<name>.json
 * (with the sha256 of the ONNX file) and the ONNX metadata_props under `emseg.model_card`
 * (without the sha256: a file cannot contain its own hash).
 */
import type * as tfType from '@tensorflow/tfjs';
import {
  DEFAULT_DEPTH,
  DEFAULT_HALO,
  DEFAULT_THRESHOLD,
  DEFAULT_TILE,
  contractSection,
  type ModelCard,
} from '../core/contract.ts';
import { parseModelCard } from '../core/model-card.ts';
import { validateThreshold } from '../core/threshold.ts';
import { withModelFacts } from './model-facts.ts';

/**
 * Architecture of a U-Net built by train/unet.ts, read from its layer names: depth = number of
 * `pool{l}` layers, base filters = filters of `enc1_conv1`, batch norm = any BatchNormalization,
 * dropout = rate of `bottleneck_dropout`. Models of another shape get depth from the pooling
 * layers and the first convolution's filters.
 */
export function describeUNet(model: tfType.LayersModel): ModelCard['architecture'] {
  const layers = model.layers;
  const pools = layers.filter((layer) => layer.getClassName() === 'MaxPooling2D').length;
  const firstConv = layers.find((layer) => layer.name === 'enc1_conv1') ?? layers.find((layer) => layer.getClassName() === 'Conv2D');
  const dropoutLayer = layers.find((layer) => layer.getClassName() === 'Dropout' || layer.getClassName() === 'SpatialDropout2D');
  const firstConfig = (firstConv?.getConfig() ?? {}) as { filters?: number };
  const dropoutConfig = (dropoutLayer?.getConfig() ?? {}) as { rate?: number };
  return {
    kind: 'unet',
    depth: pools > 0 ? pools : DEFAULT_DEPTH,
    baseFilters: firstConfig.filters ?? 0,
    batchNorm: layers.some((layer) => layer.getClassName() === 'BatchNormalization'),
    dropout: dropoutConfig.rate ?? 0,
    parameters: model.countParams(),
  };
}

export interface ModelCardOptions {
  /** Model name (file stem of models/<name>.onnx). Required. */
  name: string;
  /** Version string. Default '0.1.0'. */
  version?: string;
  description?: string;
  /** Mask threshold. Default: the contract's 0.5. */
  threshold?: number;
  /** Tile size and halo recommended for inference. Defaults: contract's 512 and 32. */
  tile?: number;
  halo?: number;
  tta?: boolean;
  training?: ModelCard['training'];
  metrics?: ModelCard['metrics'];
  /** Cell parameters (core/cells/cell-params.ts). Default: none (the built-in defaults apply). */
  cells?: ModelCard['cells'];
  conversion?: ModelCard['conversion'];
  /** Pixel size in nm of the images the model learned on (the training run's). */
  trainingPixelSize?: number;
}

export function buildModelCard(model: tfType.LayersModel, options: ModelCardOptions): ModelCard {
  const architecture = describeUNet(model);
  const threshold = options.threshold ?? DEFAULT_THRESHOLD;
  validateThreshold(threshold);
  const card: ModelCard = {
    name: options.name,
    version: options.version ?? '0.1.0',
    ...(options.description !== undefined ? { description: options.description } : {}),
    architecture,
    contract: contractSection(architecture.depth),
    threshold,
    tile: options.tile ?? DEFAULT_TILE,
    halo: options.halo ?? DEFAULT_HALO,
    ...(options.tta !== undefined ? { tta: options.tta } : {}),
    ...(options.training !== undefined ? { training: options.training } : {}),
    ...(options.metrics !== undefined ? { metrics: options.metrics } : {}),
    ...(options.cells !== undefined ? { cells: options.cells } : {}),
    ...(options.conversion !== undefined ? { conversion: options.conversion } : {}),
    ...(options.trainingPixelSize !== undefined ? { trainingPixelSize: options.trainingPixelSize } : {}),
  };
  return parseModelCard(withModelFacts(card), `model card of ${options.name}`);
}

export { modelCardFromMetadata, modelCardMetadata } from '../core/model-card.ts';
