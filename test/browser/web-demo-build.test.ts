/**
 * The web demo's build (no browser needed): what dist holds, that the onnxruntime-web runtime
 * files the bundle and its loader ask for are all there, that the model and card are the ones
 * given, that the bundled ISBI slices are the TIFF pages pixel for pixel, and that a missing
 * model given explicitly is a clear EmsegError.
 */
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeTiff } from '../../core/tiff.ts';
import { buildWebDemo } from '../../web-demo/build.ts';
import { buildDemoWithTinyModel, greyPngPixels, type BuiltDemo } from './harness.ts';

describe('web demo build', () => {
  let demo: BuiltDemo;

  beforeAll(async () => {
    demo = await buildDemoWithTinyModel();
  });

  afterAll(() => demo?.dispose());

  it('writes the page, the bundle, the runtime, the model with its card and the samples', () => {
    const out = demo.build.outDir;
    const top = readdirSync(out).sort();
    expect(top).toEqual(expect.arrayContaining(['app.js', 'demo.json', 'index.html', 'model', 'ort', 'samples', 'styles.css']));
    const manifest = JSON.parse(readFileSync(join(out, 'demo.json'), 'utf8'));
    expect(manifest).toEqual(demo.build.manifest);
    const modelBytes = readFileSync(join(out, manifest.model.file));
    expect(Buffer.compare(modelBytes, Buffer.from(demo.model.bytes))).toBe(0);
    expect(manifest.model.sha256).toBe(createHash('sha256').update(modelBytes).digest('hex'));
    expect(manifest.model.bytes).toBe(modelBytes.byteLength);
    expect(manifest.model.card.threshold).toBe(demo.model.card.threshold);
    expect(manifest.model.card.contract.input.sizeMultiple).toBe(demo.model.card.contract.input.sizeMultiple);
    const html = readFileSync(join(out, 'index.html'), 'utf8');
    expect(html).toContain('src="app.js"');
    expect(html).toMatch(/stay in this browser/);
  });

  it('ships exactly the onnxruntime-web files that the bundle and its loader load', () => {
    const out = demo.build.outDir;
    const shipped = readdirSync(join(out, 'ort')).sort();
    const wanted = new Set<string>();
    const sources = [readFileSync(join(out, 'app.js'), 'utf8'), ...shipped.filter((f) => f.endsWith('.mjs')).map((f) => readFileSync(join(out, 'ort', f), 'utf8'))];
    for (const source of sources) for (const match of source.matchAll(/ort-wasm-simd-threaded[a-z.]*\.(?:mjs|wasm)/g)) wanted.add(match[0]);
    expect([...wanted].sort()).toEqual(shipped);
    // The JSEP build (WebGPU and WASM) and the plain build (WASM only) of web-demo/src/runtime.ts.
    expect(shipped).toEqual(['ort-wasm-simd-threaded.jsep.mjs', 'ort-wasm-simd-threaded.jsep.wasm', 'ort-wasm-simd-threaded.mjs', 'ort-wasm-simd-threaded.wasm']);
    expect(demo.build.manifest.ort.runtime).toEqual(shipped.map((f) => `ort/${f}`));
  });

  it('bundles ISBI slices as 8-bit grey PNGs equal to the TIFF pages', async () => {
    const samples = demo.build.manifest.samples;
    expect(samples.length).toBe(3);
    const train = decodeTiff(new Uint8Array(readFileSync('data/isbi2012/train-volume.tif')), 'train-volume.tif');
    const sample = samples.find((s) => s.file.endsWith('isbi2012-train-27.png'))!;
    const { data, ...info } = await greyPngPixels(join(demo.build.outDir, sample.file));
    expect(info).toMatchObject({ width: 512, height: 512, channels: 1 });
    expect(Buffer.compare(data, Buffer.from(train.pages[27]!.data as Uint8Array))).toBe(0);
    expect(Buffer.compare(data, Buffer.from(train.pages[26]!.data as Uint8Array))).not.toBe(0);
  });

  it('refuses a model that does not exist, naming it', async () => {
    await expect(buildWebDemo({ model: '/nonexistent/model.onnx', outDir: join(demo.build.outDir, '..', 'never') })).rejects.toMatchObject({
      name: 'EmsegError',
      code: 'E_NOT_FOUND',
      message: expect.stringContaining('/nonexistent/model.onnx: no such model file'),
    });
  });
});
