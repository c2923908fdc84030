/**
 * The model card's fields for users (licences, intended use, limitations, exact preprocessing):
 * written by buildModelCard for models trained on the ISBI 2012 data, filled into older cards of
 * such models by withModelFacts, never invented for models trained on other data.
 */
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { preprocessingSteps } from '../core/contract.ts';
import { parseModelCard, parseModelCardJson } from '../core/model-card.ts';
import { buildModelCard } from '../convert/model-card.ts';
import { ISBI2012_MODEL_FACTS, withModelFacts } from '../convert/model-facts.ts';

const shipped = parseModelCardJson(readFileSync('models/isbi2012-unet.json', 'utf8'), 'shipped card');
const split = { train: [0, 1], validation: [2] };

function tinyModel(): tf.LayersModel {
  const input = tf.input({ shape: [null, null, 1] });
  const output = tf.layers.conv2d({ filters: 1, kernelSize: 1, activation: 'sigmoid' }).apply(input) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: output });
}

describe('model card facts', () => {
  it('are written by buildModelCard for a model trained on the ISBI 2012 stack, and pass the card schema', () => {
    const card = buildModelCard(tinyModel(), { name: 'isbi-tiny', training: { data: 'data/isbi2012/train-volume.tif with data/isbi2012/train-labels.tif', split } });
    expect(card.licence).toEqual(ISBI2012_MODEL_FACTS.licence);
    expect(card.intendedUse).toBe(ISBI2012_MODEL_FACTS.intendedUse);
    expect(card.limitations).toEqual(ISBI2012_MODEL_FACTS.limitations);
    expect(card.contract.preprocessingSteps).toEqual(preprocessingSteps(card.contract.input.sizeMultiple));
    expect(parseModelCard(JSON.parse(JSON.stringify(card)), 'round trip')).toEqual(card);
  });

  it('are not invented for a model trained on other data; the contract steps are', () => {
    const card = buildModelCard(tinyModel(), { name: 'own-data', training: { data: 'my-lab/stack.tif', split } });
    expect(card.licence).toBeUndefined();
    expect(card.intendedUse).toBeUndefined();
    expect(card.limitations).toBeUndefined();
    expect(card.contract.preprocessingSteps?.length).toBeGreaterThan(0);
  });

  it('fill a card that predates them (the shipped card without them), without changing what it has', () => {
    const { licence: _licence, intendedUse: _intendedUse, limitations: _limitations, ...older } = shipped;
    const { preprocessingSteps: _steps, ...olderContract } = shipped.contract;
    const old = { ...older, contract: olderContract } as typeof shipped;
    const filled = withModelFacts(old);
    expect(filled.licence?.data).toMatch(/ISBI 2012.*Cardona et al\. 2010/);
    expect(filled.limitations?.join(' ')).toMatch(/4 x 4 nm pixels/);
    expect(filled.contract.preprocessingSteps?.join(' ')).toMatch(/multiples of 16/);
    expect({ ...filled, licence: undefined, intendedUse: undefined, limitations: undefined, contract: old.contract }).toEqual({ ...old, licence: undefined, intendedUse: undefined, limitations: undefined });
    const own = withModelFacts({ ...old, licence: { model: 'Apache-2.0', data: 'CC-BY-4.0' } });
    expect(own.licence).toEqual({ model: 'Apache-2.0', data: 'CC-BY-4.0' });
  });

  it('describe the preprocessing the code does: population std, no epsilon, no rescaling, reflect padding', () => {
    const text = preprocessingSteps(16).join(' ');
    expect(text).toMatch(/population standard deviation \(divided by N, not N - 1\) and no epsilon/);
    expect(text).toMatch(/16-bit \(0-65535\) and float images are not rescaled/);
    expect(text).toMatch(/mirror padding .* up to the next multiple/);
  });
});
