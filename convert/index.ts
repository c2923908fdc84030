/**
 * The public API of convert/ (what `emseg convert` and `emseg export-package` are made of).
 * Node-only: it loads onnxruntime-node and reads and writes files.
 */
export { convertModel, cardPathFor, sha256Hex, type ConvertOptions, type ConvertResult } from './convert-model.ts';
export { exportLayersModel, buildOnnxGraph, type ExportOptions } from './tfjs-to-onnx.ts';
export { LAYER_CONVERTERS, SUPPORTED_LAYERS } from './registry.ts';
export type { LayerConverter, LayerToConvert, LayerWeight } from './layer-converter.ts';
export { GraphBuilder, encodeOnnxModel, readOnnxMetadata, readOnnxSignature, attr } from './onnx-graph.ts';
export { compareModels, assertParity, randomInput, createCpuSession, PARITY_TOLERANCE, type ParityInput, type ParityReport } from './parity.ts';
export { buildModelCard, describeUNet, modelCardMetadata, modelCardFromMetadata, type ModelCardOptions } from './model-card.ts';
export { loadTfjsModelDir, readTfjsArtifacts, saveTfjsModelDir } from './tfjs-model-dir.ts';
export { exportPackages, readModelCard, type ExportPackageOptions, type ExportPackageResult } from './export-package.ts';
export { writeBioimageioPackage, type BioimageioOptions, type BioimageioPackage } from './bioimageio.ts';
export { tritonConfig, writeTritonRepository, type TritonOptions, type TritonRepository } from './triton.ts';
export { checkOnnxFile, checkOnnxFiles, type CheckerResult } from './onnx-checker.ts';
export { quantizeModel, type QuantizeOptions, type QuantizeResult } from './quantize/quantize-model.ts';
export { stackSliceSource, type SliceSource } from './quantize/calibrate.ts';
export { importOnnxGraph, type ImportedGraph } from './onnx-graph-import.ts';
