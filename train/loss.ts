/**
 * The training loss: binary cross-entropy plus soft Dice, on the model's probabilities.
 *
 *   loss = bceWeight * BCE + diceWeight * (1 - Dice)
 *   BCE  = sum over pixels of w * -(t log p + (1 - t) log(1 - p)) / (number of pixels)
 *   Dice = mean over images of (2 sum p t + smooth) / (sum p + sum t + smooth)
 *
 * p is clipped to [epsilon, 1 - epsilon] before the logarithms, so the loss and its gradient stay
 * finite when the sigmoid saturates. w is the optional per-pixel weight map (the U-Net paper's
 * border weights, train/weight-map.ts); it weights the cross-entropy only, and the sum is
 * divided by the pixel count, not by the weights' sum, so that the loss of a batch is the mean of
 * the losses of its images. That makes the loss (and its gradient) decomposable over images,
 * which the data-parallel engine relies on: two workers computing half a batch each, averaged,
 * give the loss of the whole batch. Dice is per image for the same reason.
 *
 * Unlabelled pixels (`--ignore`): a target below 0 (IGNORED_TARGET, train/batch.ts) marks a pixel
 * that counts in neither term. Each image's BCE is then its weighted sum over the counted pixels
 * divided by their number, and Dice sums over the counted pixels only, so the loss of an image
 * with ignored pixels equals the loss of the same image with those pixels cut out, and the
 * gradient at an ignored pixel is exactly zero. Without ignored pixels this is the formula above.
 */
import type * as tfType from '@tensorflow/tfjs';

export interface LossOptions {
  /** Weight of the binary cross-entropy term. Default 1. */
  bceWeight?: number;
  /** Weight of the soft Dice term (1 - Dice). Default 1. */
  diceWeight?: number;
  /** Added to the numerator and denominator of Dice, so empty images are well-defined. Default 1. */
  smooth?: number;
  /** Probabilities are clipped to [epsilon, 1 - epsilon] inside the logarithms. Default 1e-7. */
  epsilon?: number;
}

export type ResolvedLossOptions = Required<LossOptions>;

export const LOSS_DEFAULTS: ResolvedLossOptions = { bceWeight: 1, diceWeight: 1, smooth: 1, epsilon: 1e-7 };

export function resolveLossOptions(options: LossOptions = {}): ResolvedLossOptions {
  const resolved = { ...LOSS_DEFAULTS };
  for (const key of Object.keys(LOSS_DEFAULTS) as (keyof LossOptions)[]) {
    const value = options[key];
    if (value === undefined) continue;
    if (!Number.isFinite(value) || value < 0) throw new RangeError(`loss.${key}: expected a finite number >= 0, found ${value}`);
    resolved[key] = value;
  }
  if (resolved.epsilon >= 0.5) throw new RangeError(`loss.epsilon: expected a number below 0.5, found ${resolved.epsilon}`);
  if (resolved.bceWeight === 0 && resolved.diceWeight === 0) throw new RangeError('loss: bceWeight and diceWeight are both 0');
  return resolved;
}

/**
 * Scalar loss of probabilities `p` against targets `t` (both [N, H, W, 1]; 1 cell interior, 0
 * membrane, below 0 ignored), with optional
 * per-pixel `weights` of the same shape. Call inside tf.tidy or a gradient function.
 */
export function segmentationLoss(
  tf: typeof tfType,
  p: tfType.Tensor,
  t: tfType.Tensor,
  weights: tfType.Tensor | undefined,
  options: LossOptions = {},
): tfType.Scalar {
  const { bceWeight, diceWeight, smooth, epsilon } = resolveLossOptions(options);
  const n = p.shape[0] ?? 1;
  // 1 where the pixel counts, 0 where its target marks it ignored; ignored targets become 0.
  const counted = tf.cast(tf.greaterEqual(t, 0), 'float32');
  const target = tf.mul(t, counted);
  const countedPerImage = tf.maximum(tf.sum(tf.reshape(counted, [n, -1]), 1), 1);
  let loss = tf.scalar(0);
  if (bceWeight > 0) {
    const pc = tf.clipByValue(p, epsilon, 1 - epsilon);
    const perPixel = tf.neg(tf.add(tf.mul(target, tf.log(pc)), tf.mul(tf.sub(1, target), tf.log(tf.sub(1, pc)))));
    const weighted = tf.mul(weights === undefined ? perPixel : tf.mul(perPixel, weights), counted);
    const perImage = tf.div(tf.sum(tf.reshape(weighted, [n, -1]), 1), countedPerImage);
    loss = tf.add(loss, tf.mul(bceWeight, tf.mean(perImage)));
  }
  if (diceWeight > 0) {
    const p2 = tf.reshape(tf.mul(p, counted), [n, -1]);
    const t2 = tf.reshape(target, [n, -1]);
    const intersection = tf.sum(tf.mul(p2, t2), 1);
    const total = tf.add(tf.sum(p2, 1), tf.sum(t2, 1));
    const dice = tf.div(tf.add(tf.mul(2, intersection), smooth), tf.add(total, smooth));
    loss = tf.add(loss, tf.mul(diceWeight, tf.sub(1, tf.mean(dice))));
  }
  return loss as tfType.Scalar;
}
