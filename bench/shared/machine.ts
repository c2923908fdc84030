/**
 * What the benchmarks say about the machine beside their figures: its load, since a shared
 * machine's speed drifts with the other work on it.
 */
import { execFileSync } from 'node:child_process';
import { loadavg } from 'node:os';

/** The 1, 5 and 15 minute load averages: "1.92, 1.40, 1.10". */
export function loadAverage(): string {
  return loadavg().map((x) => x.toFixed(2)).join(', ');
}

/** `uptime`'s line (time, users, load average), or the load averages where it is missing. */
export function uptime(): string {
  try {
    return execFileSync('uptime', { encoding: 'utf8' }).trim();
  } catch {
    return `load average: ${loadAverage()}`;
  }
}
