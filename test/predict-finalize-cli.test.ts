/**
 * `emseg predict ... --finalize` on a complete store says what it did (issue 26, item 7: it printed
 * "0 chunks written, 0 already done"), in-process with a tiny U-Net.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { encodeTiff } from '../core/tiff.ts';
import { runCliCaptured } from './helpers/run-cli-captured.ts';
import { tinyUNetOnnx } from './helpers/tiny-unet-onnx.ts';
import { tempDir } from './helpers/temp-dir.ts';

describe('emseg predict --finalize', () => {
  it('on a complete store reports every chunk present and the levels written', async () => {
    const dir = tempDir('emseg-finalize-');
    const [width, height] = [600, 300];
    const data = new Uint8Array(width * height);
    for (let i = 0; i < data.length; i++) data[i] = (Math.imul(i, 2654435761) >>> 24) & 255;
    const input = join(dir, 'in.tif');
    writeFileSync(input, encodeTiff({ width, height, pages: [{ width, height, data }] }));
    const model = (await tinyUNetOnnx({ depth: 2, baseFilters: 4 })).path;
    const common = ['--model', model, '--tile', '128', '--halo', '16', '--ep', 'cpu', '--quiet'];
    const store = join(dir, 'out.ome.zarr');
    const first = await runCliCaptured(['predict', input, '-o', store, ...common]);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/2 chunks written, 0 already done; complete/);
    const finalize = await runCliCaptured(['predict', input, '-o', store, '--finalize', ...common]);
    expect(finalize.code, finalize.stderr).toBe(0);
    expect(finalize.stdout).toMatch(/\(600x300; finalized: all 2 chunks present, downsampled levels and metadata written\)\n$/);
  }, 120_000);
});
