/**
 * `emseg serve` when it cannot start: a port already in use, a model file it cannot read, a model
 * that does not follow the contract. Each ends the process with exit code 1 and one `emseg:` line
 * naming the problem, without a stack trace (run as a real process, to see all of stderr).
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { exportLayersModel } from '../convert/tfjs-to-onnx.ts';
import { tempDir } from './helpers/temp-dir.ts';

const dir = tempDir('emseg-startup-');

function serve(args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/fixtures/run-cli.ts', 'serve', '--ep', 'cpu', '--host', '127.0.0.1', '--port', '0', ...args]);
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 100_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
  });
}

function expectOneLineError(result: { code: number | null; stderr: string }, message: RegExp): void {
  expect(result.code, result.stderr).toBe(1);
  const errorLines = result.stderr.split('\n').filter((line) => line.startsWith('emseg:'));
  expect(errorLines, result.stderr).toHaveLength(1);
  expect(errorLines[0]).toMatch(message);
  expect(result.stderr).not.toMatch(/^\s+at /m);
  expect(result.stderr).not.toContain('Emitted \'error\' event');
}

describe('emseg serve start-up errors', () => {
  let busy: Server;
  afterAll(() => busy?.close());

  it('a port already in use', async () => {
    busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    const port = (busy.address() as AddressInfo).port;
    const result = await serve(['--port', String(port)]);
    expectOneLineError(result, new RegExp(`^emseg: cannot start the server: 127\\.0\\.0\\.1:${port} is already in use by another process; stop it or choose another port \\(--port, PORT\\)$`));
  }, 120_000);

  it('a model file that cannot be read as a model', async () => {
    expectOneLineError(await serve(['--model', dir]), /^emseg: .*: is a folder, expected an \.onnx file$/);
    const garbage = join(dir, 'garbage.onnx');
    writeFileSync(garbage, 'not a model');
    expectOneLineError(await serve(['--model', garbage]), /^emseg: .*garbage\.onnx: not an ONNX model/);
    expectOneLineError(await serve(['--model', join(dir, 'missing.onnx')]), /^emseg: .*missing\.onnx: no such model file$/);
  }, 240_000);

  it('a model that does not follow the contract', async () => {
    const input = tf.input({ shape: [null, null, 1], name: 'pixels' });
    const output = tf.layers.conv2d({ filters: 1, kernelSize: 1, activation: 'sigmoid' }).apply(input) as tf.SymbolicTensor;
    const path = join(dir, 'other-names.onnx');
    writeFileSync(path, exportLayersModel(tf.model({ inputs: input, outputs: output }), { inputName: 'pixels', outputName: 'scores' }));
    expectOneLineError(await serve(['--model', path]), /^emseg: .*other-names\.onnx.*expected input 'image'/);
  }, 120_000);
});
