/**
 * Ctrl-C (and other stop signals) for the CLI's long jobs (`emseg train`, `emseg predict` of a
 * large image): the first signal aborts the job's AbortSignal, so that it stops at its next step
 * and leaves through its own clean-up; a second ends the process at once with 128 + the signal's
 * number (130 for SIGINT).
 *
 *   const stop = stopOnSignals(['SIGINT'], (signal) => { say(...); return reason; });
 *   try { await job({ signal: stop.signal }); } finally { stop.release(); }
 */
import { constants } from 'node:os';

export interface StopOnSignals {
  /** Aborted by the first signal, with the reason `onFirst` returned. */
  signal: AbortSignal;
  /** Removes the handlers (the process's default comes back). */
  release: () => void;
}

export function stopOnSignals(signals: readonly NodeJS.Signals[], onFirst: (signal: NodeJS.Signals) => unknown): StopOnSignals {
  const controller = new AbortController();
  const handler = (signal: NodeJS.Signals) => {
    if (controller.signal.aborted) process.exit(128 + constants.signals[signal]);
    controller.abort(onFirst(signal));
  };
  for (const signal of signals) process.on(signal, handler);
  return {
    signal: controller.signal,
    release: () => {
      for (const signal of signals) process.off(signal, handler);
    },
  };
}
