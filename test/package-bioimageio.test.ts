/**
 * `emseg export-package --bioimageio`: the rdf.yaml (format 0.5) describes the real tensors and
 * files, the test tensors reproduce with onnxruntime-node after the declared preprocessing, and
 * numpy (Debian's python3-numpy, when present) reads the same arrays.
 */
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';

import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse as parseNpy } from 'npyjs';
import { parse as parseYaml } from 'yaml';
import sharp from 'sharp';
import { unzipSync } from 'fflate';
import { runCli } from '../cli/run.ts';
import { normalizeSlice } from '../core/normalize.ts';
import { makeImage } from '../core/image.ts';
import { packageDocumentation } from '../convert/bioimageio-docs.ts';
import { createCpuSession, maxAbsDifference, runOnnx } from '../convert/parity.ts';
import { parseModelCardJson } from '../core/model-card.ts';
import { PYTHON } from '../convert/onnx-checker.ts';
import { tinyUNetOnnx, type TinyUNetOnnx } from './helpers/tiny-unet-onnx.ts';
import { ISBI_SAMPLE_SLICE, ISBI_TRAIN_IMAGES } from '../core/isbi-data.ts';
import { defaultTestImage } from '../convert/isbi-slice.ts';
import { tempDir } from './helpers/temp-dir.ts';

const sha = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

describe('bioimage.io package', () => {
  const out = join(tempDir('emseg-bioimageio-'), 'pkg');
  let tiny: TinyUNetOnnx;
  let rdf: Record<string, any>;

  beforeAll(async () => {
    tiny = await tinyUNetOnnx({ depth: 2, baseFilters: 4, batchNorm: true, seed: 3 });
    const errors: string[] = [];
    const code = await runCli(['export-package', tiny.path, '--bioimageio', out, '--author', 'A. Tester, B. Tester', '--zip'], {
      stdout: () => undefined,
      stderr: (text) => errors.push(text),
    });
    expect(errors.join('')).toBe('');
    expect(code).toBe(0);
    rdf = parseYaml(readFileSync(join(out, 'rdf.yaml'), 'utf8'));
  });

  it('describes a format 0.5 model with ONNX weights, axes, preprocessing, cover, docs and citations', () => {
    expect(rdf['format_version']).toMatch(/^0\.5\./);
    expect(rdf['type']).toBe('model');
    expect(rdf['name']).toBe(tiny.card.name);
    expect(rdf['authors']).toEqual([{ name: 'A. Tester' }, { name: 'B. Tester' }]);
    expect(rdf['license']).toBe('MIT');
    expect(rdf['weights'].onnx).toMatchObject({ source: 'weights.onnx', opset_version: 17, sha256: sha(tiny.bytes) });
    const [input] = rdf['inputs'];
    const [output] = rdf['outputs'];
    expect(input.id).toBe('image');
    expect(input.axes.map((axis: any) => axis.id ?? axis.type)).toEqual(['batch', 'channel', 'y', 'x']);
    // The smallest multiple of 4 that outlives cropping the 32 px output halo from both sides.
    expect(input.axes[2].size).toEqual({ min: 68, step: 4 });
    expect(input.preprocessing).toContainEqual({ id: 'zero_mean_unit_variance', kwargs: { axes: ['y', 'x'], eps: 1e-6 } });
    expect(output.id).toBe('probability');
    expect(output.axes[3].size).toEqual({ tensor_id: 'image', axis_id: 'x' });
    for (const entry of [input.test_tensor, output.test_tensor, rdf['weights'].onnx, ...rdf['attachments']]) {
      expect(sha(readFileSync(join(out, entry.source))), entry.source).toBe(entry.sha256);
    }
    expect(rdf['cite'].map((cite: any) => cite.doi)).toEqual(expect.arrayContaining(['10.1371/journal.pbio.1000502', '10.3389/fnana.2015.00142']));
    const docs = readFileSync(join(out, rdf['documentation']), 'utf8');
    expect(docs).toContain('## Validation');
    // A consumer normalizing with bioimage.io's eps gets (almost) the same output.
    const consumer = /gives outputs within ([0-9.e+-]+) of test_output/.exec(docs);
    expect(consumer).not.toBeNull();
    expect(Number(consumer![1])).toBeLessThan(1e-4);
    expect(sha(readFileSync(join(out, 'weights.onnx')))).toBe(sha(tiny.bytes));
  });

  it("names every training run of the shipped model's --init chain in its README", () => {
    const card = parseModelCardJson(readFileSync('models/isbi2012-unet.json', 'utf8'), 'models/isbi2012-unet.json');
    const docs = packageDocumentation({ card, testImageSource: 'slice 0', inputShape: [1, 1, 512, 512], reproduce: 0, consumerDiff: 0, eps: 1e-6 });
    const training = docs.slice(docs.indexOf('## Training data'), docs.indexOf('## Validation'));
    expect(training).toContain(`command \`${card.training!.command}\``);
    expect(training).toContain(`That run is the last of 3; each run after the first started from the previous one's export`);
    expect(training).toContain(`; ${card.training!['cropsSeenWithAncestors']} crops in all.`);
    expect(training.indexOf('--steps 3000')).toBeLessThan(training.indexOf('--seed 43'));
  });

  it('is also written as a zip with rdf.yaml at its root and the same files', () => {
    const entries = unzipSync(new Uint8Array(readFileSync(`${out}.zip`)));
    expect(Object.keys(entries).sort()).toEqual(['README.md', 'cover.png', 'model_card.json', 'rdf.yaml', 'sample_input.png', 'sample_output.png', 'test_input.npy', 'test_output.npy', 'weights.onnx']);
    // Compared by hash: deep equality on megabyte buffers is slow.
    for (const [name, bytes] of Object.entries(entries)) expect(sha(bytes), name).toBe(sha(readFileSync(join(out, name))));
  });

  it('has a 2:1 cover image showing image | prediction', async () => {
    const meta = await sharp(join(out, rdf['covers'][0])).metadata();
    expect(meta.format).toBe('png');
    expect(meta.height).toBe(256);
    expect(meta.width).toBe(2 * meta.height!);
  });

  it('has test tensors that reproduce with onnxruntime-node after the declared preprocessing', async () => {
    const input = parseNpy(readFileSync(join(out, 'test_input.npy')).buffer.slice(0) as ArrayBuffer);
    const expected = parseNpy(readFileSync(join(out, 'test_output.npy')).buffer.slice(0) as ArrayBuffer);
    expect(input.dtype).toBe('f4');
    expect(input.shape).toEqual([1, 1, 512, 512]);
    expect(expected.shape).toEqual([1, 1, 512, 512]);
    const raw = input.data as Float32Array;
    // Raw 8-bit intensities of the ISBI slice, not yet normalized.
    expect(Math.max(...raw.subarray(0, 4096))).toBeGreaterThan(100);
    const session = await createCpuSession(tiny.path);
    const actual = await runOnnx(session, { label: 'test', data: normalizeSlice(makeImage(512, 512, raw)), shape: [1, 1, 512, 512] });
    await session.release();
    expect(maxAbsDifference(actual.data, expected.data as Float32Array)).toBeLessThan(1e-6);
    // The tfjs oracle agrees with the stored output too.
    const tf = await import('@tensorflow/tfjs');
    const nhwc = tf.tensor4d(normalizeSlice(makeImage(512, 512, raw)), [1, 512, 512, 1]);
    const oracle = (tiny.model.predict(nhwc) as import('@tensorflow/tfjs').Tensor).dataSync() as Float32Array;
    expect(maxAbsDifference(oracle, expected.data as Float32Array)).toBeLessThan(1e-4);
  });

  it('writes .npy files that numpy reads to the same values', () => {
    const script = [
      'import sys, json, numpy as np',
      'a = np.load(sys.argv[1]); b = np.load(sys.argv[2])',
      'print(json.dumps({"dtype": [str(a.dtype), str(b.dtype)], "shape": [list(a.shape), list(b.shape)], "sums": [float(a.astype(np.float64).sum()), float(b.astype(np.float64).sum())], "corner": float(b[0, 0, 0, 0])}))',
    ].join('\n');
    const run = spawnSync(PYTHON, ['-c', script, join(out, 'test_input.npy'), join(out, 'test_output.npy')], { encoding: 'utf8' });
    if (run.error || run.status !== 0) {
      if (process.env['CI']) throw new Error(`numpy unavailable in CI: ${run.error?.message ?? run.stderr}`);
      console.warn(`SKIPPED numpy cross-check: ${run.error?.message ?? run.stderr.trim().split('\n').pop()}`);
      return;
    }
    const result = JSON.parse(run.stdout);
    const input = parseNpy(readFileSync(join(out, 'test_input.npy')).buffer.slice(0) as ArrayBuffer).data as Float32Array;
    const output = parseNpy(readFileSync(join(out, 'test_output.npy')).buffer.slice(0) as ArrayBuffer).data as Float32Array;
    expect(result.dtype).toEqual(['float32', 'float32']);
    expect(result.shape).toEqual([
      [1, 1, 512, 512],
      [1, 1, 512, 512],
    ]);
    const sum = (data: Float32Array) => data.reduce((acc, value) => acc + value, 0);
    expect(result.sums[0]).toBeCloseTo(sum(input), 3);
    expect(result.sums[1]).toBeCloseTo(sum(output), 3);
    expect(result.corner).toBe(output[0]);
  });
});

describe('the test image of export-package', () => {
  it('names its own flags when the image is missing or has no such slice', async () => {
    const tiny = await tinyUNetOnnx({ depth: 2, baseFilters: 4, batchNorm: false, seed: 5 });
    const dir = tempDir('emseg-bioimageio-flags-');
    const run = async (extra: string[]) => {
      const errors: string[] = [];
      const code = await runCli(['export-package', tiny.path, '--bioimageio', join(dir, 'pkg'), ...extra], { stdout: () => undefined, stderr: (text) => errors.push(text) });
      return [code, errors.join('')];
    };
    expect(await run(['--test-image', join(dir, 'absent.tif')])).toEqual([1, `emseg: --test-image ${join(dir, 'absent.tif')}: no such image file; give an existing TIFF stack or PNG/JPEG slice\n`]);
    expect(await run(['--test-image', ISBI_SAMPLE_SLICE, '--test-slice', '1'])).toEqual([1, `emseg: --test-slice 1: ${ISBI_SAMPLE_SLICE} has 1 slice(s) (0-0)\n`]);
  });

  it('is the ISBI stack in a checkout, else the slice the package ships, with the same pixels', async () => {
    expect(defaultTestImage()).toBe(ISBI_TRAIN_IMAGES);
    const cwd = process.cwd();
    const elsewhere = tempDir('emseg-bioimageio-cwd-');
    try {
      process.chdir(elsewhere);
      // Outside the checkout the stack is found beside the code (the repository here); in the
      // installed package only the sample slice is there (test/package-tarball.test.ts).
      expect(defaultTestImage()).toBe(join(cwd, ISBI_TRAIN_IMAGES));
    } finally {
      process.chdir(cwd);
    }
  });
});
