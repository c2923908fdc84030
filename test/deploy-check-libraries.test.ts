/**
 * deploy/check-libraries.sh, the Dockerfile's ldd check of node, onnxruntime's binding and the CUDA
 * provider: it passes files whose libraries are all there and fails closed (exit 1, one line
 * naming the file and what is missing) on a missing library, a missing file or a file ldd cannot read.
 */
import { execFile } from 'node:child_process';
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const SCRIPT = new URL('../deploy/check-libraries.sh', import.meta.url).pathname;
const BINDING = new URL(`../node_modules/onnxruntime-node/bin/napi-v6/${process.platform}/${process.arch}/onnxruntime_binding.node`, import.meta.url).pathname;
let dir = '';

async function check(...files: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)('sh', [SCRIPT, ...files]);
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'emseg-check-libraries-'));
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('deploy/check-libraries.sh', () => {
  it('passes node and onnxruntime binding where all their libraries are', async () => {
    const result = await check(process.execPath, BINDING);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain(`${BINDING}: all `);
  });

  it('fails when a linked library is missing: the binding without libonnxruntime.so.1 beside it', async () => {
    const alone = join(dir, 'onnxruntime_binding.node');
    await copyFile(BINDING, alone);
    const result = await check(process.execPath, alone);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(`check-libraries: ${alone} needs libraries missing from this image: libonnxruntime.so.1 \n`);
  });

  it('fails on a missing file and on a file that is not a dynamic ELF', async () => {
    const missing = await check(join(dir, 'libonnxruntime_providers_cuda.so'));
    expect([missing.code, missing.stderr]).toEqual([1, `check-libraries: ${join(dir, 'libonnxruntime_providers_cuda.so')}: no such file\n`]);
    const text = await check(SCRIPT);
    expect(text.code).toBe(1);
    expect(text.stderr).toMatch(/check-libraries: .*check-libraries\.sh: ldd could not read it: /);
  });
});
