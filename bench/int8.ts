/**
 * `npm run bench:int8 -- [options]` (`--help` lists them, from BENCH): is the int8 variant
 * (emseg quantize) worth keeping?
 *
 * 1. Latency: both files in onnxruntime-node (CPU provider, graph optimization 'all') in this
 *    process, batch 1, 512x512 (a normalized ISBI test slice), for each `--threads` setting
 *    (default "default,1": emseg's default intra-op thread count, the machine's physical cores
 *    (node/inference-cores.ts), which the criterion uses, then one thread, as each of the
 *    server's inference workers runs); 2 warm-up runs each,
 *    then `--reps` rounds that run both models in alternating order, so a shared machine's drift
 *    hits both alike. Median and mean ms, speedup = fp32 median / int8 median.
 * 2. Accuracy: `emseg evaluate <model> --ep cpu --slices 25-29 --json ...` (the CLI, dist/ must be
 *    built) for both; V_rand (best over thresholds, the ISBI score) and V_rand at the card threshold.
 * 3. The verdict of issue 15: keep if speedup >= 1.3 and |V_rand int8 - fp32| <= 0.003.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { INPUT_NAME } from '../core/contract.ts';
import { ISBI_TEST_IMAGES } from '../core/isbi-data.ts';
import { parseNumberText } from '../core/number-text.ts';
import { modelInput } from '../convert/quantize/calibrate.ts';
import { readImageFile } from '../node/image-files.ts';
import { inferenceCores } from '../node/inference-cores.ts';
import { defineBench, flagOption, integerOption, listOption, runWithArgs, textOption, type BenchArgs } from './shared/args.ts';
import { mean, median } from './shared/figures.ts';
import { loadAverage } from './shared/machine.ts';

export const KEEP_SPEEDUP = 1.3;
export const KEEP_VRAND_DROP = 0.003;

export const BENCH = defineBench('int8', 'is the int8 variant worth keeping: latency of both files in onnxruntime-node, V_rand of both by emseg evaluate', {
  model: textOption('file.onnx', 'the float model', 'models/isbi2012-unet.onnx'),
  int8: textOption('file.onnx', 'its int8 variant', 'models/isbi2012-unet.int8.onnx'),
  reps: integerOption('n', 'alternating timed rounds of both models per thread setting', 40, { min: 1 }),
  slices: textOption('list', 'slices emseg evaluate scores', '25-29'),
  threads: listOption('list', "intra-op thread counts, comma-separated; 'default' = emseg's default (the physical cores)", [0, 1], (text, flag) => (text === 'default' ? 0 : parseNumberText(text, flag, { integer: true, min: 1 })), 'default,1'),
  'no-evaluate': flagOption('latency only, no emseg evaluate'),
});
type Int8BenchArgs = BenchArgs<typeof BENCH.options>;

const load = () => `load average ${loadAverage()} on ${cpus().length} cores`;

async function latency(paths: [string, string], reps: number, threads: number): Promise<[number[], number[]]> {
  const options: ort.InferenceSession.SessionOptions = { executionProviders: ['cpu'], graphOptimizationLevel: 'all', intraOpNumThreads: threads > 0 ? threads : inferenceCores() };
  const sessions = await Promise.all(paths.map((path) => ort.InferenceSession.create(path, options)));
  const stack = await readImageFile(ISBI_TEST_IMAGES);
  const feeds = { [INPUT_NAME]: modelInput(stack.pages[0]!, 16) };
  const times: [number[], number[]] = [[], []];
  try {
    for (let warm = 0; warm < 2; warm++) for (const session of sessions) await session.run(feeds);
    for (let round = 0; round < reps; round++) {
      const order = round % 2 === 0 ? [0, 1] : [1, 0];
      for (const which of order) {
        const start = performance.now();
        const result = await sessions[which]!.run(feeds);
        times[which]!.push(performance.now() - start);
        for (const value of Object.values(result)) value.dispose();
      }
    }
  } finally {
    for (const session of sessions) await session.release();
  }
  return times;
}

interface EvaluateFigures {
  vRandBest: number;
  vRand: number;
  threshold: number;
}

function evaluate(model: string, slices: string, folder: string, label: string): EvaluateFigures {
  const cli = fileURLToPath(new URL('../bin/emseg.js', import.meta.url));
  const json = join(folder, `${label}.json`);
  execFileSync(process.execPath, [cli, 'evaluate', model, '--ep', 'cpu', '--slices', slices, '--json', json], { stdio: ['ignore', 'ignore', 'inherit'] });
  const report = JSON.parse(readFileSync(json, 'utf8')) as { rows: { variant: string; vRandBest: number; vRand: number; threshold: number }[] };
  const plain = report.rows.find((row) => row.variant === 'plain');
  if (!plain) throw new Error(`${json}: no plain row`);
  return { vRandBest: plain.vRandBest, vRand: plain.vRand, threshold: plain.threshold };
}

export function runBench(argv: readonly string[]): Promise<number> {
  return runWithArgs(BENCH, argv, bench);
}

async function bench(args: Int8BenchArgs): Promise<number> {
  const options = { ...args, evaluate: !args['no-evaluate'] };
  const say = (line: string) => process.stdout.write(`${line}\n`);
  for (const path of [options.model, options.int8]) {
    if (!existsSync(path)) {
      process.stderr.write(`bench:int8: ${path} does not exist (make the int8 model with scripts/make-int8-model.sh)\n`);
      return 1;
    }
  }
  say(`fp32 ${options.model}, int8 ${options.int8}; ${cpus()[0]?.model ?? 'cpu'}; ${load()}`);
  let speedup = 0;
  for (const threads of options.threads) {
    const label = threads === 0 ? `default threads (${inferenceCores()}: the physical cores)` : `${threads} thread${threads > 1 ? 's' : ''}`;
    say(`latency: onnxruntime-node ${ort.env.versions.common} cpu, ${label}, 512x512 batch 1, ${options.reps} alternating rounds`);
    const [fp32, int8] = await latency([options.model, options.int8], options.reps, threads);
    const ratio = median(fp32) / median(int8);
    if (speedup === 0) speedup = ratio; // the first setting (default threads) is the criterion's
    say(`  fp32 ms: median ${median(fp32).toFixed(1)}, mean ${mean(fp32).toFixed(1)}`);
    say(`  int8 ms: median ${median(int8).toFixed(1)}, mean ${mean(int8).toFixed(1)}`);
    say(`  speedup (${label}): ${ratio.toFixed(2)}x (${load()})`);
  }
  if (!options.evaluate) return 0;
  const folder = mkdtempSync(join(tmpdir(), 'emseg-bench-int8-'));
  say(`emseg evaluate --ep cpu --slices ${options.slices} (JSON in ${folder})`);
  const a = evaluate(options.model, options.slices, folder, 'fp32');
  const b = evaluate(options.int8, options.slices, folder, 'int8');
  say(`fp32 V_rand: ${a.vRandBest.toFixed(4)} (best threshold), ${a.vRand.toFixed(4)} at ${a.threshold}`);
  say(`int8 V_rand: ${b.vRandBest.toFixed(4)} (best threshold), ${b.vRand.toFixed(4)} at ${b.threshold}`);
  const drop = a.vRandBest - b.vRandBest;
  const keep = speedup >= KEEP_SPEEDUP && drop <= KEEP_VRAND_DROP;
  say(`V_rand drop: ${drop.toFixed(4)} (${load()})`);
  say(`int8 verdict: ${keep ? 'keep' : 'do not keep'} (needs speedup >= ${KEEP_SPEEDUP} and V_rand drop <= ${KEEP_VRAND_DROP}): speedup ${speedup.toFixed(2)}, V_rand drop ${drop.toFixed(4)}`);
  return 0;
}
