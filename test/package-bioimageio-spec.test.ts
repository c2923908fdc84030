/**
 * The bioimage.io package of the shipped model checked against the rules of the bioimage.io model
 * spec, format 0.5.7 (bioimageio.spec, model/v0_5.py and generic/v0_3.py), as far as they can be
 * checked without the zoo's validator. Each check quotes or paraphrases the spec text it comes from.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { parse as parseYaml } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../cli/run.ts';
import { parseModelCardJson } from '../core/model-card.ts';
import { tempDir } from './helpers/temp-dir.ts';

const MODEL = 'models/isbi2012-unet.onnx';
const card = parseModelCardJson(readFileSync('models/isbi2012-unet.json', 'utf8'), 'card');
const sha = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

// bioimageio.spec static/tag_categories.json, "model": the entries of each category that could
// describe this model (the spec warns when a category has no tag).
const TAG_CATEGORIES: Record<string, string[]> = {
  modality: ['electron-microscopy', 'cryo-electron-microscopy', 'fluorescence-light-microscopy'],
  dims: ['2d', '3d', '2d-t', '3d-t'],
  content: ['cells', 'nuclei', 'tissue', 'cell-membrane', 'brain', 'mitochondria'],
  framework: ['tensorflow', 'pytorch', 'tensorflow.js'],
  software: ['ilastik', 'imagej', 'fiji', 'imjoy', 'deepimagej', 'n2v'],
  network: ['unet', 'densenet', 'resnet', 'inception', 'shufflenet'],
  task: ['semantic-segmentation', 'instance-segmentation', 'object-detection', 'image-classification', 'denoising'],
};

describe('bioimage.io package of the shipped model, against the spec 0.5.7', () => {
  const out = join(tempDir('emseg-bioimageio-spec-'), 'pkg');
  let rdf: Record<string, any>;
  const file = (name: string) => join(out, name);

  beforeAll(async () => {
    const errors: string[] = [];
    const code = await runCli(['export-package', MODEL, '--bioimageio', out, '--maintainer', 'emseg-maintainer', '--git-repo', 'https://github.com/example/emseg'], {
      stdout: () => undefined,
      stderr: (text) => errors.push(text),
    });
    expect(errors.join('')).toBe('');
    expect(code).toBe(0);
    rdf = parseYaml(readFileSync(file('rdf.yaml'), 'utf8'));
  }, 120_000);

  it('declares the latest format version of the 0.5 series', () => {
    expect(rdf.format_version).toBe('0.5.7');
    expect(rdf.type).toBe('model');
  });

  it('has a name of 5 to 128 letters, digits, underscores, minus, parentheses or spaces and a description under 512 characters', () => {
    expect(rdf.name).toMatch(/^[A-Za-z0-9_+\- ()]{5,128}$/);
    expect(rdf.description.length).toBeLessThanOrEqual(512);
  });

  it('has a tag from every bioimage.io model tag category', () => {
    for (const [category, entries] of Object.entries(TAG_CATEGORIES)) {
      expect(rdf.tags.some((tag: string) => entries.includes(tag)), category).toBe(true);
    }
  });

  it('has covers "smaller than 500KB and an aspect ratio width to height of 2:1 or 1:1"', async () => {
    expect(rdf.covers.length).toBeGreaterThan(0);
    for (const cover of rdf.covers as string[]) {
      expect(statSync(file(cover)).size).toBeLessThan(500 * 1024);
      const { width, height } = await sharp(file(cover)).metadata();
      expect([1, 2]).toContain(width! / height!);
    }
  });

  it('names maintainers by github_user, a git_repo URL, an SPDX licence and markdown documentation', () => {
    expect(rdf.maintainers).toEqual([{ github_user: 'emseg-maintainer' }]);
    expect(rdf.git_repo).toMatch(/^https:\/\//);
    expect(rdf.license).toBe(card.licence?.model ?? 'MIT');
    expect(rdf.documentation).toMatch(/\.md$/);
    const docs = readFileSync(file(rdf.documentation), 'utf8');
    for (const section of ['## Intended use', '## Limitations', '## Licences', '## Preprocessing, exactly', '## Validation']) expect(docs).toContain(section);
  });

  it('describes its training data as a dataset (format 0.3)', () => {
    expect(rdf.training_data).toMatchObject({ type: 'dataset', format_version: '0.3.0' });
    expect(rdf.training_data.name.length).toBeGreaterThanOrEqual(5);
    expect(rdf.training_data.cite.length).toBeGreaterThan(0);
  });

  it('declares the halo to crop from the output, and a minimum input large enough for it', () => {
    const input = rdf.inputs[0];
    const inputAxes = Object.fromEntries(input.axes.filter((axis: any) => axis.type === 'space').map((axis: any) => [axis.id, axis]));
    for (const axis of rdf.outputs[0].axes.filter((a: any) => a.type === 'space')) {
      // WithHalo: "The halo should be cropped from the output tensor ... halo: int >= 1".
      expect(axis.halo).toBe(card.halo);
      expect(axis.halo).toBeGreaterThanOrEqual(1);
      const reference = inputAxes[axis.size.axis_id];
      expect(axis.size.tensor_id).toBe(input.id);
      // "axis ... with minimum size {min_size} is too small for halo": min_size - 2 * halo >= 1.
      const minSize = reference.size.min + (axis.size.offset ?? 0);
      expect(minSize - 2 * axis.halo).toBeGreaterThanOrEqual(1);
      // The model's own rule: every size a multiple of the size step.
      expect(reference.size.min % card.contract.input.sizeMultiple).toBe(0);
      expect(reference.size.step).toBe(card.contract.input.sizeMultiple);
    }
  });

  it('has test tensors (.npy) and imageio-readable sample tensors whose dimensions fit the axes', async () => {
    for (const tensor of [...rdf.inputs, ...rdf.outputs]) {
      expect(tensor.test_tensor.source).toMatch(/\.npy$/);
      expect(sha(file(tensor.test_tensor.source))).toBe(tensor.test_tensor.sha256);
      expect(tensor.sample_tensor.source).not.toMatch(/\.npy$/);
      expect(sha(file(tensor.sample_tensor.source))).toBe(tensor.sample_tensor.sha256);
      const { width, height, channels } = await sharp(file(tensor.sample_tensor.source)).metadata();
      // Squeezed dimensions between (axes - batch - singleton axes) and the number of axes: here 2.
      expect(channels).toBe(1);
      expect([width, height]).toEqual([512, 512]);
    }
  });

  it('carries the model card with licences, intended use, limitations and the exact preprocessing', () => {
    const packaged = parseModelCardJson(readFileSync(file('model_card.json'), 'utf8'), 'model_card.json');
    expect(packaged.licence?.model).toBe('MIT');
    expect(packaged.licence?.data).toMatch(/ISBI 2012/);
    expect(packaged.intendedUse).toMatch(/electron|EM/);
    expect(packaged.limitations?.join(' ')).toMatch(/Drosophila/);
    expect(packaged.limitations?.join(' ')).toMatch(/pixel/);
    expect(packaged.contract.preprocessingSteps?.join(' ')).toMatch(/population standard deviation.*no epsilon/);
    expect(packaged.contract.preprocessingSteps?.join(' ')).toMatch(/16-bit/);
    expect(packaged.contract.preprocessingSteps?.join(' ')).toMatch(/mirror padding/);
    expect(readFileSync(file('README.md'), 'utf8')).toContain(packaged.contract.preprocessingSteps![2]!);
    expect(rdf.config.emseg).toMatchObject({ intended_use: packaged.intendedUse, limitations: packaged.limitations, licence: packaged.licence });
    for (const attachment of rdf.attachments) expect(sha(file(attachment.source))).toBe(attachment.sha256);
    expect(existsSync(file('weights.onnx'))).toBe(true);
  });
});
