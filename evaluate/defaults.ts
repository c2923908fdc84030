/**
 * The defaults of `emseg evaluate`, in a module without dependencies, so that the CLI's flags and
 * help read them without loading the evaluation.
 */
import { ISBI_TEST_IMAGES, ISBI_TRAIN_IMAGES, ISBI_TRAIN_LABELS } from '../core/isbi-data.ts';

/** The labelled images and their labels. */
export const DEFAULT_EVALUATION_IMAGES = ISBI_TRAIN_IMAGES;
export const DEFAULT_EVALUATION_LABELS = ISBI_TRAIN_LABELS;
/** The unlabelled stack and slices of the test montage. */
export const DEFAULT_TEST_IMAGES = ISBI_TEST_IMAGES;
export const DEFAULT_TEST_SLICES = '0,10,20,29';
/** Shrink factor of the montage pictures. */
export const DEFAULT_MONTAGE_SHRINK = 2;
