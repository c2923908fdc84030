/**
 * The options of `emseg train` for fine-tuning and for the researchers' own data (train/fine-tune.ts,
 * train/data-options.ts), declared here and spread into the command's arguments.
 */
import { badOption, type TrainConfigInput } from '../../train/config.ts';
import { FINE_TUNE_SCHEDULE } from '../../train/fine-tune.ts';

export const trainDataArgs = {
  init: { type: 'string', description: `Start from this emseg ONNX model's weights (fine-tuning: peak rate ${FINE_TUNE_SCHEDULE.learningRate} and ${FINE_TUNE_SCHEDULE.warmupSteps} warm-up steps unless given)` },
  'freeze-encoder-steps': { type: 'string', description: 'With --init: keep the encoder and bottleneck fixed for the first N steps. Default 0' },
  ignore: { type: 'string', description: 'Label value of unlabelled pixels (1-254), counted in neither loss nor metrics. Default none' },
  'invert-labels': { type: 'boolean', description: 'Labels have membranes = 255: swap the classes on reading' },
  'pixel-size': { type: 'string', description: "Pixel size of the data in nm; rescaled to the model's training pixel size (model card, 4 nm for ISBI). Default: no rescaling" },
} as const;

type RawArgs = Record<string, string | boolean | string[] | undefined>;

function numberOf(raw: RawArgs, flag: string, name: string): number | undefined {
  const value = raw[flag];
  if (value === undefined) return undefined;
  const text = String(value).trim();
  const parsed = Number(text);
  if (text === '' || !Number.isFinite(parsed)) throw badOption(name, 'a number', String(value));
  return parsed;
}

/** The config input of these options; only those given are set. */
export function trainDataInputFromArgs(raw: RawArgs): TrainConfigInput {
  const input: TrainConfigInput = {};
  if (typeof raw['init'] === 'string') input.init = raw['init'];
  const freeze = numberOf(raw, 'freeze-encoder-steps', 'freezeEncoderSteps');
  if (freeze !== undefined) input.freezeEncoderSteps = freeze;
  const ignore = numberOf(raw, 'ignore', 'ignore');
  if (ignore !== undefined) input.ignore = ignore;
  if (typeof raw['invert-labels'] === 'boolean') input.invertLabels = raw['invert-labels'];
  const pixelSize = numberOf(raw, 'pixel-size', 'pixelSize');
  if (pixelSize !== undefined) input.pixelSize = pixelSize;
  return input;
}
