/**
 * How many CPU threads inference should use: the physical cores this process may run on.
 *
 * onnxruntime's own default (intraOpNumThreads 0) counts physical cores with its CPU detection,
 * which can be wrong in a virtual machine: on a 2-vCPU AMD EPYC VM (2026-12-02) it made a pool of
 * one thread, so a session with the default ran at single-thread speed (175 ms per 512x512 slice
 * against 94 ms with 2 threads). The kernel's view is used instead: on Linux, the CPUs in
 * `Cpus_allowed_list` of /proc/self/status (taskset, cgroup cpusets), grouped by their
 * `topology/thread_siblings_list` (SMT siblings of one core count once); elsewhere, or when those
 * files cannot be read, os.availableParallelism().
 */
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';

/** Where the Linux files are read from (a test passes a folder laid out like /proc and /sys). */
export interface CoreFiles {
  procSelfStatus: string;
  sysCpuDir: string;
}

const LINUX_FILES: CoreFiles = { procSelfStatus: '/proc/self/status', sysCpuDir: '/sys/devices/system/cpu' };

/** CPU numbers of a Linux CPU list such as `0-3,8,10-11`; undefined when it does not parse. */
export function parseCpuList(text: string): number[] | undefined {
  const cpus: number[] = [];
  for (const part of text.trim().split(',')) {
    const match = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!match) return undefined;
    const first = Number(match[1]);
    const last = match[2] === undefined ? first : Number(match[2]);
    if (last < first || last - first > 65535) return undefined;
    for (let cpu = first; cpu <= last; cpu += 1) cpus.push(cpu);
  }
  return cpus.length > 0 ? cpus : undefined;
}

/** Physical cores among the CPUs this process may use, from Linux's files; undefined when they cannot be read. */
export function linuxPhysicalCores(files: CoreFiles = LINUX_FILES): number | undefined {
  let status: string;
  try {
    status = readFileSync(files.procSelfStatus, 'utf8');
  } catch {
    return undefined;
  }
  const allowedLine = /^Cpus_allowed_list:\s*(.+)$/m.exec(status);
  const allowed = allowedLine ? parseCpuList(allowedLine[1]!) : undefined;
  if (!allowed) return undefined;
  const cores = new Set<string>();
  for (const cpu of allowed) {
    try {
      const siblings = parseCpuList(readFileSync(join(files.sysCpuDir, `cpu${cpu}`, 'topology', 'thread_siblings_list'), 'utf8'));
      if (!siblings) return undefined;
      cores.add(siblings.join(','));
    } catch {
      return undefined;
    }
  }
  return cores.size;
}

let cached: number | undefined;

/** Threads for CPU inference on this machine (at least 1); computed once per process. */
export function inferenceCores(): number {
  cached ??= Math.max(1, Math.min(availableParallelism(), linuxPhysicalCores() ?? availableParallelism()));
  return cached;
}
