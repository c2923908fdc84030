/**
 * The training log: JSON Lines, one object per line, appended as training goes.
 *
 * - `{"type":"train", step, crops, loss, lr, cropsPerSecond, elapsedSeconds}`: one per window of
 *   `logEvery` steps (loss is the mean over the window, lr the rate of its last step);
 * - `{"type":"validation", step, crops, vRandBest, vInfoBest, bestThreshold, threshold, vRand, vInfo,
 *   pixelError, dice, iou, seconds, elapsedSeconds}` (core/evaluation.ts's names; with --init the
 *   first one is the parent's at step 0, marked `parent: true`; readLog also reads
 *   the older names, where vRand was the best over the sweep: core/training-run.ts normalizeValidationLine);
 * - `{"type":"event", event: "start"|"resume"|"stop"|"checkpoint", step, ...}`.
 *
 * A checkpoint stores the log's byte length; resuming truncates the log to it, so the log of a
 * resumed run holds the same train and validation lines as an uninterrupted run.
 */
import type { ValidationScores } from './loop-parts.ts';
import { normalizeValidationLine } from '../core/training-run.ts';
import { appendFileSync, existsSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';

export interface TrainLogLine {
  type: 'train';
  step: number;
  crops: number;
  loss: number;
  lr: number;
  cropsPerSecond: number;
  elapsedSeconds: number;
}

/** A validation: the scores named as core/evaluation.ts names them (see ValidationScores). */
export interface ValidationLogLine extends ValidationScores {
  type: 'validation';
  step: number;
  crops: number;
  seconds: number;
  elapsedSeconds: number;
  /** True for the `--init` model's validation at step 0, before fine-tuning (train/loop.ts). */
  parent?: true;
}

export interface EventLogLine {
  type: 'event';
  event: 'start' | 'resume' | 'stop' | 'checkpoint' | 'warning';
  step: number;
  [key: string]: unknown;
}

export type LogLine = TrainLogLine | ValidationLogLine | EventLogLine;

export class JsonlLog {
  readonly path: string;

  /** Opens the log; `truncateTo` (bytes) cuts it back to a checkpoint's position, undefined starts afresh. */
  constructor(path: string, truncateTo?: number) {
    this.path = path;
    if (truncateTo === undefined) writeFileSync(path, '');
    else if (!existsSync(path)) writeFileSync(path, '');
    else if (statSync(path).size > truncateTo) truncateSync(path, truncateTo);
  }

  append(line: LogLine): void {
    appendFileSync(this.path, `${JSON.stringify(line)}\n`);
  }

  /** Byte length, stored in checkpoints. */
  position(): number {
    return statSync(this.path).size;
  }
}

/** Reads a JSONL log; lines that do not parse (a torn last line) are skipped. */
export function readLog(path: string): LogLine[] {
  const lines: LogLine[] = [];
  for (const text of readFileSync(path, 'utf8').split('\n')) {
    if (!text.trim()) continue;
    try {
      lines.push(normalizeValidationLine(JSON.parse(text) as LogLine));
    } catch {
      // a line cut short by a crash: skip it
    }
  }
  return lines;
}
