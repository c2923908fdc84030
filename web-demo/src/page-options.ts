/**
 * The page's URL options: which execution provider, and the runtime settings bench:web compares
 * (threads, session options, the warm-up run, which onnxruntime-web WebAssembly build). Pure: the
 * query string in, the options out; an unknown value is E_BAD_ARGUMENT naming the parameter.
 *
 *   ?provider=wasm|webgpu        force one provider (default: choose, see provider-choice.ts)
 *   ?threads=N                   WASM threads, 1 to 16 (default: cores, at most 4; 1 when not cross-origin isolated)
 *   ?opt=disabled|basic|extended|all   graphOptimizationLevel (default all)
 *   ?arena=0|1  ?memPattern=0|1  enableCpuMemArena, enableMemPattern (default DEFAULT_SESSION_OPTIONS)
 *   ?mode=sequential|parallel    executionMode (default sequential)
 *   ?spin=0|1                    intra-op threads spin while waiting for work (default 1, as onnxruntime)
 *   ?warmup=N|0                  side of the WASM warm-up run after session creation (default: the model's tile; 0: none)
 *   ?build=plain|jsep            WebAssembly build of a WASM-only page (default plain; jsep whenever WebGPU may run)
 *   ?precision=int8|fp32         which model file runs (default: the int8 variant on WASM when the build has one,
 *                                the float model otherwise; model-choice.ts)
 */
import { EmsegError } from '../../core/errors.ts';
import { parseNumberText } from '../../core/number-text.ts';

export type ProviderName = 'webgpu' | 'wasm';
/** 'auto' chooses (WebGPU on a hardware adapter, WASM otherwise). */
export type ProviderRequest = ProviderName | 'auto';
/** The float model or its int8 variant (web-demo/build.ts ships both when it has the variant). */
export type Precision = 'int8' | 'fp32';
/** 'auto': int8 on WASM when the build has it, float otherwise (model-choice.ts). */
export type PrecisionRequest = Precision | 'auto';
export type GraphOptimizationLevel = 'disabled' | 'basic' | 'extended' | 'all';

/** The session options the page sets (a subset of onnxruntime-web's InferenceSession.SessionOptions). */
export interface DemoSessionOptions {
  graphOptimizationLevel: GraphOptimizationLevel;
  enableCpuMemArena: boolean;
  enableMemPattern: boolean;
  executionMode: 'sequential' | 'parallel';
  /** Session config entry session.intra_op.allow_spinning. */
  allowSpinning: boolean;
}

/**
 * What the page uses unless the URL says otherwise. onnxruntime-web 1.30 leaves the CPU memory
 * arena and the memory pattern off unless asked (`!!options.enableCpuMemArena`); bench:web
 * measured turning them on (web-demo/README.md, "Performance").
 */
export const DEFAULT_SESSION_OPTIONS: Readonly<DemoSessionOptions> = {
  graphOptimizationLevel: 'all',
  enableCpuMemArena: true,
  enableMemPattern: true,
  executionMode: 'sequential',
  allowSpinning: true,
};

/**
 * The onnxruntime-web session options for `provider` from the page's (runtime.ts creates the
 * page's sessions with them; bench:web's bare page too). A plain object: this module does not
 * import onnxruntime-web.
 */
export function ortSessionOptions(provider: ProviderName, options: DemoSessionOptions) {
  return {
    executionProviders: [provider],
    graphOptimizationLevel: options.graphOptimizationLevel,
    enableCpuMemArena: options.enableCpuMemArena,
    enableMemPattern: options.enableMemPattern,
    executionMode: options.executionMode,
    extra: { session: { 'intra_op.allow_spinning': options.allowSpinning ? '1' : '0' } },
  };
}

export interface PageOptions {
  provider: ProviderRequest;
  /** WASM threads asked for in the URL; undefined: the page decides. */
  threads: number | undefined;
  session: DemoSessionOptions;
  /** Side of the square zero input a WASM session runs once after creation; 0: none; undefined: the model card's tile. */
  warmupSize: number | undefined;
  /** onnxruntime-web WebAssembly build for a page that runs WASM only. */
  wasmBuild: 'plain' | 'jsep';
  /** Which model file runs. */
  precision: PrecisionRequest;
}

function choice<T extends string>(params: URLSearchParams, name: string, allowed: readonly T[], fallback: T): T {
  const value = params.get(name);
  if (value === null) return fallback;
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new EmsegError('E_BAD_ARGUMENT', `?${name}: expected ${allowed.join(' or ')}, found ${JSON.stringify(value)}`);
}

function flag(params: URLSearchParams, name: string, fallback: boolean): boolean {
  return choice(params, name, ['0', '1'], fallback ? '1' : '0') === '1';
}

/** Reads the page's options from a query string (`location.search`). */
export function parsePageOptions(search: string): PageOptions {
  const params = new URLSearchParams(search);
  const threadsText = params.get('threads');
  const warmupText = params.get('warmup');
  return {
    provider: choice(params, 'provider', ['auto', 'wasm', 'webgpu'], 'auto'),
    threads: threadsText === null ? undefined : parseNumberText(threadsText, '?threads', { integer: true, min: 1, max: 16 }),
    session: {
      graphOptimizationLevel: choice(params, 'opt', ['disabled', 'basic', 'extended', 'all'], DEFAULT_SESSION_OPTIONS.graphOptimizationLevel),
      enableCpuMemArena: flag(params, 'arena', DEFAULT_SESSION_OPTIONS.enableCpuMemArena),
      enableMemPattern: flag(params, 'memPattern', DEFAULT_SESSION_OPTIONS.enableMemPattern),
      executionMode: choice(params, 'mode', ['sequential', 'parallel'], DEFAULT_SESSION_OPTIONS.executionMode),
      allowSpinning: flag(params, 'spin', DEFAULT_SESSION_OPTIONS.allowSpinning),
    },
    warmupSize: warmupText === null ? undefined : parseNumberText(warmupText, '?warmup', { integer: true, min: 0, max: 4096 }),
    wasmBuild: choice(params, 'build', ['plain', 'jsep'], 'plain'),
    precision: choice(params, 'precision', ['auto', 'int8', 'fp32'], 'auto'),
  };
}

/** The same page URL with one option set, the others kept. */
function withOption(href: string, name: string, value: string): string {
  const url = new URL(href);
  url.searchParams.set(name, value);
  return url.href;
}

/** The same page with another provider forced (the page's "use the other provider" link). */
export function withProvider(href: string, provider: ProviderName): string {
  return withOption(href, 'provider', provider);
}

/** The same page with the other model forced (the page's "Use the float model" / "Use the int8 model" button). */
export function withPrecision(href: string, precision: Precision): string {
  return withOption(href, 'precision', precision);
}

/** The options that differ from the defaults, as `name=value` (for the page's "Runs on" line and bench output). */
export function describeOverrides(options: PageOptions): string[] {
  const parts: string[] = [];
  const s = options.session;
  const d = DEFAULT_SESSION_OPTIONS;
  if (s.graphOptimizationLevel !== d.graphOptimizationLevel) parts.push(`opt=${s.graphOptimizationLevel}`);
  if (s.enableCpuMemArena !== d.enableCpuMemArena) parts.push(`arena=${Number(s.enableCpuMemArena)}`);
  if (s.enableMemPattern !== d.enableMemPattern) parts.push(`memPattern=${Number(s.enableMemPattern)}`);
  if (s.executionMode !== d.executionMode) parts.push(`mode=${s.executionMode}`);
  if (s.allowSpinning !== d.allowSpinning) parts.push(`spin=${Number(s.allowSpinning)}`);
  if (options.warmupSize !== undefined) parts.push(`warmup=${options.warmupSize}`);
  if (options.wasmBuild !== 'plain') parts.push(`build=${options.wasmBuild}`);
  if (options.precision !== 'auto') parts.push(`precision=${options.precision}`);
  return parts;
}
