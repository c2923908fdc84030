/**
 * `npm run bench:train -- [options]`: training speed of the compute engine (train/engine.ts) for
 * one configuration, on synthetic crops (speed does not depend on the pixel values).
 *
 *   --backend auto|gpu|native|wasm|cpu   (default wasm)
 *   --filters N      base filters (16)        --depth N    (4)
 *   --batch-norm     batch normalization      --crop N     crop side (256)
 *   --batch N        crops per step (4)       --steps N    timed steps (10)
 *   --warmup N       untimed steps first (2)  --workers N  data-parallel workers (engine default)
 *   --seed N         (1)
 *   --profile        also time every kernel (forces --workers 1: kernels of worker threads are
 *                    not visible from here)
 *
 * GFLOP/s counts the convolutions only (Conv2D, Conv2DTranspose, the 1x1 head), 2 FLOPs per
 * multiply-add, forward plus backward, with backward = 2 x forward (input and filter gradients;
 * the usual convention, slightly more than the work really done since the first layer's input
 * gradient is not needed). Ends with `crops/s: <number>`.
 */
import { parseArgs } from 'node:util';
import { loadavg, cpus } from 'node:os';
import { createTrainingEngine } from '../train/engine.ts';
import { isBackendChoice } from '../train/backend.ts';
import { resolveUNetOptions } from '../train/unet.ts';
import { parseNumberText } from '../core/number-text.ts';

export async function runBench(args: string[]): Promise<number> {
  try {
    return await bench(args);
  } catch (error) {
    if (error instanceof BenchArgumentError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS') || (error as { name?: string }).name === 'EmsegError') {
      process.stderr.write(`bench:train: ${(error as Error).message}\n`);
      return 2;
    }
    throw error;
  }
}

class BenchArgumentError extends Error {}

async function bench(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      backend: { type: 'string', default: 'wasm' },
      filters: { type: 'string', default: '16' },
      depth: { type: 'string', default: '4' },
      'batch-norm': { type: 'boolean', default: false },
      crop: { type: 'string', default: '256' },
      batch: { type: 'string', default: '4' },
      steps: { type: 'string', default: '10' },
      warmup: { type: 'string', default: '2' },
      workers: { type: 'string' },
      seed: { type: 'string', default: '1' },
      profile: { type: 'boolean', default: false },
    },
    strict: true,
  });
  const int = (name: keyof typeof values, min: number): number => {
    try {
      return parseNumberText(String(values[name] ?? ''), `--${name}`, { integer: true, min });
    } catch (error) {
      throw new BenchArgumentError((error as Error).message);
    }
  };
  const backend = values.backend!;
  if (!isBackendChoice(backend)) throw new BenchArgumentError(`--backend: expected auto, gpu, native, wasm or cpu, found ${backend}`);
  let model: ReturnType<typeof resolveUNetOptions>;
  try {
    model = resolveUNetOptions({ depth: int('depth', 1), baseFilters: int('filters', 1), batchNorm: values['batch-norm']! });
  } catch (error) {
    throw error instanceof RangeError ? new BenchArgumentError(`--${error.message}`) : error;
  }
  const crop = int('crop', 2 ** model.depth);
  if (crop % 2 ** model.depth !== 0) throw new BenchArgumentError(`--crop: must be a multiple of 2^depth = ${2 ** model.depth}, found ${crop}`);
  const batch = int('batch', 1);
  const steps = int('steps', 1);
  const warmup = int('warmup', 0);
  const workers = values.profile ? 1 : values.workers === undefined ? undefined : int('workers', 1);
  const print = (line: string) => process.stdout.write(`${line}\n`);

  print(`machine: ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown'}), load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  const engine = await createTrainingEngine({ backend, workers, model, seed: int('seed', 0), log: (line) => print(line) });
  const profile = values.profile ? await installKernelTimer(engine.backend) : undefined;
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
    const sorted = [...times].sort((a, b) => a - b);
    const median = sorted[Math.floor(sorted.length / 2)]!;
    const cropsPerSecond = (steps * batch) / totalSeconds;
    if (profile !== undefined) {
      print('kernel time over the timed steps (ms, calls):');
      for (const [name, { ms, calls }] of profile.table()) print(`  ${name.padEnd(24)} ${ms.toFixed(0).padStart(7)} ${String(calls).padStart(6)}`);
    }
    print(`median step ${median.toFixed(0)} ms; mean ${((totalSeconds * 1000) / steps).toFixed(0)} ms`);
    print(`GFLOP/s: ${((cropsPerSecond * flopsPerCrop) / 1e9).toFixed(1)}`);
    print(`load average after: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
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
