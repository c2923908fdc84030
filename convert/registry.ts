/**
 * The one table from Keras layer class name to converter (keras2onnx style). Adding a layer
 * means writing a LayerConverter and one line here.
 */
import type { LayerConverter } from './layer-converter.ts';
import {
  convertActivation,
  convertELU,
  convertLeakyReLU,
  convertPReLU,
  convertReLU,
  convertRescaling,
  convertSoftmax,
  convertThresholdedReLU,
} from './layers/activation.ts';
import { convertConv2D, convertConv2DTranspose, convertDense, convertDepthwiseConv2D, convertSeparableConv2D } from './layers/conv.ts';
import { convertAdd, convertAverage, convertConcatenate, convertMaximum, convertMinimum, convertMultiply } from './layers/merge.ts';
import { convertBatchNormalization } from './layers/normalization.ts';
import { convertAveragePooling2D, convertMaxPooling2D } from './layers/pooling.ts';
import { convertCropping2D, convertUpSampling2D, convertZeroPadding2D } from './layers/spatial.ts';
import { convertInputLayer, convertPassThrough } from './layers/structure.ts';

export const LAYER_CONVERTERS: Readonly<Record<string, LayerConverter>> = {
  InputLayer: convertInputLayer,
  Conv2D: convertConv2D,
  Conv2DTranspose: convertConv2DTranspose,
  DepthwiseConv2D: convertDepthwiseConv2D,
  SeparableConv2D: convertSeparableConv2D,
  Dense: convertDense,
  BatchNormalization: convertBatchNormalization,
  Activation: convertActivation,
  ReLU: convertReLU,
  LeakyReLU: convertLeakyReLU,
  ELU: convertELU,
  ThresholdedReLU: convertThresholdedReLU,
  PReLU: convertPReLU,
  Rescaling: convertRescaling,
  Softmax: convertSoftmax,
  MaxPooling2D: convertMaxPooling2D,
  AveragePooling2D: convertAveragePooling2D,
  UpSampling2D: convertUpSampling2D,
  ZeroPadding2D: convertZeroPadding2D,
  Cropping2D: convertCropping2D,
  Concatenate: convertConcatenate,
  Add: convertAdd,
  Multiply: convertMultiply,
  Average: convertAverage,
  Maximum: convertMaximum,
  Minimum: convertMinimum,
  Dropout: convertPassThrough,
  SpatialDropout1D: convertPassThrough,
  SpatialDropout2D: convertPassThrough,
  GaussianNoise: convertPassThrough,
  GaussianDropout: convertPassThrough,
  AlphaDropout: convertPassThrough,
};

export const SUPPORTED_LAYERS: readonly string[] = Object.keys(LAYER_CONVERTERS);
