/**
 * Leftovers of interrupted writes (node/atomic-write.ts, node/leftovers.ts): the temp file of a
 * writer proven gone (this host, this PID namespace, its pid free or reused) is removed at the next
 * write into its folder; a temp file of another host, pod or PID namespace of a shared store, or of
 * the older pid-only spelling, only once it is older than FOREIGN_TEMP_FILE_AGE_MS; live writers'
 * temp files and completed outputs stay (issue 26, item 3: a sweep by pid alone unlinked the
 * in-flight file of a shard writer in another PID namespace, which then crashed with ENOENT).
 */
import { existsSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { createInterface } from 'node:readline';
import { describe, expect, it } from 'vitest';
import { FOREIGN_TEMP_FILE_AGE_MS, removeStaleTempFiles, tempPathFor, writeFileAtomic } from '../node/atomic-write.ts';
import { currentWriter, parseLeftover, writerState, writerTag } from '../node/leftovers.ts';
import { tempDir } from './helpers/temp-dir.ts';

/** The pid of a process that has exited. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
  return Number(child.stdout.toString());
}

/** Start ticks of a running process (field 22 of /proc/<pid>/stat). */
function startTicks(pid: number): number {
  const stat = spawnSync('cat', [`/proc/${pid}/stat`]).stdout.toString();
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
}

const twoDaysAgo = (Date.now() - 2 * FOREIGN_TEMP_FILE_AGE_MS) / 1000;

describe('leftover temp files', () => {
  it('names its temp files after the whole writer, read back by parseLeftover', () => {
    const temp = tempPathFor('/store/0/0/1');
    const name = temp.slice('/store/0/0/'.length);
    expect(name).toMatch(new RegExp(`^\\.1\\.${writerTag()}\\.[0-9a-f]{8}\\.tmp$`));
    expect(parseLeftover(name)).toEqual({ name: '1', source: 'temp-file', pid: process.pid, writer: currentWriter() });
  });

  it('removes the temp file of a writer proven gone at the next write; live and foreign ones stay until old', async () => {
    const folder = tempDir('emseg-leftovers-');
    const self = currentWriter();
    const dead = `.mask.png.${writerTag({ ...self, pid: deadPid(), startTicks: 123 })}.0badf00d.tmp`;
    const reused = `.mask.png.${writerTag({ ...self, pid: process.ppid, startTicks: startTicks(process.ppid) + 1 })}.0badf00d.tmp`;
    const live = `.mask.png.${writerTag({ ...self, pid: process.ppid, startTicks: startTicks(process.ppid) })}.cafebabe.tmp`;
    const otherHost = `.mask.png.${writerTag({ ...self, host: 'pod-b', pid: 1 })}.cafebabe.tmp`;
    const otherNamespace = `.mask.png.${writerTag({ ...self, pidNamespace: self.pidNamespace + 1, pid: deadPid() })}.cafebabe.tmp`;
    const olderSpelling = `.mask.png.${deadPid()}.0badf00d.tmp`;
    const untouched = ['mask.png', '.notes.tmp', 'slice.0badf00d.tmp'];
    for (const name of [dead, reused, live, otherHost, otherNamespace, olderSpelling, ...untouched]) writeFileSync(join(folder, name), '');
    await writeFileAtomic(join(folder, 'other.png'), 'x');
    const young = [live, otherHost, otherNamespace, olderSpelling];
    expect(readdirSync(folder).sort()).toEqual([...young, ...untouched, 'other.png'].sort());
    // Foreign and older-spelling temp files go once they have not been written for a day; a running writer's never.
    for (const name of young) utimesSync(join(folder, name), twoDaysAgo, twoDaysAgo);
    expect((await removeStaleTempFiles(folder)).sort()).toEqual([otherHost, otherNamespace, olderSpelling].sort());
    expect(readdirSync(folder).sort()).toEqual([live, ...untouched, 'other.png'].sort());
  });

  it('never proves a writer of another host or namespace gone or running; itself runs', () => {
    const self = currentWriter();
    expect(writerState({ ...self, host: 'other' })).toBe('unknown');
    expect(writerState({ ...self, pidNamespace: self.pidNamespace + 1, pid: deadPid() })).toBe('unknown');
    expect(writerState(self)).toBe('running');
    expect(writerState({ ...self, pid: deadPid() })).toBe('gone');
  });
});

/** Whether this process may make PID namespaces (root, util-linux unshare). */
const unshareWorks = spawnSync('unshare', ['--pid', '--fork', '--mount-proc', 'true']).status === 0;

describe.skipIf(!unshareWorks)('two writers in different PID namespaces on one store', () => {
  it('a sweep from one namespace leaves the other writer its in-flight temp file, and that writer finishes', async () => {
    const folder = tempDir('emseg-pidns-');
    // A pid free in this namespace: the writer in the new namespace gets it (pids there count up
    // from 1), so a sweep by pid alone would find it not running and unlink the writer's file.
    let freePid = 300;
    while (existsSync(`/proc/${freePid}`)) freePid += 1;
    const writer = join(tempDir('emseg-pidns-writer-'), 'writer.mts');
    writeFileSync(
      writer,
      `import { rename, writeFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { tempPathFor } from ${JSON.stringify(join(process.cwd(), 'node/atomic-write.ts'))};
const temp = tempPathFor(${JSON.stringify(join(folder, 'chunk'))});
await writeFile(temp, 'pixels');
console.log(process.pid + ' ' + temp);
for await (const _line of createInterface({ input: process.stdin })) break;
await rename(temp, ${JSON.stringify(join(folder, 'chunk'))});
console.log('renamed');
`,
    );
    // pid 1 is sh; /bin/true takes pids 2 .. freePid - 1; the writer gets freePid.
    const script = `i=2; while [ $i -lt ${freePid} ]; do /bin/true; i=$((i+1)); done; ${JSON.stringify(process.execPath)} --import tsx ${JSON.stringify(writer)}`;
    const child = spawn('unshare', ['--pid', '--fork', '--mount-proc', 'sh', '-c', script], { stdio: ['pipe', 'pipe', 'inherit'] });
    const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
    const [pid, temp] = String((await lines.next()).value).split(' ');
    expect(Number(pid)).toBe(freePid);
    expect(existsSync(`/proc/${pid}`)).toBe(false); // from here, that pid runs nothing
    // This process writes into the same store: its sweep must not take the other writer's file.
    await writeFileAtomic(join(folder, 'other-chunk'), 'x');
    expect(await removeStaleTempFiles(folder)).toEqual([]);
    expect(existsSync(temp!)).toBe(true);
    child.stdin!.end('go\n');
    expect((await lines.next()).value).toBe('renamed');
    await new Promise((resolve) => child.on('close', resolve));
    expect(readdirSync(folder).sort()).toEqual(['chunk', 'other-chunk']);
  }, 60_000);
});
