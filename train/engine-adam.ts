/**
 * Adam (Kingma & Ba 2015) on plain Float32Arrays, in the paper's efficient form (section 2, the
 * bias corrections folded into the step size):
 *
 *   m = b1 m + (1 - b1) g,   v = b2 v + (1 - b2) g^2,
 *   w = w - lr * sqrt(1 - b2^t) / (1 - b1^t) * m / (sqrt(v) + epsilon)
 *
 * tf.train.adam adds epsilon to the bias-corrected sqrt(v / (1 - b2^t)) instead, so this is
 * tf.train.adam with epsilon / sqrt(1 - b2^t) in place of epsilon: the same update when epsilon
 * is 0, and a larger effective epsilon in the first steps (about 32x at t = 1 with b2 = 0.999,
 * tending to epsilon as t grows). test/engine-adam.test.ts checks both statements against tfjs.
 *
 * It runs in the engine's thread on the averaged gradients of all workers, always in the same
 * order, so that a run is a deterministic function of the seed and the batches, and its whole
 * state (m, v, t) can be saved and restored exactly.
 */
export interface AdamOptions {
  /** Default 0.9. */
  beta1?: number;
  /** Default 0.999. */
  beta2?: number;
  /** Default 1e-7 (tfjs's default). */
  epsilon?: number;
}

export type ResolvedAdamOptions = Required<AdamOptions>;

export const ADAM_DEFAULTS: ResolvedAdamOptions = { beta1: 0.9, beta2: 0.999, epsilon: 1e-7 };

/**
 * One Adam update of `weights` in place; `step` is the 1-based number of this update.
 * `m` and `v` are updated in place too.
 */
export function adamUpdate(
  weights: Float32Array,
  grads: Float32Array,
  m: Float32Array,
  v: Float32Array,
  learningRate: number,
  step: number,
  options: ResolvedAdamOptions = ADAM_DEFAULTS,
): void {
  const { beta1, beta2, epsilon } = options;
  const rate = (learningRate * Math.sqrt(1 - beta2 ** step)) / (1 - beta1 ** step);
  for (let i = 0; i < weights.length; i++) {
    const g = grads[i]!;
    const mi = beta1 * m[i]! + (1 - beta1) * g;
    const vi = beta2 * v[i]! + (1 - beta2) * g * g;
    m[i] = mi;
    v[i] = vi;
    weights[i] = weights[i]! - (rate * m[i]!) / (Math.sqrt(v[i]!) + epsilon);
  }
}
