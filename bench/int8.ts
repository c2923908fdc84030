/**
 * `npm run bench:int8 [-- --model models/isbi2012-unet.onnx --int8 models/isbi2012-unet.int8.onnx
 *  --reps 40 --slices 25-29 --no-evaluate]`: is the int8 variant (emseg quantize) worth keeping?
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
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { INPUT_NAME } from '../core/contract.ts';
import { ISBI_TEST_IMAGES } from '../core/isbi-data.ts';
import { parseNumberText } from '../core/number-text.ts';
import { modelInput } from '../convert/quantize/calibrate.ts';
import { readImageFile } from '../node/image-files.ts';
import { inferenceCores } from '../node/inference-cores.ts';

export const KEEP_SPEEDUP = 1.3;
export const KEEP_VRAND_DROP = 0.003;

interface Int8BenchArgs {
  model: string;
  int8: string;
  reps: number;
  slices: string;
  evaluate: boolean;
  /** Intra-op thread counts to measure; 0 = onnxruntime's default. */
  threads: number[];
}

function parseArgs(args: string[]): Int8BenchArgs {
  const parsed: Int8BenchArgs = { model: 'models/isbi2012-unet.onnx', int8: 'models/isbi2012-unet.int8.onnx', reps: 40, slices: '25-29', evaluate: true, threads: [0, 1] };
  for (let i = 0; i < args.length; i += 1) {
    const flag = args[i]!;
    if (flag === '--no-evaluate') {
      parsed.evaluate = false;
      continue;
    }
    const value = args[i + 1];
    if (value === undefined) throw new Error(`${flag}: expected a value`);
    if (flag === '--model') parsed.model = value;
    else if (flag === '--int8') parsed.int8 = value;
    else if (flag === '--reps') parsed.reps = parseNumberText(value, '--reps', { integer: true, min: 1 });
    else if (flag === '--slices') parsed.slices = value;
    else if (flag === '--threads') parsed.threads = value.split(',').map((part) => (part === 'default' ? 0 : parseNumberText(part, '--threads', { integer: true, min: 1 })));
    else throw new Error(`unknown option ${flag}; expected --model, --int8, --reps, --slices, --threads or --no-evaluate`);
    i += 1;
  }
  return parsed;
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};
const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
const load = () => `load average ${loadavg().map((x) => x.toFixed(2)).join(', ')} on ${cpus().length} cores`;

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

export async function runBench(args: string[]): Promise<number> {
  const options = parseArgs(args);
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
