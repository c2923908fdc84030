/**
 * The one reader of a training run's record on disk: the `config.json` that `emseg train` writes
 * into its output folder (and `emseg convert` copies beside the model as `<name>.train-config.json`).
 * Every reader goes through it: `emseg train --resume` (the saved options), `emseg convert` (the
 * card's training facts) and `emseg evaluate` (the report, the training pixel size). The record is
 * checked by core/training-run.ts's schema: a bad file is one E_CORRUPT line naming it and each bad
 * field, e.g. `runs/x/config.json: not a training run record of emseg train: config.model.depth:
 * expected a number, found "4"`.
 */
import { readFileSync } from 'node:fs';
import { EmsegError } from '../core/errors.ts';
import { parseTrainingRunJson, type TrainingRun } from '../core/training-run.ts';

/** Reads and checks a run's config.json; E_NOT_FOUND when it does not exist, E_CORRUPT when it is not a run record. */
export function readTrainingRun(path: string): TrainingRun {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new EmsegError('E_NOT_FOUND', `${path}: no such file`, { cause: error });
    throw new EmsegError('E_BAD_ARGUMENT', `${path}: cannot read the training run record (${code ?? (error as Error).message})`, { cause: error });
  }
  return parseTrainingRunJson(text, path);
}
