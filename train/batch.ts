/**
 * A training batch as the dataset produces it and the training engine consumes it.
 * Layout NHWC with one channel (for one channel this is also NCHW), row-major.
 */
export interface TrainBatch {
  /** Normalized images (zero mean, unit variance per source slice), length n*height*width. */
  readonly images: Float32Array;
  /** Targets: 1 = cell interior, 0 = membrane, IGNORED_TARGET = unlabelled (no loss), length n*height*width. */
  readonly labels: Float32Array;
  /** Optional per-pixel loss weights (the U-Net paper's border weight map), same length. */
  readonly weights?: Float32Array;
  readonly n: number;
  readonly height: number;
  readonly width: number;
}

/** Target value of a pixel that counts in neither loss term (an `--ignore` pixel of the labels). */
export const IGNORED_TARGET = -1;
