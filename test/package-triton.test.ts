/**
 * `emseg export-package --triton`: config.pbtxt names the ONNX graph's real inputs and outputs
 * (read from the file, so a model with other names gets other names), dims without the batch
 * axis, dynamic batching; the model file is copied unchanged to <name>/1/model.onnx.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { runCli } from '../cli/run.ts';
import { tritonConfig } from '../convert/triton.ts';
import { exportLayersModel } from '../convert/tfjs-to-onnx.ts';
import { buildModelCard, modelCardMetadata } from '../convert/model-card.ts';
import { tinyUNetOnnx, type TinyUNetOnnx } from './helpers/tiny-unet-onnx.ts';
import { tempDir } from './helpers/temp-dir.ts';

/** The `name:` values inside the input [...] / output [...] blocks of a config.pbtxt. */
function blockNames(config: string, block: 'input' | 'output'): string[] {
  const body = new RegExp(`^${block} \\[\\n([\\s\\S]*?)^\\]`, 'm').exec(config)?.[1] ?? '';
  return [...body.matchAll(/name: "([^"]+)"/g)].map((match) => match[1]!);
}

describe('Triton model repository', () => {
  const root = tempDir('emseg-triton-');
  let tiny: TinyUNetOnnx;

  beforeAll(async () => {
    tiny = await tinyUNetOnnx({ name: 'tiny-triton' });
  });

  it('writes config.pbtxt and 1/model.onnx named after the graph', async () => {
    const errors: string[] = [];
    const code = await runCli(['export-package', tiny.path, '--triton', root, '--max-batch-size', '4'], { stdout: () => undefined, stderr: (t) => errors.push(t) });
    expect(errors.join('')).toBe('');
    expect(code).toBe(0);
    const config = readFileSync(join(root, 'tiny-triton', 'config.pbtxt'), 'utf8');
    expect(config).toContain('name: "tiny-triton"');
    expect(config).toContain('platform: "onnxruntime_onnx"');
    expect(config).toContain('max_batch_size: 4');
    expect(config).toMatch(/dynamic_batching \{[^}]*max_queue_delay_microseconds: \d+/);
    expect(config).not.toContain('preferred_batch_size');
    // The size rule, where Triton users read it: the tiny U-Net (depth 2) takes multiples of 4.
    expect(config).toMatch(/^# Sizes: send tiles of one fixed size whose height and width are multiples of 4/m);
    expect(config).toMatch(/instance_group \[\s*\{\s*count: 1\s*kind: KIND_GPU/);
    expect(blockNames(config, 'input')).toEqual(['image']);
    expect(blockNames(config, 'output')).toEqual(['probability']);
    expect(config.match(/dims: \[ 1, -1, -1 \]/g)).toHaveLength(2);
    expect(Buffer.compare(readFileSync(join(root, 'tiny-triton', '1', 'model.onnx')), Buffer.from(tiny.bytes))).toBe(0);
  });

  it('takes the names from the ONNX graph, not from the contract', () => {
    const input = tf.input({ shape: [null, null, 3], name: 'rgb' });
    const output = tf.layers.conv2d({ filters: 2, kernelSize: 1 }).apply(input) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: output });
    const bytes = exportLayersModel(model, { inputName: 'pixels', outputName: 'scores' });
    const config = tritonConfig(bytes, { name: 'other' });
    expect(blockNames(config, 'input')).toEqual(['pixels']);
    expect(blockNames(config, 'output')).toEqual(['scores']);
    expect(config).toContain('dims: [ 3, -1, -1 ]');
    expect(config).toContain('dims: [ 2, -1, -1 ]');
  });

  it('runs on the CPU only when asked, and refuses KIND_AUTO', async () => {
    const cpu = join(root, 'cpu');
    expect(await runCli(['export-package', tiny.path, '--triton', cpu, '--instance-kind', 'KIND_CPU'], { stdout: () => undefined, stderr: () => undefined })).toBe(0);
    expect(readFileSync(join(cpu, 'tiny-triton', 'config.pbtxt'), 'utf8')).toMatch(/kind: KIND_CPU/);
    const errors: string[] = [];
    expect(await runCli(['export-package', tiny.path, '--triton', cpu, '--instance-kind', 'KIND_AUTO'], { stdout: () => undefined, stderr: (t) => errors.push(t) })).toBe(1);
    expect(errors.join('')).toMatch(/--instance-kind: expected one of KIND_GPU, KIND_CPU, found "KIND_AUTO"/);
  });

  it('refuses bad names and options with one line', async () => {
    expect(() => tritonConfig(tiny.bytes, { name: 'bad name' })).toThrow(/Triton model name/);
    const errors: string[] = [];
    expect(await runCli(['export-package', tiny.path, '--triton', root, '--max-batch-size', '0'], { stdout: () => undefined, stderr: (t) => errors.push(t) })).toBe(1);
    expect(errors.join('')).toContain('--max-batch-size: expected an integer >= 1');
    const none: string[] = [];
    expect(await runCli(['export-package', tiny.path], { stdout: () => undefined, stderr: (t) => none.push(t) })).toBe(1);
    expect(none.join('')).toContain('--bioimageio <dir>, --triton <dir> or both');
  });

  it('refuses to replace a model already in the repository without --force', async () => {
    const repo = join(root, 'again');
    const quiet = { stdout: () => undefined, stderr: () => undefined };
    expect(await runCli(['export-package', tiny.path, '--triton', repo], quiet)).toBe(0);
    const errors: string[] = [];
    expect(await runCli(['export-package', tiny.path, '--triton', repo, '--max-batch-size', '2'], { stdout: () => undefined, stderr: (t) => errors.push(t) })).toBe(1);
    expect(errors.join('')).toBe(`emseg: --triton ${join(repo, 'tiny-triton', 'config.pbtxt')}: exists already (and 1 more of its outputs); pass --force to replace them, or choose another path\n`);
    expect(readFileSync(join(repo, 'tiny-triton', 'config.pbtxt'), 'utf8')).toContain('max_batch_size: 8');
    // Another model beside it is fine: the repository holds many.
    expect(await runCli(['export-package', tiny.path, '--triton', repo, '--name', 'other'], quiet)).toBe(0);
    expect(await runCli(['export-package', tiny.path, '--triton', repo, '--max-batch-size', '2', '--force'], quiet)).toBe(0);
    expect(readFileSync(join(repo, 'tiny-triton', 'config.pbtxt'), 'utf8')).toContain('max_batch_size: 2');
  });

  it('refuses a card whose sha256 does not match the file', async () => {
    const card = { ...buildModelCard(tiny.model, { name: 'mismatch' }), sha256: 'f'.repeat(64) };
    const onnx = join(root, 'mismatch.onnx');
    writeFileSync(onnx, exportLayersModel(tiny.model, { metadata: modelCardMetadata(card) }));
    writeFileSync(join(root, 'mismatch.json'), JSON.stringify(card));
    const errors: string[] = [];
    expect(await runCli(['export-package', onnx, '--triton', join(root, 'x')], { stdout: () => undefined, stderr: (t) => errors.push(t) })).toBe(1);
    expect(errors.join('')).toContain('does not match');
  });
});
