/**
 * Fine-tuning options of `emseg train`: `--init <model.onnx>` starts from an emseg ONNX model's
 * weights (train/init-from-onnx.ts) and changes the schedule's defaults to suit a model that is
 * already trained (a lower peak rate, a short warm-up); `--freeze-encoder-steps N` keeps the
 * contracting path (the `enc<l>_*` layers and the bottleneck) fixed for the first N steps, so that
 * the decoder adapts to the new data before the features it reads from move.
 */
import { EmsegError } from '../core/errors.ts';
import type { StepOptions } from './engine.ts';

export interface FineTuneConfig {
  /** ONNX model to start from, null = random initialization. Default null. */
  init: string | null;
  /** Steps at the start during which the encoder and bottleneck are not updated. Default 0. */
  freezeEncoderSteps: number;
}

export const FINE_TUNE_DEFAULTS: FineTuneConfig = { init: null, freezeEncoderSteps: 0 };

/** The schedule defaults that change with --init (explicit options always win). */
export const FINE_TUNE_SCHEDULE = {
  /** Peak learning rate: a third of training from scratch (1e-3). */
  learningRate: 3e-4,
  /** Warm-up steps (at most a tenth of the budget). */
  warmupSteps: 10,
} as const;


/** Checks the fine-tuning options; `steps` is the budget (freezing longer than it is an error). */
export function resolveFineTune(input: Partial<FineTuneConfig>, steps: number): FineTuneConfig {
  const init = input.init ?? null;
  if (init !== null && (typeof init !== 'string' || init.length === 0)) {
    throw new EmsegError('E_BAD_ARGUMENT', `init (--init): expected the path of an .onnx file, found ${JSON.stringify(init)}`);
  }
  const freeze = input.freezeEncoderSteps ?? 0;
  if (!Number.isInteger(freeze) || freeze < 0 || freeze > steps) {
    throw new EmsegError('E_BAD_ARGUMENT', `freezeEncoderSteps (--freeze-encoder-steps): expected an integer from 0 to the budget of ${steps} steps, found ${freeze}`);
  }
  if (freeze > 0 && init === null) {
    throw new EmsegError('E_BAD_ARGUMENT', 'freezeEncoderSteps (--freeze-encoder-steps): expected --init too (freezing random weights teaches nothing)');
  }
  return { init, freezeEncoderSteps: freeze };
}

/** Weights of the contracting path: `enc<l>_...` layers and the bottleneck. */
export function isEncoderWeight(name: string): boolean {
  return /^enc\d+_/.test(name) || name.startsWith('bottleneck_');
}

/** The engine's options for the step with zero-based index `step`. */
export function fineTuneStepOptions(config: FineTuneConfig, step: number): StepOptions {
  return step < config.freezeEncoderSteps ? { frozen: isEncoderWeight } : {};
}
