/**
 * `emseg convert` end to end, in-process through runCli: a tfjs model folder written like
 * `emseg train` writes it (model/ + config.json beside), an evaluation JSON, the real ISBI slice
 * for parity; checks the ONNX file, the card beside it (sha256 of the file, training facts,
 * metrics, parity figure) and the card copy in the metadata. Also the errors a user can cause.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { runCli } from '../cli/run.ts';
import { MODEL_CARD_METADATA_KEY, type ModelCard } from '../core/contract.ts';
import { readOnnxMetadata, readOnnxSignature } from '../convert/onnx-graph.ts';
import { saveTfjsModelDir } from '../convert/tfjs-model-dir.ts';
import { checkOnnxFile } from '../convert/onnx-checker.ts';
import { compareModels, createCpuSession, randomInput } from '../convert/parity.ts';
import { buildUNet } from '../train/unet.ts';
import { randomizeWeights } from './helpers/tiny-unet-onnx.ts';
import { expectCheckerPasses } from './helpers/onnx-checker-expect.ts';
import { tempDir } from './helpers/temp-dir.ts';

function capture() {
  const io = { out: '', err: '' };
  return { io, cli: { stdout: (t: string) => (io.out += t), stderr: (t: string) => (io.err += t) } };
}

describe('emseg convert', () => {
  const root = tempDir('emseg-convert-cli-');
  const runDir = join(root, 'run');
  const modelDir = join(runDir, 'model');
  let model: tf.LayersModel;

  beforeAll(async () => {
    await tf.setBackend('cpu');
    model = buildUNet(tf, { depth: 2, baseFilters: 4, batchNorm: true });
    randomizeWeights(model, 21);
    await saveTfjsModelDir(tf, model, modelDir);
    writeFileSync(
      join(runDir, 'config.json'),
      JSON.stringify({
        command: 'emseg train --steps 40 --crop-size 64',
        status: 'completed',
        backend: 'wasm',
        split: { train: '0-24', validation: '25-29' },
        config: { images: 'data/isbi2012/train-volume.tif', labels: 'data/isbi2012/train-labels.tif', steps: 40, batchSize: 2, cropSize: 64 },
        stepsDone: 40,
        cropsSeen: 80,
        wallTimeSeconds: 12.5,
      }),
    );
    writeFileSync(join(runDir, 'train.log.jsonl'), '{"type":"event","event":"start"}\n');
    writeFileSync(
      join(root, 'metrics.json'),
      JSON.stringify({
        model: 'models/x.onnx',
        modelKind: 'onnx',
        sha256: 'ab'.repeat(32),
        images: 'data/isbi2012/train-volume.tif',
        command: 'emseg evaluate models/x.onnx --slices 25-29',
        machine: 'test machine',
        slices: [25, 26, 27, 28, 29],
        rows: [{ variant: 'plain', bestThreshold: 0.4, vRandBest: 0.91, vInfoBest: 0.95, threshold: 0.5, vRand: 0.9, vInfo: 0.94, pixelError: 0.08, dice: 0.93, iou: 0.87 }],
      }),
    );
  });

  it('writes the ONNX file and its card with parity on the ISBI slice, training facts and metrics', async () => {
    const output = join(root, 'models', 'tiny.onnx');
    const { io, cli } = capture();
    const code = await runCli(['convert', modelDir, '-o', output, '--metrics', join(root, 'metrics.json'), '--threshold', '0.45', '--tta', '--quiet'], cli);
    expect(io.err).toBe('');
    expect(code).toBe(0);
    const bytes = new Uint8Array(readFileSync(output));
    const card = JSON.parse(readFileSync(join(root, 'models', 'tiny.json'), 'utf8')) as ModelCard;
    expect(card.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
    expect(card.name).toBe('tiny');
    expect(card.threshold).toBe(0.45);
    expect(card.tta).toBe(true);
    expect(card.architecture).toMatchObject({ kind: 'unet', depth: 2, baseFilters: 4, batchNorm: true, parameters: model.countParams() });
    expect(card.training).toMatchObject({ command: 'emseg train --steps 40 --crop-size 64', cropsSeen: 80, wallTimeSeconds: 12.5, backend: 'wasm' });
    expect(card.training?.split.validation).toEqual([25, 26, 27, 28, 29]);
    expect(card.metrics?.withoutTta).toMatchObject({ vRand: 0.91, vInfo: 0.95, bestThreshold: 0.4, dice: 0.93 });
    expect(card.metrics).toMatchObject({ command: 'emseg evaluate models/x.onnx --slices 25-29', machine: 'test machine', split: 'data/isbi2012/train-volume.tif slices 25,26,27,28,29' });
    expect(card.metrics?.['evaluatedModel']).toEqual({ path: 'models/x.onnx', kind: 'onnx', sha256: 'ab'.repeat(32) });
    // The run's config and log travel with the model, where emseg evaluate looks for them.
    expect(readFileSync(join(root, 'models', 'tiny.train-config.json'), 'utf8')).toBe(readFileSync(join(runDir, 'config.json'), 'utf8'));
    expect(existsSync(join(root, 'models', 'tiny.train.log.jsonl'))).toBe(true);
    expect(card.conversion!.parityMaxAbsDiff).toBeLessThan(1e-4);
    expect(card.conversion!.paritySizes.join(' ')).toContain('train-volume.tif slice 0 (512x512');
    expect(card.conversion!.paritySizes).toHaveLength(3);
    expect(card.conversion!.command).toBe(`emseg convert ${modelDir} -o ${output} --metrics ${join(root, 'metrics.json')} --threshold 0.45 --tta --quiet`);
    // The metadata copy is the same card without the hash (a file cannot contain its own hash).
    const metadataCard = JSON.parse(readOnnxMetadata(bytes)[MODEL_CARD_METADATA_KEY]!);
    const { sha256: _hash, ...withoutHash } = card;
    expect(metadataCard).toEqual(withoutHash);
    expect(readOnnxSignature(bytes).inputs[0]).toEqual({ name: 'image', shape: ['N', 1, 'H', 'W'] });
    // The written file (not only the checked draft) still equals tfjs.
    const session = await createCpuSession(bytes);
    const report = await compareModels(tf, model, session, [randomInput('1x32x48', [1, 1, 32, 48], 4)]);
    expect(report.maxAbsDiff).toBeLessThan(1e-4);
    await session.release();
    expectCheckerPasses(checkOnnxFile(output));
    expect(io.out).toBe('');
  });

  it("carries the threshold the run's validation chose and its pixel size into the card; --metrics' choice wins", async () => {
    // A fine-tuned run: its kept validation's best threshold 0.7 beats 0.5 by 0.02 (over the 0.005 margin).
    const fineRun = join(root, 'fine-run');
    await saveTfjsModelDir(tf, model, join(fineRun, 'model'));
    writeFileSync(
      join(fineRun, 'config.json'),
      JSON.stringify({
        command: 'emseg train --init parent.onnx --pixel-size 8',
        split: { train: '0,7,14', validation: '3,11' },
        config: { steps: 40, batchSize: 4, cropSize: 64 },
        trainingPixelSize: 8,
        parent: { name: 'parent', sha256: 'cd'.repeat(32) },
        best: { type: 'validation', step: 40, crops: 160, vRandBest: 0.92, vInfoBest: 0.95, bestThreshold: 0.7, threshold: 0.5, vRand: 0.9, vInfo: 0.94, pixelError: 0.1, dice: 0.9, iou: 0.8 },
      }),
    );
    const output = join(root, 'fine', 'fine.onnx');
    expect(await runCli(['convert', join(fineRun, 'model'), '-o', output, '--random-only', '--backend', 'cpu', '--quiet'], capture().cli)).toBe(0);
    const card = JSON.parse(readFileSync(join(root, 'fine', 'fine.json'), 'utf8')) as ModelCard;
    expect(card.threshold).toBe(0.7);
    expect(card.trainingPixelSize).toBe(8);
    expect(card.training?.['thresholdChoice']).toBe(
      "the training run's validation at step 40 (its validation slices are the selection slices): plain: threshold 0.7: gains 0.0200 over 0.5 in V_rand on the selection slices (margin 0.005; no shift suite given)",
    );
    expect(card.training?.parent?.name).toBe('parent');

    // The evaluation's choice on its selection slices wins over the run's validation.
    const metrics = join(root, 'selected.json');
    writeFileSync(
      metrics,
      JSON.stringify({
        model: output, slices: [1, 2], threshold: 0.6,
        rows: [{ variant: 'plain', bestThreshold: 0.6, vRandBest: 0.91, vInfoBest: 0.95, threshold: 0.6, vRand: 0.9, vInfo: 0.94, pixelError: 0.08, dice: 0.93, iou: 0.87 }],
        selection: { slices: [3, 11], chosenThresholds: { plain: 0.6 }, served: 'plain', reasons: ['plain: threshold 0.6: ...'], rows: [] },
        command: 'emseg evaluate fine.onnx --select-slices 3,11 --slices 1-2',
      }),
    );
    const selected = join(root, 'fine', 'selected.onnx');
    expect(await runCli(['convert', join(fineRun, 'model'), '-o', selected, '--metrics', metrics, '--random-only', '--backend', 'cpu', '--quiet'], capture().cli)).toBe(0);
    expect((JSON.parse(readFileSync(join(root, 'fine', 'selected.json'), 'utf8')) as ModelCard).threshold).toBe(0.6);
  });

  it('refuses to replace an existing model, card or copies without --force', async () => {
    const output = join(root, 'again', 'again.onnx');
    expect(await runCli(['convert', modelDir, '-o', output, '--random-only', '--backend', 'cpu', '--quiet'], capture().cli)).toBe(0);
    const before = readFileSync(output);
    const { io, cli } = capture();
    expect(await runCli(['convert', modelDir, '-o', output, '--random-only', '--backend', 'cpu', '--quiet', '--name', 'other'], cli)).toBe(1);
    expect(io.err).toBe(`emseg: -o ${output}: exists already (and 3 more of its outputs); pass --force to replace them, or choose another path\n`);
    expect(readFileSync(output)).toEqual(before);
    // Only the card in the way: named as the card.
    rmSync(output);
    const card = capture();
    expect(await runCli(['convert', modelDir, '-o', output, '--random-only', '--backend', 'cpu', '--quiet'], card.cli)).toBe(1);
    expect(card.io.err).toMatch(/^emseg: -o \(its card\) .*again\.json: exists already \(and 2 more of its outputs\)/);
    expect(await runCli(['convert', modelDir, '-o', output, '--random-only', '--backend', 'cpu', '--quiet', '--name', 'other', '--force'], capture().cli)).toBe(0);
    expect((JSON.parse(readFileSync(join(root, 'again', 'again.json'), 'utf8')) as ModelCard).name).toBe('other');
  });

  it('refuses a missing model folder, a non-.onnx output and a bad threshold with one line each', async () => {
    for (const [argv, message] of [
      [['convert', join(root, 'nope'), '-o', join(root, 'a.onnx'), '--random-only'], 'no such tfjs model folder'],
      [['convert', modelDir, '-o', join(root, 'a.txt'), '--random-only'], 'expected a path ending in .onnx'],
      [['convert', modelDir, '-o', join(root, 'a.onnx'), '--threshold', '2'], '--threshold: expected a number in [0, 1]'],
      [['convert', modelDir, '-o', join(root, 'a.onnx'), '--metrics', join(root, 'missing.json'), '--random-only'], 'missing.json: no such file'],
    ] as const) {
      const { io, cli } = capture();
      expect(await runCli([...argv], cli)).toBe(1);
      expect(io.err).toContain(message);
      expect(io.err.trim().split('\n')).toHaveLength(1);
    }
    expect(existsSync(join(root, 'a.onnx'))).toBe(false);
  });

  it('writes the card\'s cells section from --cells (the bench:seeds JSON or a bare section), schema-checked', async () => {
    const chosen = { seedRule: 'distance', seedThreshold: 0.7, seedDistance: 2, minSeedArea: 10, maskThreshold: 0, minCellArea: 0, chosenBy: 'npm run bench:seeds -- --grid small' };
    writeFileSync(join(root, 'seeds.json'), JSON.stringify({ benchmark: 'seed-rule', selection: { rows: [] }, cells: chosen }));
    writeFileSync(join(root, 'bare-cells.json'), JSON.stringify({ seedThreshold: 0.6 }));
    for (const [file, expected] of [
      ['seeds.json', chosen],
      ['bare-cells.json', { seedThreshold: 0.6 }],
    ] as const) {
      const output = join(root, 'cells', `${file.replace('.json', '')}.onnx`);
      const { io, cli } = capture();
      expect(await runCli(['convert', modelDir, '-o', output, '--cells', join(root, file), '--random-only', '--backend', 'cpu', '--quiet'], cli)).toBe(0);
      expect(io.err).toBe('');
      const { readModelCardFile } = await import('../node/model-card-file.ts');
      const card = await readModelCardFile(output.replace(/\.onnx$/, '.json'));
      expect(card?.cells).toEqual(expected);
      expect(JSON.parse(readOnnxMetadata(new Uint8Array(readFileSync(output)))[MODEL_CARD_METADATA_KEY]!).cells).toEqual(expected);
    }
  });

  it('refuses a bad --cells file with one line naming the field, before loading the model', async () => {
    const bad = (name: string, doc: unknown) => {
      writeFileSync(join(root, name), JSON.stringify(doc));
      return join(root, name);
    };
    for (const [file, message] of [
      [bad('high.json', { cells: { seedThreshold: 1.5 } }), 'high.json: cells.seedThreshold: expected a number in [0, 1], found 1.5'],
      [bad('rule.json', { seedRule: 'magic' }), 'rule.json: seedRule: expected one of probability, distance, found "magic"'],
      [bad('typo.json', { seedTreshold: 0.7 }), 'typo.json: expected only the fields seedRule, seedThreshold, seedDistance, minSeedArea, maskThreshold, minCellArea, chunkSize, chunkHalo, chosenBy, found seedTreshold'],
      [bad('empty.json', { cells: { chosenBy: 'x' } }), 'empty.json: expected cell parameters'],
      [bad('list.json', [1]), 'list.json: expected a JSON object'],
      [join(root, 'absent.json'), 'absent.json: no such file'],
    ] as const) {
      const { io, cli } = capture();
      expect(await runCli(['convert', modelDir, '-o', join(root, 'c.onnx'), '--cells', file, '--random-only'], cli)).toBe(1);
      expect(io.err).toContain(`--cells ${root}`);
      expect(io.err).toContain(message);
      expect(io.err.trim().split('\n')).toHaveLength(1);
    }
    expect(existsSync(join(root, 'c.onnx'))).toBe(false);
  });

  it('documents every option in convert/README.md', async () => {
    const readme = readFileSync(new URL('../convert/README.md', import.meta.url), 'utf8');
    const { convertArgs } = await import('../cli/commands/convert.ts');
    const { exportPackageArgs } = await import('../cli/commands/export-package.ts');
    for (const [name, def] of [...Object.entries(convertArgs), ...Object.entries(exportPackageArgs)]) {
      if (def.type === 'positional') continue;
      expect(readme, `--${name}`).toContain(`--${name}`);
    }
  });

  it('fails and writes nothing when parity exceeds the tolerance', async () => {
    const output = join(root, 'strict', 'strict.onnx');
    const { io, cli } = capture();
    // float32 kernels of two runtimes never agree to 1e-12 on a batch-norm U-Net.
    expect(await runCli(['convert', modelDir, '-o', output, '--random-only', '--tolerance', '1e-12', '--backend', 'cpu', '--quiet'], cli)).toBe(1);
    expect(io.err).toMatch(/^emseg: .*model\.json: parity check failed: tfjs and onnxruntime differ by up to .* \(tolerance 1e-12\); nothing written\n$/);
    expect(existsSync(output)).toBe(false);
    expect(existsSync(join(root, 'strict', 'strict.json'))).toBe(false);
  });

  it('refuses a model that does not follow the contract (channels, sigmoid)', async () => {
    const dir = join(root, 'two-class');
    const input = tf.input({ shape: [null, null, 1] });
    const logits = tf.layers.conv2d({ filters: 2, kernelSize: 1, activation: 'softmax' }).apply(input) as tf.SymbolicTensor;
    await saveTfjsModelDir(tf, tf.model({ inputs: input, outputs: logits }), dir);
    const { io, cli } = capture();
    expect(await runCli(['convert', dir, '-o', join(root, 'two.onnx'), '--random-only'], cli)).toBe(1);
    expect(io.err).toContain('does not follow the emseg model contract: output has 2 channels (expected 1); last op is Softmax');
  });

  it('reports every unsupported layer of a model at once', async () => {
    const dir = join(root, 'unsupported');
    mkdirSync(dir, { recursive: true });
    const input = tf.input({ shape: [8, 8, 1] });
    const a = tf.layers.conv2d({ filters: 2, kernelSize: 3, padding: 'same', name: 'ok_conv' }).apply(input) as tf.SymbolicTensor;
    const b = tf.layers.flatten({ name: 'flat' }).apply(a) as tf.SymbolicTensor;
    const c = tf.layers.reshape({ targetShape: [8, 8, 2], name: 'back' }).apply(b) as tf.SymbolicTensor;
    const d = tf.layers.conv2d({ filters: 1, kernelSize: 1, name: 'head' }).apply(c) as tf.SymbolicTensor;
    await saveTfjsModelDir(tf, tf.model({ inputs: input, outputs: d }), dir);
    const { io, cli } = capture();
    expect(await runCli(['convert', dir, '-o', join(root, 'u.onnx'), '--random-only'], cli)).toBe(1);
    expect(io.err).toContain('flat (Flatten)');
    expect(io.err).toContain('back (Reshape)');
    expect(io.err).toContain('Supported layers: InputLayer, Conv2D, Conv2DTranspose');
    expect(io.err).not.toContain('ok_conv');
    expect(existsSync(join(root, 'u.onnx'))).toBe(false);
  });
});
