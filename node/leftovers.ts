/**
 * What a killed writer leaves behind, by name: the one table of leftover names, read by both
 * cleaners (node/atomic-write.ts's removeStaleTempFiles for temp files, node/atomic-dir.ts's
 * recoverInterruptedWrites for replaced folders), and the liveness check of the process that made one.
 */

/** Who leaves a leftover: writeFileAtomic's temp file, or a folder replacement (and its older spellings). */
export type LeftoverSource = 'temp-file' | 'temp-folder' | 'previous-folder';

export interface Leftover {
  /** The output the leftover belongs to (its name in the same folder). */
  name: string;
  source: LeftoverSource;
  /** The process that made it, when the name carries one (temp files and temp folders). */
  pid?: number;
}

const LEFTOVER_NAMES: { pattern: RegExp; source: LeftoverSource }[] = [
  // node/atomic-write.ts's temp files: .<name>.<pid>.<hex>.tmp
  { pattern: /^\.(?<name>.+)\.(?<pid>\d+)\.[0-9a-f]+\.tmp$/, source: 'temp-file' },
  // node/atomic-dir.ts's temp folder, and the older spellings of train/checkpoint.ts and train/engine-save.ts.
  { pattern: /^\.(?<name>.+)\.tmp-(?<pid>\d+)-\d+(?:-\d+)?(?:\.old)?$/, source: 'temp-folder' },
  { pattern: /^(?<name>[^.].*)\.tmp-(?<pid>\d+)-\d+$/, source: 'temp-folder' },
  // web-demo/build.ts's older staging and aside folders.
  { pattern: /^(?<name>.+)\.(?:building|old)-(?<pid>\d+)$/, source: 'temp-folder' },
  { pattern: /^\.(?<name>.+)\.previous$/, source: 'previous-folder' },
  { pattern: /^(?<name>[^.].*)\.previous$/, source: 'previous-folder' },
];

/** The leftover a folder entry is, or undefined for anything else (a completed output never matches). */
export function parseLeftover(entry: string): Leftover | undefined {
  for (const { pattern, source } of LEFTOVER_NAMES) {
    const groups = pattern.exec(entry)?.groups;
    if (!groups) continue;
    const pid = groups['pid'];
    return { name: groups['name']!, source, ...(pid !== undefined ? { pid: Number(pid) } : {}) };
  }
  return undefined;
}

/** Whether process `pid` runs (signal 0 probes without signalling; EPERM: alive, owned by someone else). */
export function processIsRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
