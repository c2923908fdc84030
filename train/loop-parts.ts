/**
 * The pieces the training loop drives, behind one small interface so that the loop reads as the
 * algorithm and tests can inject fakes: the compute engine (train/engine.ts), the batch sampler
 * (train/dataset.ts), its seeded PRNG (core/random.ts) and the validation scorer (engine.predict
 * on whole slices, then core/metrics scoreSlices).
 */
import type { TrainBatch } from './batch.ts';
import type { TrainConfig } from './config.ts';
import type { StepOptions } from './engine.ts';

/** The subset of the training engine the loop uses. */
export interface LoopEngine {
  readonly backend: string;
  readonly report?: unknown;
  /** Data-parallel workers (floating-point sums, hence exact results, depend on their number). */
  readonly workers?: number;
  step(batch: TrainBatch, learningRate: number, options?: StepOptions): Promise<{ loss: number }> | { loss: number };
  predict(images: Float32Array, n: number, height: number, width: number): Promise<Float32Array> | Float32Array;
  saveState(): unknown;
  loadState(state: any): unknown;
  /** Writes the tfjs Layers model into `dir`, atomically. */
  saveLayersModel(dir: string): Promise<unknown> | unknown;
  dispose(): Promise<void> | void;
}

export interface LoopRng {
  getState(): unknown;
  setState(state: unknown): void;
}

export interface LoopDataset<R extends LoopRng = LoopRng> {
  sampleBatch(rng: R): TrainBatch;
}

/**
 * Validation figures: V_rand and V_info each at its own best threshold (`threshold` is V_rand's;
 * V_info's may differ), the rest at `atThreshold`.
 */
export interface ValidationScores {
  vRand: number;
  vInfo: number;
  threshold: number;
  atThreshold: number;
  vRandAtThreshold: number;
  vInfoAtThreshold: number;
  pixelError: number;
  dice: number;
  iou: number;
}

export interface TrainingParts {
  engine: LoopEngine;
  dataset: LoopDataset<any>;
  createRng(seed: number): LoopRng;
  scoreValidation(): Promise<ValidationScores>;
  /** Options of the engine step with zero-based index `step` (e.g. a frozen encoder while fine-tuning). */
  stepOptions?(step: number): StepOptions;
  /** Facts recorded in config.json and from there in the model card (parent model, data sources). */
  provenance?: Record<string, unknown>;
  dispose(): Promise<void> | void;
}

/** Opens the real parts for a config: reads the stacks, builds the dataset and the engine. */
export async function openTrainingParts(config: TrainConfig): Promise<TrainingParts> {
  const { openRealTrainingParts } = await import('./loop-parts-real.ts');
  return openRealTrainingParts(config);
}
