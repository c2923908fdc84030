/**
 * What a model card says about the use of a model trained on the ISBI 2012 data (emseg train's
 * default data): the licences as published, the intended use and the limitations. buildModelCard
 * adds them to the cards of such models, and export-package to older cards of such models that
 * lack them (the shipped card predates these fields), with the contract's preprocessing steps. Models trained on other data get none of
 * this from here: their card says only what is known about them.
 */
import { preprocessingSteps } from '../core/contract.ts';
import type { ModelCard } from '../core/model-card.ts';

export const ISBI2012_MODEL_FACTS: Required<Pick<ModelCard, 'licence' | 'intendedUse' | 'limitations'>> = {
  licence: {
    model: 'MIT',
    data:
      'ISBI 2012 EM segmentation challenge data (Cardona et al. 2010), published for the challenge without a stated licence; ' +
      'the organizers ask that users cite Cardona et al. 2010 and Arganda-Carreras et al. 2015.',
  },
  intendedUse:
    'Research use: 2D segmentation of cell interior against membrane in serial-section transmission EM images of neural tissue ' +
    'resembling the ISBI 2012 data, as a first step of neurite reconstruction followed by proofreading. Not a medical device; ' +
    'not for diagnosis.',
  limitations: [
    'Trained on 25 slices of a single volume: ssTEM of the ventral nerve cord of one first-instar Drosophila larva, 4 x 4 nm pixels, 50 nm sections, 8-bit.',
    'Not tested on other species or tissues, other EM modalities (SBEM, FIB-SEM, ATUM-SEM, cryo-EM), light microscopy, other pixel sizes or section thicknesses; resample to about 4 nm per pixel and check on labelled slices of your own before relying on it.',
    'Its scores come from 5 held-out slices of the same volume that also chose the checkpoint and the threshold, so they are optimistic for other data; the challenge test labels were never published.',
    'Each slice is segmented on its own (2D): no use of neighbouring sections.',
    'It gives a cell-interior probability map and mask only; separating touching cells into instances, and organelles such as mitochondria or vesicles, are outside its scope.',
  ],
};

/** Whether the card's training data is the ISBI 2012 training stack. */
export function trainedOnIsbi2012(card: Pick<ModelCard, 'training'>): boolean {
  return /isbi2012/i.test(card.training?.data ?? '');
}

/**
 * The card with what older cards lack filled in: the contract's preprocessing steps (every emseg
 * model), and the ISBI 2012 facts when it was trained on that data.
 */
export function withModelFacts(card: ModelCard): ModelCard {
  const steps = card.contract.preprocessingSteps ?? preprocessingSteps(card.contract.input.sizeMultiple);
  const withSteps = { ...card, contract: { ...card.contract, preprocessingSteps: steps } };
  if (!trainedOnIsbi2012(card)) return withSteps;
  return {
    ...withSteps,
    licence: card.licence ?? ISBI2012_MODEL_FACTS.licence,
    intendedUse: card.intendedUse ?? ISBI2012_MODEL_FACTS.intendedUse,
    limitations: card.limitations ?? ISBI2012_MODEL_FACTS.limitations,
  };
}
