/**
 * `import … from 'emseg'`: the platform-neutral API (Node, browsers, workers). No file system, no
 * native modules: give it a TilePredictor (a function from NCHW float32 tiles to probabilities),
 * e.g. from `emseg/node`'s loadOnnxModel or an onnxruntime-web session.
 *
 *   import { segmentImage, makeImage } from 'emseg';
 *   const { mask, probability } = await segmentImage(makeImage(512, 512, pixels), predictor, { threshold: 0.4 });
 *   const cells = labelCells(probability.data, 512, 512, cellParamsFrom(card.cells));   // the card's cell parameters, else the defaults
 *
 * Only what is listed here is public; everything else in the package may change without notice.
 */
export { segmentImage, segmentStack } from '../core/inference.ts';
export type { SegmentOptions, Segmentation, SegmentStackOptions, StackSegmentation, StackProgress } from '../core/inference.ts';
export { slidingWindowInference } from '../core/stitch.ts';
export { planTiles, resolveTilingOptions, DEFAULT_TILING } from '../core/tiling.ts';
export type { TilePredictor, TilingOptions, TilePlan, Blending } from '../core/tiling.ts';
export { withTta, DIHEDRAL_TRANSFORMS } from '../core/tta.ts';
export type { TtaOptions, DihedralTransform } from '../core/tta.ts';
export { normalizeSlice, normalizedImage } from '../core/normalize.ts';
export { mirrorPad, padToMultiple, crop } from '../core/padding.ts';
export { thresholdProbability, parseThreshold, validateThreshold } from '../core/threshold.ts';
export { makeImage, makeStack } from '../core/image.ts';
export type { GreyImage, ImageStack, PixelArray, BitDepth } from '../core/image.ts';
export { decodeTiff } from '../core/tiff.ts';
export type { DecodeTiffOptions } from '../core/tiff.ts';
export { encodeTiff, encodeLabelTiff } from '../core/tiff-write.ts';
export type { EncodeTiffOptions, LabelStack } from '../core/tiff-write.ts';
export { labelCells } from '../core/cells/cell-labels.ts';
export { findSeeds } from '../core/cells/cell-regions.ts';
export type { CellLabels } from '../core/cells/cell-labels.ts';
export { DEFAULT_CELL_PARAMS, SEED_RULES, cellParamsFrom, validateCellParams } from '../core/cells/cell-params.ts';
export type { CellParams, SeedRule } from '../core/cells/cell-params.ts';
export { measureCells } from '../core/cells/cell-measurements.ts';
export type { CellMeasurement, MeasureOptions } from '../core/cells/cell-measurements.ts';
export { cellTableCsv, CELL_TABLE_COLUMNS, LINKED_CELL_TABLE_COLUMNS } from '../core/cells/cell-table.ts';
export type { CellTableImage, CellTableOptions } from '../core/cells/cell-table.ts';
export { labelStackCells } from '../core/cells/stack-cells.ts';
export type { StackCells, StackCellsOptions } from '../core/cells/stack-cells.ts';
export { DEFAULT_MIN_OVERLAP, SectionLinker, linkSections, relabelSection } from '../core/cells/section-links.ts';
export { seededWatershed } from '../core/cells/watershed.ts';
export type { WatershedOptions } from '../core/cells/watershed.ts';
export { distanceTransform } from '../core/cells/distance-transform.ts';
export { probeImage, sniffImageFormat } from '../core/image-probe.ts';
export type { ImageProbe, ImageFormat } from '../core/image-probe.ts';
export * from '../core/metrics/index.ts';
export {
  INPUT_NAME,
  OUTPUT_NAME,
  MODEL_CARD_METADATA_KEY,
  DEFAULT_THRESHOLD,
  DEFAULT_TILE,
  DEFAULT_HALO,
  MASK_FOREGROUND,
  MASK_BACKGROUND,
  CONTRACT_PREPROCESSING,
  contractSection,
  sizeMultipleFor,
} from '../core/contract.ts';
export { parseModelCard, parseModelCardJson, modelCardFromMetadata, modelCardMetadata, defaultModelCard } from '../core/model-card.ts';
export type { ModelCard, MetricFigures } from '../core/model-card.ts';
export { segmentOptionsFromCard } from '../core/card-options.ts';
export type { CardOverrides } from '../core/card-options.ts';
export { EmsegError, isEmsegError } from '../core/errors.ts';
export type { EmsegErrorCode } from '../core/errors.ts';
