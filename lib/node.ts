/**
 * `import … from 'emseg/node'`: Node.js only. Reading and writing image files, and loading an
 * ONNX model with onnxruntime-node (CUDA or CPU) as a TilePredictor for `emseg`'s segmentImage.
 *
 *   import { segmentImage, segmentOptionsFromCard } from 'emseg';
 *   import { loadOnnxModel, readImageFile } from 'emseg/node';
 *   const model = await loadOnnxModel('isbi2012-unet.onnx', { providers: 'cpu' });
 *   const stack = await readImageFile('slice.tif');
 *   const { mask } = await segmentImage(stack.pages[0], model.predictor, segmentOptionsFromCard(model.card));
 *   await model.close();
 *
 * Only what is listed here is public; everything else in the package may change without notice.
 */
export { loadOnnxModel } from '../node/load-onnx-model.ts';
export { findModelCard, readModelCardFile, modelCardInOnnx, cardPathFor } from '../node/model-card-file.ts';
export type { FindModelCardOptions, FoundModelCard, ModelCardCopy } from '../node/model-card-file.ts';
export type { LoadModelOptions, LoadedModel, CardSource } from '../node/load-onnx-model.ts';
export { readImageFile, readInputFile, decodeImageBytes } from '../node/image-files.ts';
export { encodePng } from '../node/png.ts';
export type { EncodePngOptions } from '../node/png.ts';
export { writeFileAtomic } from '../node/atomic-write.ts';
export type { WriteFileAtomicOptions } from '../node/atomic-write.ts';
