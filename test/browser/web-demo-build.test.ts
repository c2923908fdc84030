/**
 * The web demo's build (no browser needed): what dist holds, that the onnxruntime-web runtime
 * files the bundle and its loader ask for are all there, that the model and card are the ones
 * given, that the bundled ISBI slices are the TIFF pages pixel for pixel, that a missing
 * model given explicitly is a clear EmsegError, and that the model's int8 variant is shipped and
 * listed when it lies beside the model (or is named), and not otherwise.
 */
import { createHash } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeTiff } from '../../core/tiff.ts';
import { buildWebDemo } from '../../web-demo/build.ts';
import { tinyInt8Variant } from '../helpers/tiny-int8-onnx.ts';
import { tinyUNetOnnx } from '../helpers/tiny-unet-onnx.ts';
import { buildDemoWithTinyModel, greyPngPixels, type BuiltDemo } from './harness.ts';

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

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
    // No int8 variant beside the tiny model: none shipped, none listed.
    expect(manifest.model.int8).toBeNull();
    expect(readdirSync(join(out, 'model')).sort()).toEqual([`${demo.model.card.name}.json`, `${demo.model.card.name}.onnx`]);
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

describe('web demo build with an int8 variant', () => {
  const folder = mkdtempSync(join(tmpdir(), 'emseg-web-demo-int8-'));
  let tiny: Awaited<ReturnType<typeof tinyUNetOnnx>>;
  let int8: Awaited<ReturnType<typeof tinyInt8Variant>>;

  beforeAll(async () => {
    tiny = await tinyUNetOnnx({ depth: 2, baseFilters: 4, seed: 11 });
    int8 = await tinyInt8Variant(tiny);
  }, 60_000);

  afterAll(() => rmSync(folder, { recursive: true, force: true }));

  it('ships the variant found beside the model with its own card, and lists it in demo.json', async () => {
    const { outDir, manifest } = await buildWebDemo({ outDir: join(folder, 'beside'), model: tiny.path });
    const listed = manifest.model!.int8!;
    expect(listed.file).toBe(`model/${tiny.card.name}.int8.onnx`);
    const shipped = readFileSync(join(outDir, listed.file));
    expect(Buffer.compare(shipped, Buffer.from(int8.bytes))).toBe(0);
    expect(listed.bytes).toBe(shipped.byteLength);
    expect(listed.sha256).toBe(sha256(shipped));
    expect(listed.card.name).toBe(`${tiny.card.name}.int8`);
    expect(listed.card.quantization?.parent.sha256).toBe(manifest.model!.sha256);
    expect(JSON.parse(readFileSync(join(outDir, `model/${tiny.card.name}.int8.json`), 'utf8'))).toEqual(listed.card);
    expect(JSON.parse(readFileSync(join(outDir, 'demo.json'), 'utf8')).model.int8).toEqual(listed);
    // The float model is still the model, unchanged.
    expect(manifest.model!.file).toBe(`model/${tiny.card.name}.onnx`);
    expect(manifest.model!.sha256).toBe(sha256(tiny.bytes));
  });

  it('leaves it out when asked (option false, EMSEG_WEB_INT8=none)', async () => {
    const without = await buildWebDemo({ outDir: join(folder, 'without'), model: tiny.path, int8: false });
    expect(without.manifest.model!.int8).toBeNull();
    expect(readdirSync(join(without.outDir, 'model')).some((name) => name.includes('int8'))).toBe(false);
    process.env.EMSEG_WEB_INT8 = 'none';
    try {
      expect((await buildWebDemo({ outDir: join(folder, 'env-none'), model: tiny.path })).manifest.model!.int8).toBeNull();
    } finally {
      delete process.env.EMSEG_WEB_INT8;
    }
  });

  it('ships a variant named explicitly from elsewhere', async () => {
    const elsewhere = mkdtempSync(join(folder, 'elsewhere-'));
    copyFileSync(int8.path, join(elsewhere, 'other.int8.onnx'));
    copyFileSync(int8.cardPath, join(elsewhere, 'other.int8.json'));
    const { manifest } = await buildWebDemo({ outDir: join(folder, 'named'), model: tiny.path, int8: join(elsewhere, 'other.int8.onnx') });
    expect(manifest.model!.int8?.file).toBe('model/other.int8.onnx');
    expect(manifest.model!.int8?.sha256).toBe(sha256(int8.bytes));
  });

  it('refuses a variant of another model, a float model as the variant, and a missing file, in one line each', async () => {
    const other = await tinyUNetOnnx({ depth: 2, baseFilters: 4, seed: 12 });
    await expect(buildWebDemo({ outDir: join(folder, 'stale'), model: other.path, int8: int8.path })).rejects.toMatchObject({
      code: 'E_MODEL',
      message: expect.stringMatching(/int8\.onnx: made from another model \(parent sha256 [0-9a-f]{12}…, .*\.onnx is [0-9a-f]{12}…\); make it again/),
    });
    const floatAsInt8 = join(folder, 'float-as-int8.onnx');
    writeFileSync(floatAsInt8, tiny.bytes);
    writeFileSync(join(folder, 'float-as-int8.json'), JSON.stringify(tiny.card));
    await expect(buildWebDemo({ outDir: join(folder, 'float'), model: tiny.path, int8: floatAsInt8 })).rejects.toMatchObject({
      code: 'E_MODEL',
      message: expect.stringContaining('float-as-int8.json: not an int8 variant (its card has no quantization section)'),
    });
    await expect(buildWebDemo({ outDir: join(folder, 'missing'), model: tiny.path, int8: '/nonexistent/m.int8.onnx' })).rejects.toMatchObject({
      code: 'E_NOT_FOUND',
      message: '/nonexistent/m.int8.onnx: no such int8 model file (web demo --int8 / EMSEG_WEB_INT8)',
    });
  });
});
