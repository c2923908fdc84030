/**
 * The ISBI 2012 stacks the project trains and tests on (data/isbi2012/README.md) and the held-out
 * split that CONVENTIONS.md makes part of the contract: slices 0-24 train, 25-29 validation,
 * unless a command says otherwise. Every default path and split comes from here.
 */
export const ISBI_DIR = 'data/isbi2012';
export const ISBI_TRAIN_IMAGES = `${ISBI_DIR}/train-volume.tif`;
export const ISBI_TRAIN_LABELS = `${ISBI_DIR}/train-labels.tif`;
export const ISBI_TEST_IMAGES = `${ISBI_DIR}/test-volume.tif`;
/** Slice 0 of the training stack as an 8-bit PNG, pixel for pixel: shipped in the npm package (the stacks are not). */
export const ISBI_SAMPLE_SLICE = `${ISBI_DIR}/train-volume-slice0.png`;

const range = (first: number, last: number): number[] => Array.from({ length: last - first + 1 }, (_, i) => first + i);

/** The held-out split of the training stack, as slice indices. */
export const ISBI_SPLIT: { readonly train: readonly number[]; readonly validation: readonly number[] } = {
  train: range(0, 24),
  validation: range(25, 29),
};
/** The same split as typed on the command line. */
export const ISBI_TRAIN_SLICES = '0-24';
export const ISBI_VALIDATION_SLICES = '25-29';
