/**
 * Execution providers for onnxruntime-node, chosen by EMSEG_EP (default `auto`): a list in
 * order of preference, or `auto`, which tries `cuda` and then `cpu` and says nothing about CUDA
 * when it does not start (a machine without a GPU or without the CUDA provider libraries is the
 * usual case, not a problem; EMSEG_DEBUG=1 shows why). onnxruntime-node does not fall back by itself: asking for CUDA on a machine
 * without the CUDA provider libraries throws ("Failed to load shared library"). So each provider
 * is tried alone, in order; a failure is logged as a warning naming the provider and the error,
 * kept, and the next provider is tried. All failures are reported, not only the first.
 *
 * Calm on CPU machines: with `auto` the fallback from `cuda` is silent; with `cuda` asked for
 * explicitly (EMSEG_EP, --ep, a providers option) it is one warning line; onnxruntime's own log
 * (a red "Failed to load library" line with escape sequences) is silenced, and the full error
 * with the install hint goes to the `debug` log. EMSEG_DEBUG=1 keeps onnxruntime's log.
 *
 * Names: those onnxruntime-node itself lists (`listSupportedBackends()`: cpu, cuda, tensorrt and
 * webgpu in 1.30 on Linux x64); `cuda` and `tensorrt` need the GPU build of the provider
 * libraries (deploy/fetch-onnxruntime-cuda.js, see serve/README.md).
 */
import * as ort from 'onnxruntime-node';
import { EmsegError } from '../core/errors.ts';
import { inferenceCores } from './inference-cores.ts';

export const DEFAULT_PROVIDERS = 'auto';
/** What `auto` tries, in order; its failures are not warned about (only a failure of the last is an error). */
export const AUTO_PROVIDERS: readonly string[] = ['cuda', 'cpu'];

/** True for the default list, `auto` (or nothing given): provider failures before the one that works are quiet. */
export function isAutoProviders(value: string | readonly string[] | undefined): boolean {
  return value === undefined || (typeof value === 'string' && value.trim().toLowerCase() === 'auto');
}

/** Names onnxruntime-node accepts on this platform (whether or not their libraries are installed). */
export function knownProviders(): string[] {
  const names = ort.listSupportedBackends().map((backend) => backend.name);
  return names.includes('cpu') ? names : [...names, 'cpu'];
}

/**
 * Parses a provider list: `"cuda,cpu"` (EMSEG_EP, --ep) or an array; `auto` (or undefined) is
 * AUTO_PROVIDERS, of the names this platform lists. Names are trimmed and
 * lower-cased, duplicates dropped. Unknown names, or an empty list, are E_BAD_ARGUMENT naming
 * `name` and listing the valid ones.
 */
export function parseProviders(value: string | readonly string[] | undefined, name = 'EMSEG_EP'): string[] {
  if (isAutoProviders(value)) return AUTO_PROVIDERS.filter((provider) => knownProviders().includes(provider));
  const raw = value!;
  const words = (typeof raw === 'string' ? raw.split(',') : [...raw]).map((word) => word.trim().toLowerCase()).filter(Boolean);
  const valid = knownProviders();
  if (words.length === 0) {
    throw new EmsegError('E_BAD_ARGUMENT', `${name}: expected a comma-separated list of execution providers (${valid.join(', ')}), found ${JSON.stringify(raw)}`);
  }
  const unknown = words.filter((word) => !valid.includes(word));
  if (unknown.length > 0) {
    throw new EmsegError(
      'E_BAD_ARGUMENT',
      `${name}: unknown execution provider${unknown.length > 1 ? 's' : ''} ${unknown.map((word) => JSON.stringify(word)).join(', ')}; valid: ${valid.join(', ')}`,
    );
  }
  return [...new Set(words)];
}

export interface ProviderFailure {
  provider: string;
  /** First line of the error onnxruntime gave. */
  message: string;
}

export interface ProviderSession {
  session: ort.InferenceSession;
  /** The provider the session runs on. */
  provider: string;
  /** Providers tried before it, in order, with why each failed. */
  failures: ProviderFailure[];
}

export interface CreateSessionOptions {
  /** Told about every provider that failed, one short line each. Default: nothing. */
  log?: (message: string) => void;
  /** The full error of each failed provider, with what to install. Default: nothing. */
  debug?: (message: string) => void;
  /**
   * Extra onnxruntime session options (executionProviders is set here). Default graph optimization
   * 'all', and on the CPU provider intraOpNumThreads = inferenceCores() (node/inference-cores.ts).
   */
  sessionOptions?: Omit<ort.InferenceSession.SessionOptions, 'executionProviders'>;
  /** Name of the model in messages. Default 'model'. */
  what?: string;
  /** The providers were not asked for (`auto`): failures go to `debug` only, not to `log`. Default false. */
  quiet?: boolean;
}

function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0]!.trim();
}

const librariesMissing = (provider: string, message: string) => (provider === 'cuda' || provider === 'tensorrt') && /failed to load shared library/i.test(message);

/** What to do about a GPU provider whose libraries are missing. */
function hintFor(provider: string, message: string): string {
  if (librariesMissing(provider, message)) {
    return ` (the ${provider === 'cuda' ? 'CUDA' : 'TensorRT'} provider libraries are not installed: fetch them with node deploy/fetch-onnxruntime-cuda.js node_modules/onnxruntime-node/bin/napi-v6/linux/x64 on a machine with CUDA and cuDNN; see serve/README.md)`;
  }
  return '';
}

/** The warning's short reason: the usual case named in words, anything else as onnxruntime said it. */
function shortReason(provider: string, message: string): string {
  return librariesMissing(provider, message) ? 'its provider libraries are not installed (see serve/README.md)' : message;
}

let ortLogSet = false;

/** onnxruntime's own log at 'fatal' (its errors reach us as exceptions), unless EMSEG_DEBUG is set. Once per thread, before the first session. */
function quietOnnxruntimeLog(): void {
  if (ortLogSet) return;
  ortLogSet = true;
  if (!process.env['EMSEG_DEBUG']) ort.env.logLevel = 'fatal';
}

/**
 * Creates a session on the first provider of `providers` that works. Throws E_BACKEND listing every
 * failure when none does.
 */
export async function createSessionWithFallback(
  model: string | Uint8Array,
  providers: readonly string[],
  options: CreateSessionOptions = {},
): Promise<ProviderSession> {
  const what = options.what ?? 'model';
  const failures: ProviderFailure[] = [];
  quietOnnxruntimeLog();
  for (const [index, provider] of providers.entries()) {
    try {
      const sessionOptions: ort.InferenceSession.SessionOptions = {
        graphOptimizationLevel: 'all',
        // On the CPU provider, explicit threads: onnxruntime's own default can miscount cores (node/inference-cores.ts).
        ...(provider === 'cpu' ? { intraOpNumThreads: inferenceCores() } : {}),
        ...options.sessionOptions,
        executionProviders: [provider],
      };
      // A copy per attempt: a failed attempt must not leave the next one with consumed bytes.
      const session =
        typeof model === 'string'
          ? await ort.InferenceSession.create(model, sessionOptions)
          : await ort.InferenceSession.create(model.slice(), sessionOptions);
      return { session, provider, failures };
    } catch (error) {
      const message = firstLine(error);
      const failure = { provider, message: message + hintFor(provider, message) };
      failures.push(failure);
      const next = providers[index + 1];
      if (!options.quiet || !next) options.log?.(`execution provider ${provider} failed for ${what}: ${shortReason(provider, message)}; ${next ? `falling back to ${next}` : 'no provider left'}`);
      options.debug?.(`execution provider ${provider} for ${what}: ${failure.message}`);
    }
  }
  throw new EmsegError(
    'E_BACKEND',
    `${what}: no execution provider could run it (${failures.map((f) => `${f.provider}: ${f.message}`).join('; ')})`,
  );
}
