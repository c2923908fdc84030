/**
 * Chooses the tfjs backend training runs on.
 *
 * 'auto' tries, in order, @tensorflow/tfjs-node-gpu (CUDA), @tensorflow/tfjs-node (native
 * TensorFlow on the CPU), @tensorflow/tfjs-backend-wasm (XNNPACK, with the project's kernels
 * registered: train/kernels/) and tfjs's plain-JavaScript 'cpu' backend, and reports why each one
 * it skipped was skipped. The native packages are optionalDependencies: absent on machines where
 * they cannot be installed, and then simply skipped. An explicit choice that cannot be had is an
 * EmsegError E_BACKEND naming it and the reason.
 */
import type * as tfType from '@tensorflow/tfjs';
import { EmsegError } from '../core/errors.ts';
import { registerProjectWasmKernels } from './kernels/register.ts';

export const BACKEND_CHOICES = ['auto', 'gpu', 'native', 'wasm', 'cpu'] as const;
export type BackendChoice = (typeof BACKEND_CHOICES)[number];
/** A concrete backend, as the engine and the logs name it. */
export type BackendKind = Exclude<BackendChoice, 'auto'>;

export interface SelectedBackend {
  /** The concrete backend: 'gpu', 'native', 'wasm' or 'cpu'. */
  name: BackendKind;
  /** tfjs's own name of the backend ('tensorflow', 'wasm', 'cpu'). */
  tfjsName: string;
  /** One line per backend tried: what was used, and why the others were skipped. */
  report: string[];
}

type Attempt = { ok: true; tfjsName: string; detail: string } | { ok: false; reason: string };

const ORDER: BackendKind[] = ['gpu', 'native', 'wasm', 'cpu'];

export function isBackendChoice(value: unknown): value is BackendChoice {
  return typeof value === 'string' && (BACKEND_CHOICES as readonly string[]).includes(value);
}

export async function selectBackend(
  tf: typeof tfType,
  choice: BackendChoice,
  log: (line: string) => void = () => undefined,
): Promise<SelectedBackend> {
  if (!isBackendChoice(choice)) {
    throw new EmsegError('E_BAD_ARGUMENT', `--backend: expected one of ${BACKEND_CHOICES.join(', ')}, found '${String(choice)}'`);
  }
  const candidates = choice === 'auto' ? ORDER : [choice];
  const report: string[] = [];
  for (const kind of candidates) {
    const attempt = await tryBackend(tf, kind);
    if (attempt.ok) {
      report.push(`${kind}: using it (${attempt.detail})`);
      for (const line of report) log(`backend ${line}`);
      return { name: kind, tfjsName: attempt.tfjsName, report };
    }
    report.push(`${kind}: skipped, ${attempt.reason}`);
    if (choice !== 'auto') {
      throw new EmsegError('E_BACKEND', `backend '${kind}' is not available: ${attempt.reason}`);
    }
  }
  throw new EmsegError('E_BACKEND', `no tfjs backend could be initialized: ${report.join('; ')}`);
}

async function tryBackend(tf: typeof tfType, kind: BackendKind): Promise<Attempt> {
  try {
    switch (kind) {
      case 'gpu':
        return await tryNative(tf, '@tensorflow/tfjs-node-gpu');
      case 'native':
        return await tryNative(tf, '@tensorflow/tfjs-node');
      case 'wasm':
        return await tryWasm(tf);
      case 'cpu':
        return (await tf.setBackend('cpu'))
          ? { ok: true, tfjsName: 'cpu', detail: "tfjs's plain-JavaScript kernels, one thread: slow, for tests and as a last resort" }
          : { ok: false, reason: 'tf.setBackend("cpu") failed' };
    }
  } catch (error) {
    return { ok: false, reason: describe(error) };
  }
}

async function tryNative(tf: typeof tfType, packageName: string): Promise<Attempt> {
  try {
    await import(/* @vite-ignore */ packageName);
  } catch (error) {
    const code = (error as { code?: string }).code;
    const missing = code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND';
    return { ok: false, reason: missing ? `${packageName} is not installed` : `${packageName} failed to load: ${describe(error)}` };
  }
  if (tf.findBackend('tensorflow') === null) {
    return { ok: false, reason: `${packageName} loaded but registered no 'tensorflow' backend with this copy of @tensorflow/tfjs` };
  }
  if (!(await tf.setBackend('tensorflow'))) return { ok: false, reason: `${packageName}: the 'tensorflow' backend failed to initialize` };
  return { ok: true, tfjsName: 'tensorflow', detail: `${packageName}, native TensorFlow` };
}

async function tryWasm(tf: typeof tfType): Promise<Attempt> {
  await import('@tensorflow/tfjs-backend-wasm');
  if (!(await tf.setBackend('wasm'))) return { ok: false, reason: "@tensorflow/tfjs-backend-wasm: the 'wasm' backend failed to initialize" };
  registerProjectWasmKernels(tf);
  const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
  return { ok: true, tfjsName: 'wasm', detail: `@tensorflow/tfjs-backend-wasm, XNNPACK${simd ? ' with SIMD' : ' without SIMD'}, one thread per engine worker, project kernels registered` };
}

function describe(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n')[0]!.slice(0, 200);
}
