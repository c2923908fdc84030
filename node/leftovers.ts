/**
 * What a killed writer leaves behind, by name: the one table of leftover names, read by both
 * cleaners (node/atomic-write.ts's removeStaleTempFiles for temp files, node/atomic-dir.ts's
 * recoverInterruptedWrites for replaced folders), and the liveness check of the process that made one.
 *
 * A temp file's name carries its writer: host, PID namespace, pid and the process's start time
 * (`writerTag`). A pid alone proves nothing on shared storage: two machines, two pods (each one's
 * process is pid 1 in Kubernetes) or two PID namespaces on one NFS store see each other's pids as
 * dead or as someone else. A writer is proven gone only when it ran on this host in this PID
 * namespace and its pid is free or belongs to a process started at another time (`writerIsGone`).
 */
import { readFileSync, readlinkSync } from 'node:fs';
import { hostname } from 'node:os';

/** Who leaves a leftover: writeFileAtomic's temp file, or a folder replacement (and its older spellings). */
export type LeftoverSource = 'temp-file' | 'temp-folder' | 'previous-folder';

/** The process that wrote a temp file, as its name records it (`writerTag`). */
export interface Writer {
  /** os.hostname(), reduced to letters, digits and '-'. */
  host: string;
  /** The inode of the writer's PID namespace (/proc/self/ns/pid); 0 where there is no /proc. */
  pidNamespace: number;
  pid: number;
  /** The writer's start time in clock ticks after boot (/proc/self/stat); 0 where there is no /proc. */
  startTicks: number;
}

export interface Leftover {
  /** The output the leftover belongs to (its name in the same folder). */
  name: string;
  source: LeftoverSource;
  /** The process that made it, when the name carries one (temp files and temp folders). */
  pid?: number;
  /** The whole identity of its writer (temp files of this version; older names carry a pid only). */
  writer?: Writer;
}

const LEFTOVER_NAMES: { pattern: RegExp; source: LeftoverSource }[] = [
  // node/atomic-write.ts's temp files: .<name>.<host>_<pid namespace>_<pid>_<start ticks>.<hex>.tmp
  { pattern: /^\.(?<name>.+)\.(?<host>[A-Za-z0-9-]+)_(?<ns>\d+)_(?<pid>\d+)_(?<start>\d+)\.[0-9a-f]+\.tmp$/, source: 'temp-file' },
  // ... and their older spelling, which names a pid only: .<name>.<pid>.<hex>.tmp
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
    const host = groups['host'];
    const writer = host === undefined ? undefined : { host, pidNamespace: Number(groups['ns']), pid: Number(pid), startTicks: Number(groups['start']) };
    return { name: groups['name']!, source, ...(pid !== undefined ? { pid: Number(pid) } : {}), ...(writer ? { writer } : {}) };
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

/** A process's start time in clock ticks after boot (field 22 of /proc/<pid>/stat), or undefined. */
function startTicksOf(pid: number | 'self'): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    // The command name (field 2) may hold spaces and parentheses: count from its closing one.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[19]);
    return Number.isSafeInteger(ticks) ? ticks : undefined;
  } catch {
    return undefined;
  }
}

function pidNamespaceOfThisProcess(): number {
  try {
    return Number(/\[(\d+)\]/.exec(readlinkSync('/proc/self/ns/pid'))?.[1] ?? 0);
  } catch {
    return 0;
  }
}

let thisWriter: Writer | undefined;

/** This process as a writer (computed once). */
export function currentWriter(): Writer {
  thisWriter ??= {
    host: hostname().replace(/[^A-Za-z0-9-]+/g, '-').slice(0, 63) || 'host',
    pidNamespace: pidNamespaceOfThisProcess(),
    pid: process.pid,
    startTicks: startTicksOf('self') ?? 0,
  };
  return thisWriter;
}

/** The part of a temp file's name that names its writer: `<host>_<pid namespace>_<pid>_<start ticks>`. */
export function writerTag(writer: Writer = currentWriter()): string {
  return `${writer.host}_${writer.pidNamespace}_${writer.pid}_${writer.startTicks}`;
}

/** What this process can tell of a writer: proven gone, proven running, or unknown. */
export type WriterState = 'gone' | 'running' | 'unknown';

/**
 * Whether `writer` is proven gone (it ran on this host, in this PID namespace, and its pid is free
 * or now belongs to a process started at another time) or proven running (the same pid with the
 * same start time). A writer of another host or namespace cannot be checked here: 'unknown' (its
 * files wait for an age limit).
 */
export function writerState(writer: Writer, self: Writer = currentWriter()): WriterState {
  if (writer.host !== self.host || writer.pidNamespace !== self.pidNamespace) return 'unknown';
  if (self.pidNamespace === 0 || self.startTicks === 0) return processIsRunning(writer.pid) ? 'running' : 'gone'; // no /proc: the pid alone
  const ticks = writer.pid === self.pid ? self.startTicks : startTicksOf(writer.pid);
  return ticks === writer.startTicks ? 'running' : 'gone';
}
