/**
 * An exponential moving average of the weights (Polyak averaging, as tf.train.ExponentialMovingAverage
 * with `num_updates`): after the optimizer's step t (1-based),
 *
 *   decay_t = min(decay, (1 + t) / (10 + t)),   average = decay_t * average + (1 - decay_t) * weights
 *
 * so the first steps are not dominated by the initial weights. With decay d the average spans
 * roughly the last 1 / (1 - d) steps (500 for 0.998): the weights a run keeps are then a smooth
 * function of its last few hundred steps, not one noisy step, and the checkpoint kept depends far
 * less on which step happened to be validated (train/selection-rule.ts).
 *
 * It runs in the engine's thread, in a fixed order, in float32 arrays: a resumed run restores it
 * from its checkpoint and continues exactly.
 */
export class WeightAverage {
  /** The averaged weights, one array per model weight, in the order they were given. */
  readonly values: Float32Array[];

  /** Starts the average at a copy of `initial`. */
  constructor(
    readonly decay: number,
    initial: readonly Float32Array[],
  ) {
    if (!(Number.isFinite(decay) && decay > 0 && decay < 1)) throw new RangeError(`decay: expected a number in (0, 1), found ${decay}`);
    this.values = initial.map((w) => new Float32Array(w));
  }

  /** The decay applied after the optimizer's step `step` (1-based). */
  decayAt(step: number): number {
    return Math.min(this.decay, (1 + step) / (10 + step));
  }

  /** Folds in the weights after the optimizer's step `step` (1-based). */
  update(weights: readonly Float32Array[], step: number): void {
    if (weights.length !== this.values.length) throw new RangeError(`weights: expected ${this.values.length} arrays, found ${weights.length}`);
    const d = this.decayAt(step);
    const e = 1 - d;
    weights.forEach((w, k) => {
      const a = this.values[k]!;
      if (a.length !== w.length) throw new RangeError(`weights[${k}]: expected ${a.length} values, found ${w.length}`);
      for (let i = 0; i < a.length; i++) a[i] = d * a[i]! + e * w[i]!;
    });
  }
}
