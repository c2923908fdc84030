/**
 * What `emseg evaluate` is asked (EvaluateOptions: the CLI's flags as a function's options) and
 * where it prints (EvaluateIO): the types runEvaluation (run-evaluation.ts) and the labels-file
 * evaluation (label-file-evaluation.ts) both take.
 */
export interface EvaluateOptions {
  /** The models: .onnx files or tfjs Layers model folders; several are scored side by side. */
  models: readonly string[];
  /** Labelled images (stacks or folders, comma-separated lists of them). Default the ISBI training stack and its labels. */
  images?: string;
  labels?: string;
  /** Reported slices, e.g. '25-29'. Default: evaluate/labelled-slices.ts. */
  slices?: string;
  /** Slices that choose the threshold and the served variant. Default none. */
  selectSlices?: string;
  /** Label value of unlabelled pixels. Default none. */
  ignore?: number | null;
  tta?: boolean;
  shift?: boolean;
  /** Also label the reported slices with the model card's `cells` parameters and score the labels beside the masks. Default true. */
  cellLabels?: boolean;
  /** Threshold of the "at threshold" figures (not with selectSlices). Default each model's. */
  threshold?: number;
  /** The images' pixel size in nm (else the one their files state, else none): rescaled to each model's training pixel size. */
  pixelSize?: number;
  /** Invert the images' contrast before the models see them. Default false. */
  invert?: boolean;
  json?: string;
  /** One model only: the report, the montages, the training run it reads. */
  report?: string;
  montage?: string;
  testMontage?: string;
  testImages?: string;
  testSlices?: string;
  run?: string;
  shrink?: number;
  /** tfjs backend for tfjs folders; onnxruntime execution providers for .onnx files. */
  backend?: string;
  providers?: string;
  /** Replace outputs that exist. Default false (refused before any work). */
  force?: boolean;
  /** Score this labels file (e.g. of `emseg predict --output labels`) against `labels` instead of models (evaluate/label-file-evaluation.ts); no model and no model option then. */
  predictedLabels?: string;
  /** The command line, recorded in the JSON and the report. */
  command: string;
}

export interface EvaluateIO {
  stdout(text: string): void;
  stderr(text: string): void;
  /** Whether stderr is a terminal (progress redrawn in place). */
  tty: boolean;
}
