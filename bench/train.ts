/**
 * `npm run bench:train -- [options]` (`--help` lists them, from BENCH): training speed of the
 * compute engine (train/engine.ts) for one configuration, on synthetic crops (speed does not
 * depend on the pixel values).
 *
 * GFLOP/s counts the convolutions only (Conv2D, Conv2DTranspose, the 1x1 head), 2 FLOPs per
 * multiply-add, forward plus backward, with backward = 2 x forward (input and filter gradients;
 * the usual convention, slightly more than the work really done since the first layer's input
 * gradient is not needed). Ends with `crops/s: <number>`.
 */
import { cpus } from 'node:os';
import { createTrainingEngine } from '../train/engine.ts';
import { BACKEND_CHOICES } from '../train/backend.ts';
import { resolveUNetOptions } from '../train/unet.ts';
import { BenchArgumentError, choiceOption, defineBench, flagOption, integerOption, runWithArgs, type BenchArgs } from './shared/args.ts';
import { median } from './shared/figures.ts';
import { loadAverage } from './shared/machine.ts';

export const BENCH = defineBench('train', 'training speed of the compute engine for one configuration, on synthetic crops; ends with `crops/s: <number>`', {
  backend: choiceOption('the compute backend (train/backend.ts)', BACKEND_CHOICES, 'wasm'),
  filters: integerOption('n', 'base filters', 16, { min: 1 }),
  depth: integerOption('n', 'U-Net depth', 4, { min: 1 }),
  'batch-norm': flagOption('batch normalization'),
  crop: integerOption('n', 'crop side, a multiple of 2^depth', 256, { min: 1 }),
  batch: integerOption('n', 'crops per step', 4, { min: 1 }),
  steps: integerOption('n', 'timed steps', 10, { min: 1 }),
  warmup: integerOption('n', 'untimed steps first', 2, { min: 0 }),
  workers: integerOption('n', 'data-parallel workers', undefined, { min: 1 }, "the engine's"),
  seed: integerOption('n', 'seed of the weights', 1, { min: 0 }),
  profile: flagOption('also time every kernel (forces --workers 1: kernels of worker threads are not visible from here)'),
});

export function runBench(argv: readonly string[]): Promise<number> {
  return runWithArgs(BENCH, argv, bench);
}

async function bench(args: BenchArgs<typeof BENCH.options>): Promise<number> {
  const backend = args.backend;
  let model: ReturnType<typeof resolveUNetOptions>;
  try {
    model = resolveUNetOptions({ depth: args.depth, baseFilters: args.filters, batchNorm: args['batch-norm'] });
  } catch (error) {
    throw error instanceof RangeError ? new BenchArgumentError(`--${error.message}`) : error;
  }
  const crop = args.crop;
  if (crop % 2 ** model.depth !== 0) throw new BenchArgumentError(`--crop: must be a multiple of 2^depth = ${2 ** model.depth}, found ${crop}`);
  const { batch, steps, warmup } = args;
  const workers = args.profile ? 1 : args.workers;
  const print = (line: string) => process.stdout.write(`${line}\n`);

  print(`machine: ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown'}), load average ${loadAverage()}`);
  const engine = await createTrainingEngine({ backend, workers, model, seed: args.seed, log: (line) => print(line) });
  const profile = args.profile ? await installKernelTimer(engine.backend) : undefined;
  const flopsPerCrop = 3 * convFlopsPerCrop(model.depth, model.baseFilters, crop, crop);
  print(`setup: backend ${engine.backend}, workers ${engine.workers}, U-Net depth ${model.depth}, filters ${model.baseFilters}, batch norm ${model.batchNorm ? 'on' : 'off'}, crop ${crop}x${crop}, batch ${batch}, ${warmup} warm-up + ${steps} timed steps`);
  print(`work: ${(flopsPerCrop / 1e9).toFixed(2)} GFLOP per crop (convolutions, forward + backward)`);

  const random = mulberry32(12345);
  const size = batch * crop * crop;
  const images = new Float32Array(size);
  const labels = new Float32Array(size);
  for (let i = 0; i < size; i++) {
    images[i] = random() * 2 - 1;
    labels[i] = random() < 0.7 ? 1 : 0;
  }
  const data = { images, labels, n: batch, height: crop, width: crop };
  try {
    for (let s = 0; s < warmup; s++) {
      const start = performance.now();
      const { loss } = await engine.step(data, 1e-4);
      print(`warm-up ${s + 1}: ${(performance.now() - start).toFixed(0)} ms, loss ${loss.toFixed(4)}`);
    }
    profile?.reset();
    const times: number[] = [];
    for (let s = 0; s < steps; s++) {
      const start = performance.now();
      const { loss } = await engine.step(data, 1e-4);
      const ms = performance.now() - start;
      times.push(ms);
      print(`step ${s + 1}: ${ms.toFixed(0)} ms, ${((batch * 1000) / ms).toFixed(2)} crops/s, loss ${loss.toFixed(4)}`);
    }
    const totalSeconds = times.reduce((a, b) => a + b, 0) / 1000;
    const cropsPerSecond = (steps * batch) / totalSeconds;
    if (profile !== undefined) {
      print('kernel time over the timed steps (ms, calls):');
      for (const [name, { ms, calls }] of profile.table()) print(`  ${name.padEnd(24)} ${ms.toFixed(0).padStart(7)} ${String(calls).padStart(6)}`);
    }
    print(`median step ${median(times).toFixed(0)} ms; mean ${((totalSeconds * 1000) / steps).toFixed(0)} ms`);
    print(`GFLOP/s: ${((cropsPerSecond * flopsPerCrop) / 1e9).toFixed(1)}`);
    print(`load average after: ${loadAverage()}`);
    print(`crops/s: ${cropsPerSecond.toFixed(3)}`);
    return 0;
  } finally {
    await engine.dispose();
  }
}

/** Multiply-add FLOPs (x2) of the U-Net's convolutions, forward, one crop of height x width. */
export function convFlopsPerCrop(depth: number, filters: number, height: number, width: number): number {
  const conv = (k: number, cin: number, cout: number, pixels: number) => 2 * k * k * cin * cout * pixels;
  let flops = 0;
  const pixelsAt = (level: number) => (height / 2 ** (level - 1)) * (width / 2 ** (level - 1));
  const filtersAt = (level: number) => filters * 2 ** (level - 1);
  for (let level = 1; level <= depth + 1; level++) {
    const input = level === 1 ? 1 : filtersAt(level - 1);
    flops += conv(3, input, filtersAt(level), pixelsAt(level)) + conv(3, filtersAt(level), filtersAt(level), pixelsAt(level));
  }
  for (let level = depth; level >= 1; level--) {
    flops += conv(2, filtersAt(level + 1), filtersAt(level), pixelsAt(level + 1)); // transposed conv, per input pixel
    flops += conv(3, 2 * filtersAt(level), filtersAt(level), pixelsAt(level)) + conv(3, filtersAt(level), filtersAt(level), pixelsAt(level));
  }
  return flops + conv(1, filters, 1, pixelsAt(1));
}

interface KernelTimer {
  reset(): void;
  table(): [string, { ms: number; calls: number }][];
}

/** Wraps every kernel of the backend in this thread with a wall-clock timer. */
async function installKernelTimer(backendName: string): Promise<KernelTimer> {
  const tf = await (await import('../node/tfjs.ts')).importTfjs();
  const tfjsName = backendName === 'gpu' || backendName === 'native' ? 'tensorflow' : backendName;
  const stats = new Map<string, { ms: number; calls: number }>();
  for (const config of tf.getKernelsForBackend(tfjsName)) {
    const inner = config.kernelFunc;
    tf.unregisterKernel(config.kernelName, tfjsName);
    tf.registerKernel({
      ...config,
      kernelFunc: (args) => {
        const start = performance.now();
        const result = inner(args);
        const entry = stats.get(config.kernelName) ?? { ms: 0, calls: 0 };
        entry.ms += performance.now() - start;
        entry.calls += 1;
        stats.set(config.kernelName, entry);
        return result;
      },
    });
  }
  return {
    reset: () => stats.clear(),
    table: () => [...stats].sort((a, b) => b[1].ms - a[1].ms).filter(([, s]) => s.ms >= 1),
  };
}

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
