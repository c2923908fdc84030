/**
 * `npm run bench:load -- [options]` (`--help` lists them, from BENCH): the server under mixed
 * load, over loopback only, bounded in time.
 *
 * 1. Starts `emseg serve` as a child process (the settings from the environment, --ep default cpu,
 *    and glibc's MALLOC_MMAP_THRESHOLD_ as the image sets it unless the environment has one) on
 *    127.0.0.1 at a free port, and waits for /readyz.
 * 2. `--concurrency` clients, each on its own keep-alive connection (node:http Agent, one socket),
 *    send requests back to back for `--duration` seconds: a 512x512 ISBI slice as PNG, or (every
 *    1/`--bad`-th request of all) a bad input in turn from the hostile corpus's quick kinds (415 before
 *    the body is read, 400 from the query, 422 corrupt TIFF, 413 over the pixel limit), pixelSize
 *    abuse (hex, out of range: 400; a 512x512 slice at 64 nm, 8192x8192 for the model: 413) and a
 *    62 KB zlib-bomb PNG of 8000x8000 (413/503 by estimated cost, or 200 where the machine can
 *    finish it within the timeout). Beside them, `--stalled` uploads send one chunk of a chunked
 *    body and then nothing, keeping their sockets half-open: each holds the largest body of the
 *    body budget until the server's 408 (120 s), then a new one starts. After the load the bench
 *    waits (up to `--stalled-wait` seconds) for the uploads still open to get their answer, so
 *    every stalled upload's 408 is counted. A prober sends GET /healthz every 200 ms on its own
 *    connection during the load: the event loop's responsiveness.
 * 3. Samples the server's RSS (/proc/<pid>/status) every second; after the load (and the stalled
 *    uploads), waits `--settle` seconds and samples once more.
 * 4. Prints requests sent, answered by status, lost (no answer: must be 0), p50/p99 latency of
 *    the good requests and of /healthz, RSS first/peak/after settling, and the machine load.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { connect, createServer } from 'node:net';
import { encodePng } from '../node/png.ts';
import { defineBench, integerOption, numberOption, runWithArgs, textOption, type BenchArgs } from './shared/args.ts';
import { benchSlice } from './shared/bench-slice.ts';
import { percentile } from './shared/figures.ts';
import { uptime } from './shared/machine.ts';
import { buildTiff, greyPage } from './shared/raw-tiff.ts';
import { GLIBC_MEMORY_RETURN_ENV } from '../serve/memory-return.ts';

export const BENCH = defineBench('load', 'the server under mixed load (good slices, bad inputs, stalled uploads), over loopback only, bounded in time', {
  duration: numberOption('seconds', 'seconds of load', 60, { min: 0, minExclusive: true, max: 600 }),
  concurrency: integerOption('n', 'keep-alive clients sending back to back', 16, { min: 1 }),
  bad: numberOption('share', 'share of bad inputs', 0.05, { min: 0, minExclusive: true, max: 1 }),
  stalled: integerOption('n', 'chunked uploads that send one chunk and stall, each holding the largest body of the body budget until its 408 (0 = none)', 2, { min: 0 }),
  'stalled-wait': numberOption('seconds', 'after the load, how long to wait for the stalled uploads still open to be answered (the server answers 408 after its 120 s request timeout)', 130, { min: 0, max: 600 }),
  settle: numberOption('seconds', 'after the load, seconds before the last RSS sample (memory given back?)', 60, { min: 0, max: 600 }),
  model: textOption('file.onnx', 'ONNX model', undefined, "emseg serve's"),
});
type LoadArgs = BenchArgs<typeof BENCH.options>;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

function rssMb(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) / 1024 : Number.NaN;
}

interface Shot {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: Uint8Array;
  /** The statuses this shot may get. */
  expect: readonly number[];
}

function send(base: string, agent: Agent, shot: Shot): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(`${base}${shot.path}`, { method: shot.method, agent, headers: shot.headers }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode!));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(shot.body);
  });
}

/**
 * A chunked upload that sends one chunk and then nothing, its socket kept half-open (it does not
 * close after the server's answer): resolves with the first status line the server sends (408
 * when its request timeout cuts the upload off), or 0 when `stop` ends it first.
 */
function stalledUpload(port: number, stop: AbortSignal): Promise<number> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1', allowHalfOpen: true });
    let text = '';
    const done = () => {
      socket.destroy();
      resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0));
    };
    socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
    socket.on('end', done);
    socket.on('error', done);
    stop.addEventListener('abort', done, { once: true });
    socket.write('POST /v1/segment HTTP/1.1\r\nHost: bench\r\nContent-Type: image/png\r\nTransfer-Encoding: chunked\r\n\r\n400\r\n');
    socket.write(Buffer.alloc(0x400));
    socket.write('\r\n');
  });
}

export function runBench(argv: readonly string[]): Promise<number> {
  return runWithArgs(BENCH, argv, load);
}

async function load(args: LoadArgs): Promise<number> {
  const png = await encodePng(await benchSlice());
  const pixels = new Uint8Array(64 * 64).fill(90);
  const zlibBomb = await encodePng({ width: 8000, height: 8000, data: new Uint8Array(8000 * 8000) });
  const bad: Shot[] = [
    { method: 'POST', path: '/v1/segment', headers: { 'Content-Type': 'text/plain' }, body: png, expect: [415] },
    { method: 'POST', path: '/v1/segment?output=bogus', headers: { 'Content-Type': 'image/png' }, body: png, expect: [400] },
    { method: 'POST', path: '/v1/segment', headers: { 'Content-Type': 'image/tiff' }, body: buildTiff(pixels, [{ ...greyPage(64, 64, { offsets: [8], counts: [pixels.length], rows: 64 }), 277: { type: 3, values: [0] } }]), expect: [422] },
    { method: 'POST', path: '/v1/segment', headers: { 'Content-Type': 'image/tiff' }, body: buildTiff(new Uint8Array(16), [greyPage(100_000, 100_000, { offsets: [8], counts: [16], rows: 100_000 })]), expect: [413] },
    // pixelSize abuse: hex, out of range, and a rescaled size over the pixel limit (400 when the card has no trainingPixelSize).
    { method: 'POST', path: '/v1/segment?pixelSize=0x10', headers: { 'Content-Type': 'image/png' }, body: png, expect: [400] },
    { method: 'POST', path: '/v1/segment?pixelSize=20000', headers: { 'Content-Type': 'image/png' }, body: png, expect: [400] },
    { method: 'POST', path: '/v1/segment?pixelSize=64', headers: { 'Content-Type': 'image/png' }, body: png, expect: [413, 400] },
    // 62 KB, 8000x8000: refused by its estimated cost, unless this machine can finish it in time.
    { method: 'POST', path: '/v1/segment', headers: { 'Content-Type': 'image/png' }, body: zlibBomb, expect: [413, 503, 200] },
  ];
  const good: Shot = { method: 'POST', path: '/v1/segment', headers: { 'Content-Type': 'image/png' }, body: png, expect: [200] };

  const port = await freePort();
  const child = spawn(process.execPath, ['bin/emseg.js', 'serve', '--host', '127.0.0.1', '--port', String(port), ...(args.model ? ['--model', args.model] : [])], {
    // As the image runs it (Dockerfile ENV): glibc gives big freed buffers back (serve/memory-return.ts).
    env: { ...GLIBC_MEMORY_RETURN_ENV, ...process.env, EMSEG_EP: process.env.EMSEG_EP ?? 'cpu' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let serverLog = '';
  child.stderr.on('data', (chunk: Buffer) => (serverLog += chunk.toString()));
  const base = `http://127.0.0.1:${port}`;
  try {
    const readyBy = Date.now() + 120_000;
    for (;;) {
      const status = await send(base, new Agent(), { method: 'GET', path: '/readyz', headers: {}, body: new Uint8Array(0), expect: [200] }).catch(() => 0);
      if (status === 200) break;
      if (Date.now() > readyBy || child.exitCode !== null) throw new Error(`the server did not get ready:\n${serverLog}`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    const rss: number[] = [rssMb(child.pid!)];
    const sampler = setInterval(() => rss.push(rssMb(child.pid!)), 1000);
    const counts = new Map<string, number>();
    const latencies: number[] = [];
    let sent = 0;
    let lost = 0;
    let unexpected = 0;
    let badTurn = 0;
    const lostReasons = new Map<string, number>();
    const unexpectedShots = new Map<string, number>();
    const endAt = performance.now() + args.duration * 1000;
    // Stalled uploads beside the clients, one after the other in each of --stalled lanes.
    const stopStalling = new AbortController();
    const stalledAnswers = new Map<number, number>();
    let stalledOpened = 0;
    let stalledUnanswered = 0;
    const staller = async () => {
      while (performance.now() < endAt && !stopStalling.signal.aborted) {
        stalledOpened += 1;
        const status = await stalledUpload(port, stopStalling.signal);
        if (status) stalledAnswers.set(status, (stalledAnswers.get(status) ?? 0) + 1);
        else stalledUnanswered += 1;
      }
    };
    const stallers = Array.from({ length: args.stalled }, staller);
    // /healthz every 200 ms on its own connection while the clients run.
    const healthLatencies: number[] = [];
    let healthFailures = 0;
    const prober = async () => {
      const agent = new Agent({ keepAlive: true, maxSockets: 1 });
      const probe: Shot = { method: 'GET', path: '/healthz', headers: {}, body: new Uint8Array(0), expect: [200] };
      while (performance.now() < endAt) {
        const sentAt = performance.now();
        const status = await send(base, agent, probe).catch(() => 0);
        if (status === 200) healthLatencies.push(performance.now() - sentAt);
        else healthFailures += 1;
        await new Promise((resolve) => setTimeout(resolve, Math.max(0, 200 - (performance.now() - sentAt))));
      }
      agent.destroy();
    };
    const probing = prober();
    const badEvery = Math.max(1, Math.round(1 / args.bad)); // every 20th request at 5 %: exactly the share asked
    const client = async () => {
      const agent = new Agent({ keepAlive: true, maxSockets: 1 });
      while (performance.now() < endAt) {
        sent += 1;
        const shot = sent % badEvery === 0 ? bad[badTurn++ % bad.length]! : good;
        const started = performance.now();
        try {
          const status = await send(base, agent, shot);
          counts.set(String(status), (counts.get(String(status)) ?? 0) + 1);
          if (!shot.expect.includes(status)) {
            unexpected += 1;
            unexpectedShots.set(`${shot.path} -> ${status}`, (unexpectedShots.get(`${shot.path} -> ${status}`) ?? 0) + 1);
          }
          if (shot === good && status === 200) latencies.push(performance.now() - started);
        } catch (error) {
          lost += 1;
          const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
          lostReasons.set(reason, (lostReasons.get(reason) ?? 0) + 1);
        }
      }
      agent.destroy();
    };
    const started = performance.now();
    await Promise.all(Array.from({ length: args.concurrency }, client));
    const seconds = (performance.now() - started) / 1000;
    await probing;
    // The uploads still stalled get their 408 within the server's request timeout: wait for it.
    const stalledGiveUp = setTimeout(() => stopStalling.abort(), args['stalled-wait'] * 1000);
    await Promise.all(stallers);
    clearTimeout(stalledGiveUp);
    clearInterval(sampler);
    await new Promise((resolve) => setTimeout(resolve, args.settle * 1000));
    const last = rssMb(child.pid!);
    latencies.sort((a, b) => a - b);
    healthLatencies.sort((a, b) => a - b);
    const statuses = [...counts].sort().map(([status, n]) => `${status}: ${n}`).join(', ');
    const out = (line: string) => process.stdout.write(`${line}\n`);
    out(`bench:load, ${args.concurrency} keep-alive connections, ${(args.bad * 100).toFixed(0)} % bad inputs, ${seconds.toFixed(0)} s, loopback`);
    out(`requests sent: ${sent} (${(sent / seconds).toFixed(1)}/s); answered: ${statuses}; unexpected status: ${unexpected}${unexpected ? ` (${[...unexpectedShots].map(([k, n]) => `${k}: ${n}`).join(', ')})` : ''}`);
    const stalledStatuses = [...stalledAnswers].map(([status, n]) => `${status}: ${n}`).join(', ') || 'none';
    out(`stalled uploads: ${stalledOpened} opened in ${args.stalled} lane(s); answered: ${stalledStatuses}; unanswered after waiting ${args['stalled-wait']} s: ${stalledUnanswered}`);
    out(`requests lost: ${lost}${lost ? ` (${[...lostReasons].map(([r, n]) => `${r}: ${n}`).join(', ')})` : ''}`);
    out(`good requests: p50 ${percentile(latencies, 50).toFixed(0)} ms, p99 ${percentile(latencies, 99).toFixed(0)} ms`);
    out(`/healthz during the load: ${healthLatencies.length} answered, p50 ${percentile(healthLatencies, 50).toFixed(0)} ms, p99 ${percentile(healthLatencies, 99).toFixed(0)} ms, max ${(healthLatencies.at(-1) ?? Number.NaN).toFixed(0)} ms; failed: ${healthFailures}`);
    const memorySettings = ['EMSEG_MEMORY_ARENA', ...Object.keys(GLIBC_MEMORY_RETURN_ENV)].map((name) => `${name}=${process.env[name] ?? GLIBC_MEMORY_RETURN_ENV[name] ?? '(default)'}`);
    out(`server RSS: first ${rss[0]!.toFixed(0)} MB, peak ${Math.max(...rss, last).toFixed(0)} MB, ${last.toFixed(0)} MB ${args.settle} s after the load (${memorySettings.join(', ')})`);
    out(`machine: ${uptime()}`);
    const errors = serverLog.split('\n').filter((line) => / error /.test(line));
    if (errors.length) out(`server log errors: ${errors.length}, first: ${errors[0]}`);
    return lost === 0 && unexpected === 0 && healthFailures === 0 ? 0 : 1;
  } finally {
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
  }
}
