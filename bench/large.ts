/**
 * `npm run bench:large -- [options]` (`--help` lists them, from BENCH): the large-image path
 * (predict/predict-large.ts) against the model alone (bare: the same sessions, calls back to back)
 * on the same tile size, in the same run, and its cell labels (`--output labels`) against its masks.
 *
 * 1. Builds, in a temp folder (removed at the end unless --keep):
 *    - a side x side 8-bit tiled BigTIFF of ISBI slices mirrored (slice blocks of 512x512, every
 *      other block flipped, so the montage continues across block edges);
 *    - a `slices`-slice slice-side x slice-side 8-bit OME-Zarr volume of the same kind.
 *    Both are written chunk by chunk with the project's own sinks, so building needs no memory either.
 * 2. For each input, three child processes (this file with --child-bare / --child), one after the
 *    other, so that each has the cores alone and its own peak RSS:
 *    - bare: the model loaded as `emseg predict` loads it (node/batch-model.ts: its sessions in
 *      worker threads, two single-thread sessions on a 2-core CPU), each session fed calls of
 *      --tile-batch tiles (default: emseg predict's) of the model's tile size, an ISBI slice
 *      normalized, back to back, for half of --bare-seconds;
 *    - `predictLarge` to an OME-Zarr mask as `emseg predict` runs it: the same model, the
 *      statistics pass, reading, blending and writing on the main thread; it reports tiles,
 *      seconds, the share of the time the model was running, and its peak RSS (getrusage maxRSS:
 *      the whole child, model included);
 *    - the bare runs again, for the other half;
 *    - unless --no-labels, `predictLarge --output labels` to an OME-Zarr labels group (the
 *      probabilities to a hidden store, label chunks labelled as they arrive, then the final step
 *      joining and writing the cells; --child-labels), with the same figures, the seconds after the
 *      last tile (the labelling still queued, then the final step) and the final step's
 *      seconds, then the mask run again: `--rounds` times (default 1) labels and masks in turn, so
 *      that every labels run lies between two mask runs. A VM's speed drifts by tens of per cent
 *      within an hour (measured on the project machine), so each labels run is compared with the
 *      mean of the mask runs just before and after it, and the two are printed too.
 * 3. Prints per input: tiles/s, the bare tiles/s (both bare children together), the ratio, the
 *    peak RSS and the load; for labels, tiles/s against the mask runs around it, and with more
 *    than one round the median and range of those ratios; targets:
 *    ratio >= 0.85 and peak RSS <= 1.5 GiB (masks), labels tiles/s >= 0.8 of the masks' and peak
 *    RSS <= 1.5 GiB. The full sizes take hours on a 2-core CPU; pass smaller
 *    --side/--slices/--slice-side for a quick run.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { GreyImage } from '../core/image.ts';
import { normalizeSlice } from '../core/normalize.ts';
import type { BatchModel } from '../node/batch-model.ts';
import { chunkBox, allChunks, type VolumeSink } from '../core/volume.ts';
import { readImageFile } from '../node/image-files.ts';
import { openOmeZarrSink } from '../node/ome-zarr-sink.ts';
import { openVolumeSink } from '../node/open-volume.ts';
import { BenchArgumentError, choiceOption, defineBench, flagOption, integerOption, numberOption, parseBenchArgs, runWithArgs, textOption, type BenchArgs } from './shared/args.ts';
import { median } from './shared/figures.ts';
import { uptime } from './shared/machine.ts';

const GIB = 1024 ** 3;

export const BENCH = defineBench('large', "the large-image path (emseg predict streamed) against the model alone (bare: the same sessions, calls back to back) on the same tile size, in the same run; the full sizes take hours on a 2-core CPU", {
  side: integerOption('pixels', 'side of the BigTIFF montage', 40000, { min: 1 }),
  slices: integerOption('n', 'slices of the OME-Zarr volume', 200, { min: 1 }),
  'slice-side': integerOption('pixels', 'side of an OME-Zarr slice', 2048, { min: 1 }),
  model: textOption('file.onnx', 'ONNX model', 'models/isbi2012-unet.onnx'),
  ep: textOption('providers', 'execution providers', process.env.EMSEG_EP ?? 'cpu', 'EMSEG_EP, else cpu'),
  'tile-batch': integerOption('n', 'tiles per model call', undefined, { min: 1 }, "emseg predict's: node/batch-model.ts"),
  'bare-seconds': numberOption('seconds', 'seconds of the model alone per input, half before and half after the prediction', 30, { min: 0, minExclusive: true }),
  only: choiceOption('only the BigTIFF or only the OME-Zarr input', ['tiff', 'zarr'] as const, undefined, 'both'),
  'no-labels': flagOption('skip the cell labels runs (--output labels) and the mask runs between them'),
  rounds: integerOption('n', 'labels runs per input, each followed by a mask run (the labels compared with the mask runs on either side)', 1, { min: 1 }),
  keep: flagOption('keep the temp folder with the inputs and outputs'),
});

type LargeBenchArgs = BenchArgs<typeof BENCH.options>;

/** Pixel (x, y) of slice z of the synthetic montage: ISBI slices in 512x512 blocks, every other block mirrored. */
function montagePixel(isbi: readonly GreyImage[], x: number, y: number, z: number): number {
  const bx = Math.floor(x / 512);
  const by = Math.floor(y / 512);
  const slice = isbi[(bx * 7 + by * 13 + z) % isbi.length]!;
  // Mirrored every other block: coordinates run 0..511, then back down 511..0.
  const u = x % 1024;
  const v = y % 1024;
  const ux = u < 512 ? u : 1023 - u;
  const vy = v < 512 ? v : 1023 - v;
  return slice.data[vy * 512 + ux]!;
}

async function fillSink(sink: VolumeSink, isbi: readonly GreyImage[]): Promise<void> {
  for (const chunk of allChunks(sink)) {
    const box = chunkBox(sink, chunk);
    const data = new Uint8Array(box.width * box.height);
    for (let row = 0; row < box.height; row++) {
      for (let col = 0; col < box.width; col++) data[row * box.width + col] = montagePixel(isbi, box.x + col, box.y + row, chunk.z);
    }
    await sink.writeChunk(chunk, data);
  }
  await sink.finalize();
  await sink.close();
}

interface PredictReport {
  tiles: number;
  predictSeconds: number;
  /** Seconds the model's sessions were running calls, over the sessions (1 = all of them all the time): what the pipeline kept it busy. */
  modelBusySeconds: number;
  maxRssBytes: number;
  tile: number;
  /** Labels: seconds from the start of the final step (labelling what is left, joining, writing) to the end. */
  finalStepSeconds?: number;
  /** Seconds from the last tile predicted to the end (labels: the labelling still queued, then the final step; masks: the last chunks and the levels). */
  afterLastTileSeconds?: number;
}

interface BareReport {
  tiles: number;
  seconds: number;
  maxRssBytes: number;
}

/** Tiles per call: --tile-batch, else the batch model's. */
function tilesPerCall(args: LargeBenchArgs, model: BatchModel): number {
  return args['tile-batch'] ?? model.tileBatch;
}

/**
 * In a child: the model alone, loaded as `emseg predict` loads it (node/batch-model.ts: its
 * sessions in worker threads), each session kept busy with calls of the same tiles (an ISBI slice
 * normalized) back to back for `seconds` after one warm-up call per session.
 */
async function bareChild(args: LargeBenchArgs, seconds: number): Promise<void> {
  const { loadBatchModel } = await import('../node/batch-model.ts');
  const model = await loadBatchModel(args.model, { providers: args.ep });
  const tile = model.card.tile;
  const batch = tilesPerCall(args, model);
  const isbi = (await readImageFile('data/isbi2012/test-volume.tif')).pages[0]!;
  const normalized = normalizeSlice(isbi);
  const tiles = new Float32Array(batch * tile * tile);
  for (let i = 0; i < tiles.length; i++) tiles[i] = normalized[i % normalized.length]!;
  const lanes = Array.from({ length: model.sessions });
  await Promise.all(lanes.map(() => model.predictor(tiles, batch, tile, tile))); // warm-up
  let count = 0;
  const start = performance.now();
  await Promise.all(
    lanes.map(async () => {
      do {
        await model.predictor(tiles, batch, tile, tile);
        count += batch;
      } while (performance.now() - start < seconds * 1000);
    }),
  );
  const report: BareReport = { tiles: count, seconds: (performance.now() - start) / 1000, maxRssBytes: process.resourceUsage().maxRSS * 1024 };
  await model.close();
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

/** In a child: `predictLarge` as `emseg predict` runs it (the model's sessions in worker threads); prints a JSON report. */
async function predictChild(input: string, out: string, args: LargeBenchArgs, output: 'mask' | 'labels'): Promise<void> {
  const { loadBatchModel } = await import('../node/batch-model.ts');
  const { predictLarge } = await import('../predict/predict-large.ts');
  const model = await loadBatchModel(args.model, { providers: args.ep });
  // Each session runs a call as soon as it is free (node/session-scheduler.ts), so while k calls
  // are submitted and not returned, min(k, sessions) sessions are running one: the model's busy
  // share is the time integral of min(k, sessions) / sessions.
  let modelBusySeconds = 0;
  let inFlight = 0;
  let lastChange = performance.now();
  const account = () => {
    const now = performance.now();
    modelBusySeconds += ((now - lastChange) / 1000) * (Math.min(inFlight, model.sessions) / model.sessions);
    lastChange = now;
  };
  const timed = {
    card: model.card,
    predictor: async (...call: Parameters<typeof model.predictor>) => {
      account();
      inFlight++;
      try {
        return await model.predictor(...call);
      } finally {
        account();
        inFlight--;
      }
    },
  };
  const tile = model.card.tile;
  await Promise.all(Array.from({ length: model.sessions }, () => model.predictor(new Float32Array(tile * tile), 1, tile, tile))); // warm-up
  const start = performance.now();
  let finalStep: number | undefined;
  let lastTile: number | undefined;
  modelBusySeconds = 0;
  lastChange = performance.now();
  const result = await predictLarge(input, out, timed, {
    tileBatch: tilesPerCall(args, model),
    output,
    onNotice: (line) => {
      if (line.startsWith('labels:')) finalStep ??= performance.now();
    },
    onProgress: ({ tilesDone, tiles }) => {
      if (tiles > 0 && tilesDone === tiles) lastTile ??= performance.now();
    },
  });
  const end = performance.now();
  const predictSeconds = (end - start) / 1000;
  await model.close();
  const report: PredictReport = {
    tiles: result.tilesPredicted,
    predictSeconds,
    modelBusySeconds,
    maxRssBytes: process.resourceUsage().maxRSS * 1024,
    tile: model.card.tile,
    ...(finalStep === undefined ? {} : { finalStepSeconds: (end - finalStep) / 1000 }),
    ...(lastTile === undefined ? {} : { afterLastTileSeconds: (end - lastTile) / 1000 }),
  };
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

/** `before` "N s after the last tile" `after` (labels: the labelling still queued, then the final step); empty when the run predicted no tiles. */
function afterLastTile(report: PredictReport, before: string, after: string): string {
  return report.afterLastTileSeconds === undefined ? '' : `${before}${report.afterLastTileSeconds.toFixed(1)} s after the last tile${after}`;
}

function runChild<T>(childArgs: string[]): Promise<T> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, ['bin/emseg-bench.js', 'large', ...childArgs], { stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    proc.stdout.on('data', (d: Buffer) => (stdout += d));
    proc.on('error', reject);
    proc.on('close', (code) => {
      const line = stdout.trim().split('\n').pop() ?? '';
      if (code !== 0 || !line.startsWith('{')) reject(new Error(`bench:large ${childArgs[0]} exited with ${code}: ${stdout.slice(-500)}`));
      else resolve(JSON.parse(line) as T);
    });
  });
}

export async function runBench(argv: readonly string[]): Promise<number> {
  // The children this bench starts (runChild): not options a person gives.
  if (argv[0] === '--child' || argv[0] === '--child-labels') {
    await predictChild(argv[1]!, argv[2]!, parseBenchArgs(BENCH, argv.slice(3)), argv[0] === '--child' ? 'mask' : 'labels');
    return 0;
  }
  if (argv[0] === '--child-bare') {
    const args = parseBenchArgs(BENCH, argv.slice(1));
    await bareChild(args, args['bare-seconds']);
    return 0;
  }
  return runWithArgs(BENCH, argv, bench);
}

async function bench(args: LargeBenchArgs): Promise<number> {
  const say = (line: string) => process.stdout.write(`${line}\n`);
  if (!existsSync(args.model)) throw new BenchArgumentError(`--model ${args.model}: no such file`);
  const dir = mkdtempSync(join(tmpdir(), 'emseg-bench-large-'));
  const passArgs = (bareSeconds: number) => [
    '--model', args.model, '--ep', args.ep, ...(args['tile-batch'] === undefined ? [] : ['--tile-batch', String(args['tile-batch'])]), '--bare-seconds', String(bareSeconds),
  ];
  let worst = 0;
  try {
    const isbi = (await readImageFile('data/isbi2012/train-volume.tif')).pages;
    const cases: { name: string; input: string; build: () => Promise<void> }[] = [];
    if (args.only !== 'zarr') {
      const input = join(dir, 'montage.tif');
      cases.push({
        name: `${args.side}x${args.side} 8-bit BigTIFF`,
        input,
        build: async () => fillSink(await openVolumeSink(input, {
          width: args.side, height: args.side, depth: 1, chunkSize: 512, sampleType: 'uint8', kind: 'probability', job: 'bench:large input', levels: 0,
        }), isbi),
      });
    }
    if (args.only !== 'tiff') {
      const input = join(dir, 'volume.ome.zarr');
      cases.push({
        name: `${args.slices} x ${args['slice-side']}x${args['slice-side']} 8-bit OME-Zarr`,
        input,
        build: async () => fillSink(await openOmeZarrSink({
          path: input, width: args['slice-side'], height: args['slice-side'], depth: args.slices, chunkWidth: 512, chunkHeight: 512, sampleType: 'uint8', kind: 'probability', job: 'bench:large input', levels: 0,
        }), isbi),
      });
    }
    say(`load before: ${uptime()}`);
    for (const c of cases) {
      const start = performance.now();
      await c.build();
      say(`${c.name}: built in ${((performance.now() - start) / 1000).toFixed(1)} s`);
      const before = await runChild<BareReport>(['--child-bare', ...passArgs(args['bare-seconds'] / 2)]);
      const report = await runChild<PredictReport>(['--child', c.input, join(dir, `${c.name.replace(/\W+/g, '-')}-mask.ome.zarr`), ...passArgs(args['bare-seconds'])]);
      const after = await runChild<BareReport>(['--child-bare', ...passArgs(args['bare-seconds'] / 2)]);
      const rate = report.tiles / report.predictSeconds;
      const bareRate = (before.tiles + after.tiles) / (before.seconds + after.seconds);
      const ratio = rate / bareRate;
      worst = Math.max(worst, report.maxRssBytes);
      say(
        `${c.name}: ${report.tiles} tiles of ${report.tile}x${report.tile} in ${report.predictSeconds.toFixed(1)} s = ${rate.toFixed(2)} tiles/s ` +
          `(model busy ${((100 * report.modelBusySeconds) / report.predictSeconds).toFixed(0)}% of the time${afterLastTile(report, '; ', '')}); ` +
          `bare ${bareRate.toFixed(2)} tiles/s (before ${(before.tiles / before.seconds).toFixed(2)}, after ${(after.tiles / after.seconds).toFixed(2)}); ` +
          `ratio ${ratio.toFixed(3)} (target >= 0.85); ` +
          `peak RSS ${(report.maxRssBytes / GIB).toFixed(2)} GiB (target <= 1.5; a bare session alone ${(Math.max(before.maxRssBytes, after.maxRssBytes) / GIB).toFixed(2)} GiB); load ${uptime().replace(/^.*load average: /, '')}`,
      );
      if (!args['no-labels']) {
        const outName = c.name.replace(/\W+/g, '-');
        const maskRates = [rate];
        const ratios: number[] = [];
        for (let round = 1; round <= args.rounds; round++) {
          const labelsOut = join(dir, `${outName}-labels-${round}.ome.zarr`);
          const maskOut = join(dir, `${outName}-mask-${round + 1}.ome.zarr`);
          const labels = await runChild<PredictReport>(['--child-labels', c.input, labelsOut, ...passArgs(args['bare-seconds'])]);
          const labelsRate = labels.tiles / labels.predictSeconds;
          worst = Math.max(worst, labels.maxRssBytes);
          const again = await runChild<PredictReport>(['--child', c.input, maskOut, ...passArgs(args['bare-seconds'])]);
          worst = Math.max(worst, again.maxRssBytes);
          maskRates.push(again.tiles / again.predictSeconds);
          const before = maskRates[round - 1]!;
          const after = maskRates[round]!;
          const ratio = labelsRate / ((before + after) / 2);
          ratios.push(ratio);
          say(
            `${c.name}, labels${args.rounds > 1 ? ` (round ${round} of ${args.rounds})` : ''}: ${labels.tiles} tiles in ${labels.predictSeconds.toFixed(1)} s = ${labelsRate.toFixed(2)} tiles/s ` +
              `(model busy ${((100 * labels.modelBusySeconds) / labels.predictSeconds).toFixed(0)}% of the time; ${afterLastTile(labels, '', ', of it the ')}final step ${(labels.finalStepSeconds ?? 0).toFixed(1)} s); ` +
              `${ratio.toFixed(3)} of the masks' ${((before + after) / 2).toFixed(2)} tiles/s (target >= 0.8; the mask runs before and after: ${before.toFixed(2)} and ${after.toFixed(2)} tiles/s, ` +
              `so ${(labelsRate / before).toFixed(3)} and ${(labelsRate / after).toFixed(3)}); ` +
              `peak RSS ${(labels.maxRssBytes / GIB).toFixed(2)} GiB (target <= 1.5; the mask run after it ${(again.maxRssBytes / GIB).toFixed(2)} GiB); load ${uptime().replace(/^.*load average: /, '')}`,
          );
          if (!args.keep) {
            for (const path of [labelsOut, maskOut]) rmSync(path, { recursive: true, force: true });
          }
        }
        if (ratios.length > 1) {
          say(`${c.name}, labels against masks over ${ratios.length} rounds: median ${median(ratios).toFixed(3)}, range ${Math.min(...ratios).toFixed(3)}-${Math.max(...ratios).toFixed(3)} (target >= 0.8)`);
        }
      }
      if (!args.keep) rmSync(c.input, { recursive: true, force: true });
    }
  } finally {
    if (!args.keep) rmSync(dir, { recursive: true, force: true });
    else say(`kept ${dir}`);
  }
  say(`peak RSS of the predict processes: ${(worst / GIB).toFixed(2)} GiB`);
  return 0;
}
