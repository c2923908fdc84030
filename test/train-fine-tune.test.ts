/**
 * Fine-tuning end to end with a tiny parent: `emseg train --init parent.onnx` records the parent
 * (name, sha256) in config.json, `emseg convert` puts it into the child's model card; with
 * --freeze-encoder-steps the encoder and bottleneck stay exactly the parent's during the frozen
 * steps while the decoder moves; --init changes the schedule defaults, explicit options win.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { runCli } from '../cli/run.ts';
import { makeStack } from '../core/image.ts';
import { createRng } from '../core/random.ts';
import { encodeTiff } from '../core/tiff.ts';
import { loadCheckpoint } from '../train/checkpoint.ts';
import { resolveTrainConfig } from '../train/config.ts';
import type { EngineState } from '../train/engine.ts';
import { FINE_TUNE_SCHEDULE, isEncoderWeight } from '../train/fine-tune.ts';
import { parentWeightsFor, readParentModel } from '../train/init-from-onnx.ts';
import { trainModel } from '../train/loop.ts';
import { resolveUNetOptions } from '../train/unet.ts';
import { tinyUNetOnnx, type TinyUNetOnnx } from './helpers/tiny-unet-onnx.ts';

const root = mkdtempSync(join(tmpdir(), 'emseg-fine-tune-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let parent: TinyUNetOnnx;
const SIZE = 64;

beforeAll(async () => {
  parent = await tinyUNetOnnx({ depth: 2, baseFilters: 4, seed: 11, name: 'tiny-parent' });
  const rng = createRng(2);
  const pages = Array.from({ length: 4 }, () => ({ width: SIZE, height: SIZE, data: Uint8Array.from({ length: SIZE * SIZE }, () => Math.floor(rng.float() * 256)) }));
  const labels = Array.from({ length: 4 }, (_, k) => ({ width: SIZE, height: SIZE, data: Uint8Array.from({ length: SIZE * SIZE }, (_, i) => ((i + k) % 9 === 0 ? 0 : 255)) }));
  writeFileSync(join(root, 'images.tif'), encodeTiff(makeStack(pages)));
  writeFileSync(join(root, 'labels.tif'), encodeTiff(makeStack(labels)));
});

const base = () => ({
  images: join(root, 'images.tif'),
  labels: join(root, 'labels.tif'),
  trainSlices: [0, 1, 2],
  validationSlices: [3],
  cropSize: 32,
  batchSize: 2,
  model: { depth: 2, baseFilters: 4 },
  backend: 'cpu' as const,
  workers: 1,
  augment: false,
});

describe('fine-tuning from an ONNX parent', () => {
  it('uses the fine-tuning schedule defaults with --init, explicit options win', () => {
    const tuned = resolveTrainConfig({ ...base(), init: parent.path, steps: 200 });
    expect(tuned.learningRate).toBe(FINE_TUNE_SCHEDULE.learningRate);
    expect(tuned.warmupSteps).toBe(FINE_TUNE_SCHEDULE.warmupSteps);
    expect(resolveTrainConfig({ ...base(), init: parent.path, steps: 200, learningRate: 1e-5 }).learningRate).toBe(1e-5);
    expect(resolveTrainConfig({ ...base(), steps: 200 }).learningRate).toBe(1e-3);
    expect(() => resolveTrainConfig({ ...base(), steps: 10, freezeEncoderSteps: 5 })).toThrow(/--freeze-encoder-steps.*expected --init too/);
    expect(() => resolveTrainConfig({ ...base(), init: parent.path, steps: 10, freezeEncoderSteps: 11 })).toThrow(/from 0 to the budget of 10 steps/);
  });

  it('keeps the encoder frozen for the first steps, names the parent in config.json and in the converted card', { timeout: 180_000 }, async () => {
    const outDir = join(root, 'child');
    const config = resolveTrainConfig({ ...base(), init: parent.path, steps: 2, freezeEncoderSteps: 2, validateEvery: 2, checkpointEvery: 1, learningRate: 1e-2, warmupSteps: 0, outDir });
    const result = await trainModel(config, { command: 'emseg train --init (test)' });
    expect(result.status).toBe('completed');

    // After the two frozen steps: encoder and bottleneck are the parent's, the decoder is not.
    const state = loadCheckpoint(outDir, 'latest').engineState as EngineState;
    const specs = state.meta.buffers.filter((b) => b.name.startsWith('weight:')).map((b) => ({ name: b.name.slice(7), shape: b.shape }));
    const parentWeights = parentWeightsFor(readParentModel(parent.path, resolveUNetOptions(config.model)), specs);
    let decoderMoved = 0;
    specs.forEach((spec, i) => {
      const same = Buffer.from(state.buffers[i]!.buffer, state.buffers[i]!.byteOffset, state.buffers[i]!.byteLength).equals(Buffer.from(parentWeights[i]!.buffer));
      if (isEncoderWeight(spec.name)) expect(same, spec.name).toBe(true);
      else if (!same) decoderMoved++;
    });
    expect(decoderMoved).toBeGreaterThan(0);

    const sha256 = createHash('sha256').update(readFileSync(parent.path)).digest('hex');
    const saved = JSON.parse(readFileSync(join(outDir, 'config.json'), 'utf8'));
    expect(saved.parent).toMatchObject({ name: 'tiny-parent', sha256, path: parent.path });
    expect(saved.data.sources[0]).toMatchObject({ kind: 'stack', images: join(root, 'images.tif') });

    const child = join(root, 'child.onnx');
    const spy = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      const code = await runCli(['convert', join(outDir, 'model'), '-o', child, '--random-only', '--backend', 'cpu', '--quiet'], { stdout: () => {}, stderr: () => {} });
      expect(code).toBe(0);
    } finally {
      spy.mockRestore();
    }
    const card = JSON.parse(readFileSync(join(root, 'child.json'), 'utf8'));
    expect(card.training.parent).toMatchObject({ name: 'tiny-parent', sha256 });
    expect(card.training.data).toContain('images.tif');
    expect(card.training.sources.sources[0].labels).toBe(join(root, 'labels.tif'));
  });

  it('refuses --pixel-size when the parent card records no trainingPixelSize, writing nothing', async () => {
    const outDir = join(root, 'no-pixel-size');
    const config = resolveTrainConfig({ ...base(), init: parent.path, steps: 1, pixelSize: 8, outDir });
    await expect(trainModel(config)).rejects.toThrow(/--pixel-size: the card of --init .*tiny-parent\.onnx records no trainingPixelSize/);
    expect(existsSync(outDir)).toBe(false);
  });

  it('records the data pixel size as the new model\'s trainingPixelSize when training from scratch', async () => {
    const outDir = join(root, 'scratch-4nm');
    await trainModel(resolveTrainConfig({ ...base(), steps: 1, pixelSize: 4, validateEvery: 1, outDir }));
    expect(JSON.parse(readFileSync(join(outDir, 'config.json'), 'utf8')).trainingPixelSize).toBe(4);
  });
});
