/**
 * `npm run bench:serve -- [options]` (`--help` lists them, from BENCH): throughput of the
 * segmentation server against the bare session of the same model, in the same
 * process and run.
 *
 * 1. Loads the model in this thread for the bare runs (default models/isbi2012-unet.onnx; when
 *    absent, exports a default-size U-Net with random weights through the converter and says so)
 *    with --ep (default EMSEG_EP, else cpu).
 * 2. Starts the server (startServer, the settings from the environment as `emseg serve` reads them,
 *    the model in its inference worker as always) on 127.0.0.1, random port.
 * 3. At each concurrency, `--rounds` times: the bare tile predictor (one session.run per call, batch
 *    1, one ISBI slice normalized, 512x512) back to back for duration/rounds seconds, then autocannon
 *    POSTing the same slice as a PNG: about as many requests as the bare run did, at least one per
 *    connection, every answer awaited. Ratio = (server answers / server seconds) / (bare runs / bare
 *    seconds), over the totals of the rounds: alternating keeps a shared machine's drift out of it.
 * 4. Prints requests/s, p50/p99 latency, bare runs/s, the ratio, the server's session calls (and
 *    how many ran on the wide session for lone requests), the machine load.
 * 5. Latency: at concurrency 1, the server's median request latency against the median bare run
 *    (the bare session has onnxruntime's default threads: all the cores); then a 2048x2048 slice
 *    (the ISBI slice mirrored) sent alone `--large-requests` times, its median latency against the
 *    same segmentation in this process on the bare session (segmentImage with the card's options).
 * 6. Last lines: `latency ratio at concurrency 1: <bare / server>` and
 *    `throughput ratio at concurrency 4: <server / bare>`.
 */
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ModelCard } from '../core/contract.ts';
import { makeImage, type GreyImage } from '../core/image.ts';
import { normalizeSlice } from '../core/normalize.ts';
import { reflectIndex } from '../core/padding.ts';
import { segmentImage } from '../core/inference.ts';
import { segmentOptionsFromCard } from '../core/card-options.ts';
import { encodePng } from '../node/png.ts';
import type { ClosableModel, RunningServer } from '../serve/server.ts';
import { parseNumberText } from '../core/number-text.ts';
import { BenchArgumentError, defineBench, integerOption, listOption, numberOption, runWithArgs, textOption, type BenchArgs } from './shared/args.ts';
import { benchSlice } from './shared/bench-slice.ts';
import { median, percentile } from './shared/figures.ts';
import { uptime } from './shared/machine.ts';

export const BENCH = defineBench('serve', 'throughput and latency of the segmentation server against the bare session of the same model, in the same process and run', {
  model: textOption('file.onnx', 'ONNX model', undefined, 'models/isbi2012-unet.onnx; when absent, a default-size U-Net with random weights'),
  duration: numberOption('seconds', 'seconds of measuring per concurrency, bare and server together', 16, { min: 0, minExclusive: true }),
  rounds: integerOption('n', 'alternating pairs of a bare run and a server run per concurrency', 4, { min: 1 }),
  concurrency: listOption('list', 'connections to measure at, comma-separated (1 and 4 are always added)', [1, 4, 16], (text, flag) => parseNumberText(text, flag, { integer: true, min: 1 })),
  ep: textOption('providers', 'execution providers', process.env.EMSEG_EP ?? 'cpu', 'EMSEG_EP, else cpu'),
  'large-requests': integerOption('n', '2048x2048 requests sent alone after the load (0 = none)', 3, { min: 0 }),
});
type ServeBenchArgs = BenchArgs<typeof BENCH.options>;

/** The concurrencies measured: those asked for, with 1 and 4 (the last lines' ratios), ascending. */
function concurrencies(asked: readonly number[]): number[] {
  return [...new Set([...asked, 1, 4])].sort((a, b) => a - b);
}

/** A default-size U-Net (train/unet.ts defaults) with random weights, exported by the converter. */
async function exportRandomUNet(): Promise<string> {
  const tf = await (await import('../node/tfjs.ts')).importTfjs();
  const { buildUNet } = await import('../train/unet.ts');
  const { buildModelCard, modelCardMetadata } = await import('../convert/model-card.ts');
  const { exportLayersModel } = await import('../convert/tfjs-to-onnx.ts');
  await tf.setBackend('cpu');
  const model = buildUNet(tf, {});
  const card = buildModelCard(model, { name: 'bench-random-unet', description: 'default-size U-Net, random weights, for bench:serve' });
  const bytes = exportLayersModel(model, { graphName: card.name, metadata: modelCardMetadata(card) });
  const path = join(mkdtempSync(join(tmpdir(), 'emseg-bench-')), `${card.name}.onnx`);
  writeFileSync(path, bytes);
  model.dispose();
  return path;
}

/** Back-to-back predictor calls on one prepared 512x512 tile for `seconds`: calls per second. */
async function bareThroughput(
  model: ClosableModel,
  tile: Float32Array,
  seconds: number,
): Promise<{ perSecond: number; meanMs: number; runs: number; runMs: number[] }> {
  for (let i = 0; i < 2; i += 1) await model.predictor(tile, 1, 512, 512); // warm-up
  const started = performance.now();
  const runMs: number[] = [];
  while (performance.now() - started < seconds * 1000) {
    const runStarted = performance.now();
    await model.predictor(tile, 1, 512, 512);
    runMs.push(performance.now() - runStarted);
  }
  const elapsed = (performance.now() - started) / 1000;
  const runs = runMs.length;
  return { perSecond: runs / elapsed, meanMs: (elapsed * 1000) / runs, runs, runMs };
}

/** The slice mirrored to `size` x `size` (a large request made of real EM texture). */
function mirroredSlice(slice: GreyImage, size: number): GreyImage<Uint8Array> {
  const data = new Uint8Array(size * size);
  for (let y = 0; y < size; y += 1) {
    const row = reflectIndex(y, slice.height) * slice.width;
    for (let x = 0; x < size; x += 1) data[y * size + x] = Number(slice.data[row + reflectIndex(x, slice.width)]);
  }
  return makeImage(size, size, data);
}

/** Posts `png` alone `times` times (one after another); the latencies in ms. */
async function loneRequests(url: string, png: Uint8Array, times: number): Promise<number[]> {
  const latencies: number[] = [];
  for (let i = 0; i < times; i += 1) {
    const started = performance.now();
    const response = await fetch(`${url}/v1/segment`, { method: 'POST', headers: { 'content-type': 'image/png' }, body: Buffer.from(png) });
    await response.arrayBuffer();
    if (!response.ok) throw new Error(`the ${png.length}-byte request failed: ${response.status}`);
    latencies.push(performance.now() - started);
  }
  return latencies;
}

interface LoadRound {
  seconds: number;
  ok: number;
  failed: number;
  latenciesMs: number[];
}

/**
 * Sends `amount` requests over `concurrency` connections and waits for every answer. (A
 * fixed-duration run would cut the requests still in flight at its end and count their work as
 * lost, a bias of up to one service time.)
 */
async function loadRound(url: string, png: Uint8Array, concurrency: number, amount: number): Promise<LoadRound> {
  const { default: autocannon } = await import('autocannon');
  const latenciesMs: number[] = [];
  const started = performance.now();
  // autocannon notices the end on its once-a-second ticker: the round ends at its last answer.
  let lastAnswer = started;
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: `${url}/v1/segment`,
        method: 'POST',
        headers: { 'content-type': 'image/png' },
        body: Buffer.from(png),
        connections: concurrency,
        amount,
        timeout: 600,
      },
      (error, result) => {
        if (error) return reject(error);
        resolve({
          seconds: (lastAnswer - started) / 1000,
          ok: result['2xx'],
          failed: result.non2xx + result.errors + result.timeouts,
          latenciesMs,
        });
      },
    );
    instance.on('response', (_client: unknown, status: number, _bytes: number, ms: number) => {
      lastAnswer = performance.now();
      if (status >= 200 && status < 300) latenciesMs.push(ms);
    });
  });
}

/** Session calls made by the server so far: count, seconds in them, tiles through them (from its metrics). */
async function sessionCalls(server: RunningServer): Promise<{ count: number; seconds: number; tiles: number }> {
  const inference = await server.emseg.metrics.inferenceSeconds.get();
  const tiles = await server.emseg.metrics.batchTiles.get();
  const value = (metric: { values: { metricName?: string; value: number }[] }, name: string) =>
    metric.values.find((v) => v.metricName === name)?.value ?? 0;
  return {
    count: value(inference, 'emseg_inference_seconds_count'),
    seconds: value(inference, 'emseg_inference_seconds_sum'),
    tiles: value(tiles, 'emseg_batch_tiles_sum'),
  };
}

export function runBench(argv: readonly string[]): Promise<number> {
  return runWithArgs(BENCH, argv, bench);
}

async function bench(args: ServeBenchArgs): Promise<number> {
  // Loaded here, not at the top: `--help` stays quick.
  const { loadOnnxModel } = await import('../node/load-onnx-model.ts');
  const { resolveServeConfig } = await import('../serve/config.ts');
  const { startServer } = await import('../serve/server.ts');
  const options = { model: args.model, durationSeconds: args.duration, rounds: args.rounds, concurrency: concurrencies(args.concurrency), providers: args.ep, largeRequests: args['large-requests'] };
  const say = (line: string) => process.stdout.write(`${line}\n`);
  say(`bench:serve on ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown CPU'}), node ${process.version}`);
  say(`load before: ${uptime()}`);

  let modelPath = options.model ?? 'models/isbi2012-unet.onnx';
  if (!existsSync(modelPath)) {
    if (options.model) throw new BenchArgumentError(`--model ${options.model}: no such file`);
    say(`${modelPath} is absent: exporting a default-size U-Net with random weights through the converter (the throughput does not depend on the weights)`);
    modelPath = await exportRandomUNet();
  }
  const model: ClosableModel & { close?: () => Promise<void> | void } = await loadOnnxModel(modelPath, {
    providers: options.providers,
    log: (message: string) => say(`warning: ${message}`),
  });
  const card: ModelCard = model.card;
  say(`model ${modelPath} (${card.name}@${card.version}, depth ${card.architecture.depth}, ${card.architecture.baseFilters} base filters, ${card.architecture.parameters} parameters) on provider ${model.provider}`);

  const slice = await benchSlice();
  const png = await encodePng(slice.data instanceof Uint8Array ? slice : makeImage(512, 512, Uint8Array.from(slice.data)));
  const tile = normalizeSlice(slice);

  // The server loads the same file its own way (in its inference worker), as `emseg serve` does.
  const config = resolveServeConfig(process.env, { host: '127.0.0.1', port: 0, model: modelPath, providers: options.providers });
  const server = await startServer(config, {
    log: { info: (m) => (m.startsWith('inference:') ? say(`server ${m}`) : undefined), warn: () => {}, error: (m, e) => say(`error: ${m} ${String(e)}`) },
  });
  const servedModel = await server.emseg.ready;
  const info = (await (await fetch(`${server.url}/v1/model`)).json()) as { batching: { maxBatch: number; maxWaitMs: number; concurrentRuns: number } };
  say(
    `server ${server.url}: ${config.concurrency} processing slots, ${info.batching.concurrentRuns} inference worker(s)${config.inferenceWorkers === 0 ? ' (auto)' : ''}, ` +
      `batch size ${info.batching.maxBatch}${config.batchSize === 0 ? ' (auto)' : ''}, batch wait ${info.batching.maxWaitMs} ms`,
  );
  await loadRound(server.url, png, 2, 4); // warm-up of the whole path
  await bareThroughput(model, tile, 1);

  // The machine may be shared, its speed drifting: at each concurrency, `rounds` pairs of a bare
  // run and a server run alternate, and the ratio is taken over the totals of each.
  const roundSeconds = options.durationSeconds / options.rounds;
  say(
    `bare = session.run through the model's tile predictor, batch 1, 512x512; ${options.rounds} rounds of ` +
      `${roundSeconds.toFixed(1)} s bare + about ${roundSeconds.toFixed(1)} s of server requests per concurrency`,
  );
  const results: { concurrency: number; perSecond: number; bare: number; p50: number; bareMedianMs: number }[] = [];
  for (const concurrency of options.concurrency) {
    let bareRuns = 0;
    let bareSeconds = 0;
    let served = 0;
    let servedSeconds = 0;
    let failed = 0;
    const latencies: number[] = [];
    const bareRunMs: number[] = [];
    const before = await sessionCalls(server);
    const wideBefore = servedModel.runs?.wide ?? 0;
    for (let round = 0; round < options.rounds; round += 1) {
      const bare = await bareThroughput(model, tile, roundSeconds);
      bareRuns += bare.runs;
      bareSeconds += bare.runs / bare.perSecond;
      bareRunMs.push(...bare.runMs);
      const amount = Math.max(concurrency, Math.round(roundSeconds * bare.perSecond));
      const load = await loadRound(server.url, png, concurrency, amount);
      served += load.ok;
      servedSeconds += load.seconds;
      failed += load.failed;
      latencies.push(...load.latenciesMs);
    }
    const after = await sessionCalls(server);
    const calls = after.count - before.count;
    const bareRate = bareRuns / bareSeconds;
    const rate = served / servedSeconds;
    latencies.sort((a, b) => a - b);
    const bareMedianMs = median(bareRunMs);
    results.push({ concurrency, perSecond: rate, bare: bareRate, p50: percentile(latencies, 50), bareMedianMs });
    const wideCalls = (servedModel.runs?.wide ?? 0) - wideBefore;
    const callSeconds = after.seconds - before.seconds;
    say(
      `concurrency ${String(concurrency).padStart(2)}: ${rate.toFixed(3)} req/s, p50 ${percentile(latencies, 50).toFixed(0)} ms, ` +
        `p99 ${percentile(latencies, 99).toFixed(0)} ms (${served} ok, ${failed} failed); bare ${bareRate.toFixed(3)} runs/s; ratio ${(rate / bareRate).toFixed(3)}`,
    );
    say(
      `  session calls: bare ${((bareSeconds * 1000) / bareRuns).toFixed(1)} ms; server ${calls} calls of ` +
        `${(calls > 0 ? (after.tiles - before.tiles) / calls : 0).toFixed(2)} tiles, ${(calls > 0 ? (callSeconds * 1000) / calls : 0).toFixed(1)} ms each, ` +
        `session busy ${((100 * callSeconds) / servedSeconds).toFixed(1)}% of the server's wall time; ` +
        `${wideCalls} on the wide session; bare run median ${bareMedianMs.toFixed(1)} ms`,
    );
  }

  if (options.largeRequests > 0) {
    const large = mirroredSlice(slice, 2048);
    const largePng = await encodePng(large);
    await loneRequests(server.url, largePng, 1); // warm-up at this size
    const served = await loneRequests(server.url, largePng, options.largeRequests);
    const segmentOptions = segmentOptionsFromCard(card);
    const bareMs: number[] = [];
    for (let i = 0; i < options.largeRequests; i += 1) {
      const started = performance.now();
      await segmentImage(large, model.predictor, segmentOptions);
      bareMs.push(performance.now() - started);
    }
    say(
      `2048x2048 request alone: median ${median(served).toFixed(0)} ms over ${served.length} (${served.map((ms) => ms.toFixed(0)).join(', ')}); ` +
        `bare segmentImage in this process ${median(bareMs).toFixed(0)} ms; ratio ${(median(bareMs) / median(served)).toFixed(3)}`,
    );
  }
  say(`load after: ${uptime()}`);
  await server.shutdown('bench done');

  const atOne = results.find((r) => r.concurrency === 1)!;
  const atFour = results.find((r) => r.concurrency === 4)!;
  say(`latency ratio at concurrency 1: ${(atOne.bareMedianMs / atOne.p50).toFixed(3)}`);
  say(`throughput ratio at concurrency 4: ${(atFour.perSecond / atFour.bare).toFixed(3)}`);
  return 0;
}
