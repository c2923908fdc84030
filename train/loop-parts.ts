/**
 * The pieces the training loop drives, behind one small interface so that the loop reads as the
 * algorithm and tests can inject fakes: the compute engine (train/engine.ts), the batch sampler
 * (train/dataset.ts), its seeded PRNG (core/random.ts) and the validation scorer (engine.predict
 * on whole slices, then core/metrics scoreSlices). The real ones are opened by
 * train/loop-parts-real.ts; the loop takes them injected (TrainRunOptions in train/loop.ts).
 */
import type { MetricsRow } from '../core/evaluation.ts';
import type { TrainBatch } from './batch.ts';
import type { TrainingEngine } from './engine.ts';

type Awaitable<T> = T | Promise<T>;
/** A method of TrainingEngine whose result the loop awaits, so a stand-in may also answer at once. */
type LooseMethod<F> = F extends (...args: infer A) => Promise<infer R> ? (...args: A) => Awaitable<R> : F;

/**
 * What the loop uses of the training engine (train/engine.ts's TrainingEngine): its step,
 * predict, saveLayersModel and dispose, results possibly synchronous; the report and the worker
 * count optional; the state opaque to the loop (it only stores it in checkpoints).
 */
export type LoopEngine = {
  [K in 'backend' | 'step' | 'predict' | 'saveLayersModel' | 'dispose']: LooseMethod<TrainingEngine[K]>;
} & {
  readonly report?: unknown;
  /** Data-parallel workers (floating-point sums, hence exact results, depend on their number). */
  readonly workers?: number;
  saveState(): Awaitable<unknown>;
  loadState(state: unknown): Awaitable<unknown>;
};

export interface LoopRng {
  getState(): unknown;
  setState(state: unknown): void;
}

export interface LoopDataset<R extends LoopRng = LoopRng> {
  sampleBatch(rng: R): TrainBatch;
}

/**
 * Validation figures, named as core/evaluation.ts names them (one meaning each): `vRandBest` at
 * `bestThreshold` and `vInfoBest` at its own threshold, best over the threshold sweep; `vRand`,
 * `vInfo`, pixel error, Dice and IoU at `threshold`.
 */
export type ValidationScores = Pick<MetricsRow, 'vRandBest' | 'vInfoBest' | 'bestThreshold' | 'threshold' | 'vRand' | 'vInfo' | 'pixelError' | 'dice' | 'iou'>;

export interface TrainingParts<R extends LoopRng = LoopRng> {
  engine: LoopEngine;
  dataset: LoopDataset<R>;
  createRng(seed: number): R;
  scoreValidation(): Promise<ValidationScores>;
  dispose(): Promise<void> | void;
}
