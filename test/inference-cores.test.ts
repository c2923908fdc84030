/**
 * node/inference-cores.ts: the CPU list and SMT-sibling parsing on fake /proc and /sys folders,
 * the fallback when they cannot be read, and that a CPU session really gets that many threads.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { inferenceCores, linuxPhysicalCores, parseCpuList } from '../node/inference-cores.ts';

const folders: string[] = [];
afterEach(() => {
  for (const folder of folders.splice(0)) rmSync(folder, { recursive: true, force: true });
});

/** A folder laid out like /proc/self/status and /sys/devices/system/cpu: `siblings[cpu]` is that CPU's thread_siblings_list. */
function fakeLinux(allowed: string, siblings: Record<number, string>): { procSelfStatus: string; sysCpuDir: string } {
  const root = mkdtempSync(join(tmpdir(), 'emseg-cores-'));
  folders.push(root);
  const procSelfStatus = join(root, 'status');
  writeFileSync(procSelfStatus, `Name:\tnode\nThreads:\t7\nCpus_allowed:\tff\nCpus_allowed_list:\t${allowed}\nMems_allowed_list:\t0\n`);
  const sysCpuDir = join(root, 'cpu');
  for (const [cpu, list] of Object.entries(siblings)) {
    mkdirSync(join(sysCpuDir, `cpu${cpu}`, 'topology'), { recursive: true });
    writeFileSync(join(sysCpuDir, `cpu${cpu}`, 'topology', 'thread_siblings_list'), `${list}\n`);
  }
  return { procSelfStatus, sysCpuDir };
}

describe('parseCpuList', () => {
  it('reads single CPUs and ranges', () => {
    expect(parseCpuList('0-3,8,10-11\n')).toEqual([0, 1, 2, 3, 8, 10, 11]);
    expect(parseCpuList('5')).toEqual([5]);
  });
  it('refuses what is not a CPU list', () => {
    expect(parseCpuList('')).toBeUndefined();
    expect(parseCpuList('3-1')).toBeUndefined();
    expect(parseCpuList('a,b')).toBeUndefined();
  });
});

describe('linuxPhysicalCores', () => {
  it('counts two vCPUs without SMT siblings as two cores (where onnxruntime counted one)', () => {
    expect(linuxPhysicalCores(fakeLinux('0-1', { 0: '0', 1: '1' }))).toBe(2);
  });
  it('counts SMT siblings of one core once', () => {
    expect(linuxPhysicalCores(fakeLinux('0-7', { 0: '0,4', 1: '1,5', 2: '2,6', 3: '3,7', 4: '0,4', 5: '1,5', 6: '2,6', 7: '3,7' }))).toBe(4);
    expect(linuxPhysicalCores(fakeLinux('0-3', { 0: '0-1', 1: '0-1', 2: '2-3', 3: '2-3' }))).toBe(2);
  });
  it('counts only the CPUs the process may use (taskset, cpusets)', () => {
    expect(linuxPhysicalCores(fakeLinux('2,5', { 2: '2,6', 5: '1,5', 6: '2,6' }))).toBe(2);
    expect(linuxPhysicalCores(fakeLinux('2,6', { 2: '2,6', 6: '2,6' }))).toBe(1);
  });
  it('gives up (undefined) when a file is missing or unreadable, so the caller falls back', () => {
    expect(linuxPhysicalCores(fakeLinux('0-1', { 0: '0' }))).toBeUndefined();
    expect(linuxPhysicalCores({ procSelfStatus: '/nonexistent/status', sysCpuDir: '/nonexistent' })).toBeUndefined();
    const garbled = fakeLinux('zero', { 0: '0' });
    expect(linuxPhysicalCores(garbled)).toBeUndefined();
  });
});

describe('inferenceCores', () => {
  it('is at least 1 and never more than the CPUs this process may use', () => {
    const cores = inferenceCores();
    expect(cores).toBeGreaterThanOrEqual(1);
    expect(cores).toBeLessThanOrEqual(availableParallelism());
    expect(inferenceCores()).toBe(cores);
  });
});

describe('CPU sessions get inferenceCores() intra-op threads', () => {
  const threadCount = () => readdirSync('/proc/self/task').length;
  it.runIf(existsSync('/proc/self/task'))('createSessionWithFallback on the CPU provider starts inferenceCores() - 1 pool threads, not onnxruntime\'s own count', async () => {
    const { tinyUNetOnnx } = await import('./helpers/tiny-unet-onnx.ts');
    const { createSessionWithFallback } = await import('../node/onnx-providers.ts');
    const model = await tinyUNetOnnx({ depth: 2, baseFilters: 4 });
    // A one-thread session first: whatever onnxruntime starts once per process is started by then.
    const first = await createSessionWithFallback(model.bytes, ['cpu'], { sessionOptions: { intraOpNumThreads: 1 } });
    const before = threadCount();
    const chosen = await createSessionWithFallback(model.bytes, ['cpu']);
    const added = threadCount() - before;
    await chosen.session.release();
    await first.session.release();
    expect(added).toBe(inferenceCores() - 1);
  });
});
