/**
 * The loop's bookkeeping with small deterministic stand-ins for the engine, dataset and scorer:
 * log lines, checkpoint cadence and contents, best-by-V_rand, interruption and resume giving the
 * same losses and weights as an uninterrupted run, the time budget, refusing to overwrite a run.
 * (test/train-tiny-unet.test.ts does the same with the real engine on real ISBI crops.)
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { TrainBatch } from '../train/batch.ts';
import { loadCheckpoint } from '../train/checkpoint.ts';
import { resolveTrainConfig, type TrainConfigInput } from '../train/config.ts';
import { readLog, type TrainLogLine, type ValidationLogLine } from '../train/log.ts';
import type { LoopRng, TrainingParts } from '../train/loop-parts.ts';
import { trainModel, type TrainEvent } from '../train/loop.ts';

const root = mkdtempSync(join(tmpdir(), 'emseg-loop-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

class TestRng implements LoopRng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  next(): number {
    // mulberry32
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  getState(): unknown {
    return { s: this.s };
  }
  setState(state: unknown): void {
    this.s = (state as { s: number }).s;
  }
}

/** A linear "model" y = w.x fitted by SGD with momentum, so that optimizer state matters too. */
function fakeParts(): TrainingParts {
  let w = new Float32Array(4);
  let momentum = new Float32Array(4);
  const target = [0.5, -0.25, 0.75, 0.1];
  const scores = [0.5, 0.7, 0.6, 0.8, 0.75];
  let validations = 0;
  return {
    engine: {
      backend: 'fake',
      report: ['fake engine'],
      step(batch: TrainBatch, lr: number) {
        let loss = 0;
        const grad = new Float32Array(4);
        for (let i = 0; i < batch.n; i++) {
          const x = batch.images.subarray(i * 4, i * 4 + 4);
          const y = target.reduce((a, t, k) => a + t * x[k]!, 0);
          const p = w.reduce((a, t, k) => a + t * x[k]!, 0);
          loss += (p - y) ** 2 / batch.n;
          for (let k = 0; k < 4; k++) grad[k]! += (2 * (p - y) * x[k]!) / batch.n;
        }
        for (let k = 0; k < 4; k++) {
          momentum[k] = 0.9 * momentum[k]! + grad[k]!;
          w[k]! -= lr * momentum[k]!;
        }
        return { loss };
      },
      predict: (images: Float32Array) => images,
      saveState: () => ({ weights: w.slice(), optimizer: { momentum: momentum.slice(), note: 'sgd' } }),
      loadState: (state: unknown) => {
        const s = state as { weights: Float32Array; optimizer: { momentum: Float32Array } };
        w = Float32Array.from(s.weights);
        momentum = Float32Array.from(s.optimizer.momentum);
      },
      saveLayersModel: async (dir: string) => {
        const { mkdirSync, writeFileSync } = await import('node:fs');
        mkdirSync(dir, { recursive: true });
        writeFileSync(join(dir, 'model.json'), JSON.stringify({ weights: [...w] }));
      },
      dispose: () => {},
    },
    dataset: {
      sampleBatch(rng: TestRng): TrainBatch {
        const images = new Float32Array(8);
        for (let i = 0; i < 8; i++) images[i] = rng.next() * 2 - 1;
        return { images, labels: new Float32Array(8), n: 2, height: 1, width: 4 } as unknown as TrainBatch;
      },
    },
    createRng: (seed: number) => new TestRng(seed),
    async scoreValidation() {
      const v = scores[validations++ % scores.length]!;
      return { vRandBest: v, vInfoBest: v - 0.1, bestThreshold: 0.5, threshold: 0.5, vRand: v, vInfo: v - 0.1, pixelError: 1 - v, dice: v, iou: v / 2 };
    },
    dispose: () => {},
  };
}

const base: TrainConfigInput = { steps: 12, batchSize: 2, cropSize: 32, model: { depth: 2, baseFilters: 4 }, warmupSteps: 2, logEvery: 2, validateEvery: 3, checkpointEvery: 5 };

function lossesOf(outDir: string): number[] {
  return readLog(join(outDir, 'train.log.jsonl'))
    .filter((l): l is TrainLogLine => l.type === 'train')
    .map((l) => l.loss);
}

describe('trainModel bookkeeping', () => {
  it('counts crops per second over the steps alone, not over validations and checkpoints', async () => {
    const outDir = join(root, 'throughput');
    const parts = fakeParts();
    const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
    const step = parts.engine.step.bind(parts.engine);
    parts.engine.step = async (batch: TrainBatch, lr: number) => (await sleep(25), step(batch, lr));
    const score = parts.scoreValidation.bind(parts);
    parts.scoreValidation = async (...args: Parameters<typeof score>) => (await sleep(300), score(...args));
    await trainModel(resolveTrainConfig({ ...base, steps: 8, logEvery: 4, validateEvery: 2, checkpointEvery: 3, outDir }), { parts });
    const train = readLog(join(outDir, 'train.log.jsonl')).filter((l): l is TrainLogLine => l.type === 'train');
    expect(train).toHaveLength(2);
    // Each step of 2 crops takes at least 25 ms: at most 80 crops/s, whatever happened between steps;
    // and the 300 ms validations inside each window must not drag the figure down either.
    for (const line of train) {
      expect(line.cropsPerSecond).toBeLessThanOrEqual(2 / 0.025);
      expect(line.cropsPerSecond).toBeGreaterThan(2 / 0.3);
    }
  });

  it('logs windows and validations, keeps best by V_rand, and writes every output', async () => {
    const outDir = join(root, 'full');
    const parts = fakeParts();
    const events: TrainEvent[] = [];
    const result = await trainModel(resolveTrainConfig({ ...base, outDir }), { parts, onEvent: (e) => events.push(e), command: 'emseg train test' });
    expect(result.status).toBe('completed');
    expect(result.step).toBe(12);
    expect(result.cropsSeen).toBe(24);
    const log = readLog(join(outDir, 'train.log.jsonl'));
    const train = log.filter((l): l is TrainLogLine => l.type === 'train');
    expect(train.map((l) => l.step)).toEqual([2, 4, 6, 8, 10, 12]);
    expect(train.every((l) => l.crops === l.step * 2 && l.lr > 0 && l.elapsedSeconds >= 0)).toBe(true);
    const validation = log.filter((l): l is ValidationLogLine => l.type === 'validation');
    expect(validation.map((l) => l.step)).toEqual([3, 6, 9, 12]);
    // scores cycle 0.5, 0.7, 0.6, 0.8: the best is step 12's 0.8
    expect(result.best?.step).toBe(12);
    expect(loadCheckpoint(outDir, 'best').loop.bestVRand).toBeCloseTo(0.8);
    expect(loadCheckpoint(outDir, 'latest').loop.step).toBe(12);
    expect(events.filter((e) => e.type === 'checkpoint' && e.name === 'latest').map((e) => (e as { step: number }).step)).toEqual([5, 10, 12]);
    for (const file of ['config.json', 'train.log.jsonl', 'curve.svg', 'model/model.json', 'last-model/model.json']) {
      expect(existsSync(join(outDir, file)), file).toBe(true);
    }
    const config = JSON.parse(readFileSync(join(outDir, 'config.json'), 'utf8'));
    expect(config.command).toBe('emseg train test');
    expect(config.status).toBe('completed');
    expect(config.config.steps).toBe(12);
    expect(readFileSync(join(outDir, 'curve.svg'), 'utf8')).toMatch(/^<svg[^]*V_rand[^]*<\/svg>/);
    // the loss goes down on this convex problem
    expect(train.at(-1)!.loss).toBeLessThan(train[0]!.loss);
  });

  for (const stopAt of [1, 4, 5, 7]) {
    it(`a run aborted after step ${stopAt} and resumed matches the uninterrupted run exactly`, async () => {
      const reference = fakeParts();
      const refDir = join(root, `ref-${stopAt}`);
      await trainModel(resolveTrainConfig({ ...base, outDir: refDir }), { parts: reference });

      const outDir = join(root, `resumed-${stopAt}`);
      const controller = new AbortController();
      const first = await trainModel(resolveTrainConfig({ ...base, outDir }), {
        parts: fakeParts(),
        signal: controller.signal,
        onEvent: (e) => {
          if (e.type === 'step' && e.step === stopAt) controller.abort();
        },
      });
      expect(first.status).toBe('interrupted');
      expect(first.step).toBe(stopAt);
      expect(loadCheckpoint(outDir, 'latest').loop.step).toBe(stopAt);

      const resumedParts = fakeParts();
      const second = await trainModel(resolveTrainConfig({ ...base, outDir, resume: true }), { parts: resumedParts });
      expect(second.status).toBe('completed');
      expect(second.cropsSeen).toBe(24);
      expect(lossesOf(outDir)).toEqual(lossesOf(refDir));
      // final weights and optimizer state: the latest checkpoints and the last models agree bit for bit
      const stateOf = (dir: string) => loadCheckpoint(dir, 'latest').engineState as { weights: Float32Array; optimizer: { momentum: Float32Array } };
      expect([...stateOf(outDir).weights]).toEqual([...stateOf(refDir).weights]);
      expect([...stateOf(outDir).optimizer.momentum]).toEqual([...stateOf(refDir).optimizer.momentum]);
      expect(readFileSync(join(outDir, 'last-model', 'model.json'), 'utf8')).toBe(readFileSync(join(refDir, 'last-model', 'model.json'), 'utf8'));
      const steps = (dir: string) => readLog(join(dir, 'train.log.jsonl')).filter((l) => l.type !== 'event').map((l) => `${l.type}@${l.step}`);
      expect(steps(outDir)).toEqual(steps(refDir));
    });
  }

  it('warns when a run is resumed with another worker count', async () => {
    const outDir = join(root, 'workers');
    const controller = new AbortController();
    const one = fakeParts();
    Object.assign(one.engine, { workers: 1 });
    await trainModel(resolveTrainConfig({ ...base, outDir }), { parts: one, signal: controller.signal, onEvent: (e) => e.type === 'step' && e.step === 2 && controller.abort() });
    const two = fakeParts();
    Object.assign(two.engine, { workers: 2 });
    const events: TrainEvent[] = [];
    await trainModel(resolveTrainConfig({ ...base, outDir, resume: true }), { parts: two, onEvent: (e) => events.push(e) });
    const warning = events.find((e) => e.type === 'warning') as { message: string } | undefined;
    expect(warning?.message).toMatch(/resuming on fake with 2 worker\(s\), the run so far used fake with 1/);
  });

  it('opens its parts through an injected factory and disposes of them, but not of parts the caller owns', async () => {
    let disposed = 0;
    const owned = () => Object.assign(fakeParts(), { dispose: () => void disposed++ });
    const seen: number[] = [];
    await trainModel(resolveTrainConfig({ ...base, steps: 2, outDir: join(root, 'factory') }), {
      openParts: async (config) => (seen.push(config.steps), owned()),
    });
    expect([seen, disposed]).toEqual([[2], 1]);
    await trainModel(resolveTrainConfig({ ...base, steps: 2, outDir: join(root, 'caller-owned') }), { parts: owned() });
    expect(disposed).toBe(1);
  });

  it('resumes after a kill mid-save: puts a model moved aside back and removes the temp folders', async () => {
    const outDir = join(root, 'killed');
    const controller = new AbortController();
    await trainModel(resolveTrainConfig({ ...base, outDir }), { parts: fakeParts(), signal: controller.signal, onEvent: (e) => e.type === 'step' && e.step === 6 && controller.abort() });
    // What a SIGKILL during the saves leaves (node/atomic-dir.ts): a checkpoint and a model moved
    // aside with their replacements unfinished, and temp folders of a process that is gone.
    const gone = 4_194_999; // above Linux's largest pid
    renameSync(join(outDir, 'checkpoints', 'latest'), join(outDir, 'checkpoints', '.latest.previous'));
    mkdirSync(join(outDir, 'checkpoints', `.latest.tmp-${gone}-1-0`));
    mkdirSync(join(outDir, 'checkpoints', `best.tmp-${gone}-1`));
    renameSync(join(outDir, 'model'), join(outDir, '.model.previous'));
    mkdirSync(join(outDir, `.last-model.tmp-${gone}-1-0`));
    writeFileSync(join(outDir, `.config.json.${gone}.0a1b.tmp`), '{');
    const events: TrainEvent[] = [];
    const resumed = await trainModel(resolveTrainConfig({ ...base, outDir, resume: true }), { parts: fakeParts(), onEvent: (e) => events.push(e) });
    expect(resumed.status).toBe('completed');
    expect(readLog(join(outDir, 'train.log.jsonl')).filter((l) => l.type === 'train')[3]!.step).toBe(8); // it went on from step 6
    expect(readdirSync(outDir).sort()).toEqual(['checkpoints', 'config.json', 'curve.svg', 'last-model', 'model', 'train.log.jsonl']);
    expect(readdirSync(join(outDir, 'checkpoints')).sort()).toEqual(['best', 'latest']);
    expect(events.some((e) => e.type === 'warning' && /tidied after an interrupted run \(restored .*latest/.test(e.message))).toBe(true);
  });

  it('stops at the time budget with a checkpoint, and refuses a resume with other options', async () => {
    const outDir = join(root, 'budget');
    const result = await trainModel(resolveTrainConfig({ ...base, outDir, maxMinutes: 1e-9 }), { parts: fakeParts() });
    expect(result.status).toBe('time-budget');
    expect(loadCheckpoint(outDir, 'latest').loop.step).toBe(result.step);
    await expect(trainModel(resolveTrainConfig({ ...base, outDir }), { parts: fakeParts() })).rejects.toThrow(/already holds a training run/);
    await expect(trainModel(resolveTrainConfig({ ...base, outDir, resume: true, seed: 7 }), { parts: fakeParts() })).rejects.toThrow(/seed: 42 then, 7 now/);
  });
});
