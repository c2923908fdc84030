/**
 * `npm run bench:web -- [options]` (`--help` lists them, from BENCH): where the web demo's WASM
 * time goes, by the page's own timings in headless Chromium.
 *
 * 1. Builds the demo with the model (default models/isbi2012-unet.onnx) and its int8 variant
 *    (default: `<model>.int8.onnx` beside it when it exists, as web-demo/build.ts does) into a
 *    temp folder and serves it on 127.0.0.1 with the COOP/COEP headers (cross-origin isolated:
 *    WASM threads).
 * 2. Each configuration is a set of URL options of the page (web-demo/src/page-options.ts) on top
 *    of `?provider=wasm&threads=<--threads>` (WEB_BENCH_CONFIGS). `old` is the page before issue 15
 *    (float model, JSEP build, onnxruntime-web's default session options, no warm-up); `new` is
 *    today's defaults (the int8 model on WASM when the build has one), `new/<change>` today's
 *    defaults with one change (`new/fp32`: the float model). Default: DEFAULT_WEB_BENCH_CONFIGS.
 * 3. For each round, every configuration in turn (the order rotates each round, so a shared
 *    machine's drift spreads over all): a fresh Chromium (empty profile: nothing cached), open the
 *    page, wait until the model is ready, segment the 512x512 ISBI sample (the first run), then
 *    `--runs` more times (warm runs). Figures are the page's timings (emsegDemo.timings()).
 * 4. Prints per configuration the medians over rounds: session creation (without warm-up), the
 *    warm-up run, the first run's inference, the warm inference (median of the runs), the CPU time
 *    of all Chromium processes per warm run (Linux /proc; on a machine shared with other work the
 *    wall-clock figures swing with the other work, the CPU time much less: spinning threads count
 *    in it too), and the time from opening the page to the first mask; the Chromium version,
 *    threads, machine load.
 * 5. Then, without a browser: the same WebAssembly kernels (onnxruntime-web in Node, same V8, one
 *    thread) against onnxruntime-node (native, one intra-op thread) on the same 512x512 input,
 *    alternating, CPU time per run: how much of the browser's time is the WASM kernels themselves;
 *    for the float model and, when the build has one, the int8 model.
 * 6. With an int8 variant: the accuracy of what the page runs, without a browser: V_rand and V_info
 *    on the validation slices (ISBI_SPLIT.validation) of the float and the int8 file on the WASM
 *    kernels (onnxruntime-web in Node), and of the int8 file on onnxruntime-node (the figure
 *    `emseg evaluate` gives), scored by core/evaluation.ts; the int8 kernels of WASM and x86 do not
 *    give the same output, so the native figure does not stand for the page's.
 */
import { cpus } from 'node:os';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { INPUT_NAME, OUTPUT_NAME, type ModelCard } from '../core/contract.ts';
import { evaluateSlices } from '../core/evaluation.ts';
import { segmentImage } from '../core/inference.ts';
import { ISBI_SPLIT, ISBI_TRAIN_IMAGES, ISBI_TRAIN_LABELS } from '../core/isbi-data.ts';
import type { TilePredictor } from '../core/tiling.ts';
import { decodeTiff } from '../core/tiff.ts';
import { DEFAULT_SESSION_OPTIONS, ortSessionOptions } from '../web-demo/src/page-options.ts';
import { ORT_PLAIN_FILES } from '../web-demo/src/runtime.ts';
import { BenchArgumentError, defineBench, integerOption, listOption, runWithArgs, textOption, type BenchArgs, type ValueOption } from './shared/args.ts';
import { median } from './shared/figures.ts';
import { loadAverage } from './shared/machine.ts';

const SAMPLE = 'samples/isbi2012-train-27.png';

/** Name -> URL options beyond provider and threads. */
export const WEB_BENCH_CONFIGS: Record<string, string> = {
  'old': 'build=jsep&arena=0&memPattern=0&warmup=0&precision=fp32',
  'new': '',
  'new/fp32': 'precision=fp32',
  'new/int8': 'precision=int8',
  'new/jsep-build': 'build=jsep',
  'new/no-arena': 'arena=0&memPattern=0',
  'new/no-warmup': 'warmup=0',
  'new/warmup-64': 'warmup=64',
  'new/opt-extended': 'opt=extended',
  'new/opt-basic': 'opt=basic',
  'new/no-spin': 'spin=0',
  'new/parallel': 'mode=parallel',
  'new/1-thread': 'threads=1',
  'new/4-threads': 'threads=4',
};

/** What runs without --configs: the page before issue 15, today's page (int8 on WASM), today's page on the float model (about 4 min on the idle machine). */
export const DEFAULT_WEB_BENCH_CONFIGS = ['old', 'new', 'new/fp32'] as const;

/** The bare page's runs 3-7 stand beside the demo's warm runs: it needs at least 7 runs. */
const MIN_BARE_RUNS = 7;

/** `--int8 file.onnx|none`: the int8 variant to build with: a path, false for none, undefined for the build's default. */
const int8Option: ValueOption<string | false | undefined> = {
  kind: 'value',
  value: 'file.onnx|none',
  description: 'the int8 variant to build with; none: without one',
  default: undefined,
  shownDefault: '<model>.int8.onnx beside the model when it exists',
  parse: (text) => (text === 'none' ? false : text),
};

export const BENCH = defineBench('web', "where the web demo's WASM time goes, by the page's own timings in headless Chromium; then the WASM kernels without a browser", {
  model: textOption('file.onnx', 'the float model', 'models/isbi2012-unet.onnx'),
  int8: int8Option,
  rounds: integerOption('n', 'rounds over all configurations, each page in a fresh Chromium', 3, { min: 1 }),
  runs: integerOption('n', 'warm runs per page', 5, { min: 1 }),
  threads: integerOption('n', 'WASM threads', 2, { min: 1, max: 16 }),
  configs: listOption('names', `configurations, comma-separated, from: ${Object.keys(WEB_BENCH_CONFIGS).join(', ')}`, [...DEFAULT_WEB_BENCH_CONFIGS], (name, flag) => {
    if (name in WEB_BENCH_CONFIGS) return name;
    throw new BenchArgumentError(`${flag}: unknown ${JSON.stringify(name)}; expected names from: ${Object.keys(WEB_BENCH_CONFIGS).join(', ')}`);
  }),
  'bare-runs': integerOption('n', `runs of the bare page per round; 0 = not measured, else at least ${MIN_BARE_RUNS}`, 16, { min: 0 }),
});
type WebBenchArgs = BenchArgs<typeof BENCH.options>;

/** onnxruntime-web's WASM kernels in Node against onnxruntime-node, one thread each, alternating; CPU ms per run (median of rounds). */
async function kernelComparison(modelPath: string, what: string, rounds: number, say: (line: string) => void): Promise<void> {
  const web = await import('onnxruntime-web');
  const native = await import('onnxruntime-node');
  const bytes = new Uint8Array(readFileSync(modelPath));
  web.env.wasm.numThreads = 1;
  interface Bare {
    name: string;
    run: (input: Float32Array) => Promise<unknown>;
    release: () => Promise<void>;
    cpu: number[];
    wall: number[];
  }
  const webSession = await web.InferenceSession.create(bytes, { executionProviders: ['wasm'], enableCpuMemArena: true, enableMemPattern: true });
  const nativeSession = await native.InferenceSession.create(bytes, { executionProviders: ['cpu'], intraOpNumThreads: 1, interOpNumThreads: 1 });
  const sessions: Bare[] = [
    {
      name: 'onnxruntime-web WASM (Node, 1 thread)',
      run: (input) => webSession.run({ [INPUT_NAME]: new web.Tensor('float32', input, [1, 1, 512, 512]) }),
      release: () => webSession.release(),
      cpu: [],
      wall: [],
    },
    {
      name: 'onnxruntime-node CPU (1 thread)',
      run: (input) => nativeSession.run({ [INPUT_NAME]: new native.Tensor('float32', input, [1, 1, 512, 512]) }),
      release: () => nativeSession.release(),
      cpu: [],
      wall: [],
    },
  ];
  const input = Float32Array.from({ length: 512 * 512 }, (_, i) => Math.sin(i / 9) + Math.cos(i / 517));
  const runs = 3;
  for (let round = -1; round < rounds; round += 1) {
    for (const entry of sessions) {
      const cpu0 = process.cpuUsage();
      const started = performance.now();
      for (let i = 0; i < (round < 0 ? 1 : runs); i += 1) await entry.run(input);
      const used = process.cpuUsage(cpu0);
      if (round < 0) continue; // the first run of each: compilation and allocation
      entry.cpu.push((used.user + used.system) / 1000 / runs);
      entry.wall.push((performance.now() - started) / runs);
    }
  }
  say('');
  say(`the WASM kernels without a browser, ${what}, 512x512, medians over ${rounds} rounds of ${runs} runs (CPU time per run moves less than wall time on a shared machine):`);
  for (const entry of sessions) say(`${entry.name.padEnd(40)} CPU ${Math.round(median(entry.cpu))} ms, wall ${Math.round(median(entry.wall))} ms per run`);
  say(`WASM / native CPU time per run: ${(median(sessions[0]!.cpu) / median(sessions[1]!.cpu)).toFixed(2)}`);
  for (const entry of sessions) await entry.release();
}

/**
 * V_rand / V_info on the validation slices of the float and int8 files on onnxruntime-web's WASM
 * kernels (Node, one thread) and of the int8 file on onnxruntime-node, plus how many mask pixels
 * (at the int8 card's threshold) the int8 runs share with the float WASM run.
 */
async function wasmAccuracy(floatPath: string, int8Path: string, card: ModelCard, say: (line: string) => void): Promise<void> {
  const web = await import('onnxruntime-web');
  const native = await import('onnxruntime-node');
  web.env.wasm.numThreads = 1;
  const images = decodeTiff(new Uint8Array(readFileSync(ISBI_TRAIN_IMAGES)), ISBI_TRAIN_IMAGES);
  const labels = decodeTiff(new Uint8Array(readFileSync(ISBI_TRAIN_LABELS)), ISBI_TRAIN_LABELS);
  const slices = ISBI_SPLIT.validation.map((index) => ({ index, image: images.pages[index]!, label: labels.pages[index]! }));
  const tiling = { tile: card.tile, halo: card.halo, sizeMultiple: card.contract.input.sizeMultiple };
  type Runtime = 'wasm' | 'native';
  const predictorOf = async (runtime: Runtime, path: string): Promise<{ predictor: TilePredictor; release: () => Promise<void> }> => {
    const bytes = new Uint8Array(readFileSync(path));
    if (runtime === 'wasm') {
      const session = await web.InferenceSession.create(bytes, { executionProviders: ['wasm'], enableCpuMemArena: true, enableMemPattern: true });
      return {
        predictor: async (tiles, n, height, width) => (await session.run({ [INPUT_NAME]: new web.Tensor('float32', tiles.slice(), [n, 1, height, width]) }))[OUTPUT_NAME]!.data as Float32Array,
        release: () => session.release(),
      };
    }
    const session = await native.InferenceSession.create(bytes, { executionProviders: ['cpu'], intraOpNumThreads: 1 });
    return {
      predictor: async (tiles, n, height, width) => (await session.run({ [INPUT_NAME]: new native.Tensor('float32', tiles.slice(), [n, 1, height, width]) }))[OUTPUT_NAME]!.data as Float32Array,
      release: () => session.release(),
    };
  };
  const runs: Array<[string, Runtime, string]> = [
    ['float, WASM kernels', 'wasm', floatPath],
    ['int8, WASM kernels', 'wasm', int8Path],
    ['int8, onnxruntime-node', 'native', int8Path],
  ];
  say('');
  say(`accuracy on validation slices ${ISBI_SPLIT.validation.join(', ')} (best over thresholds 0.0-1.0; masks at the int8 card's threshold ${card.threshold}):`);
  let floatMasks: Float32Array[] | undefined;
  for (const [name, runtime, path] of runs) {
    const { predictor, release } = await predictorOf(runtime, path);
    const result = await evaluateSlices(slices, { plain: async (image) => (await segmentImage(image, predictor, tiling)).probability.data }, { threshold: card.threshold });
    await release();
    const row = result.rows[0]!;
    const probabilities = result.probabilities.plain!;
    floatMasks ??= probabilities;
    let same = 0;
    let total = 0;
    probabilities.forEach((p, k) => {
      const f = floatMasks![k]!;
      for (let i = 0; i < p.length; i += 1) if (p[i]! >= card.threshold === f[i]! >= card.threshold) same += 1;
      total += p.length;
    });
    say(
      `${name.padEnd(24)} V_rand ${row.vRandBest.toFixed(4)} (at ${row.bestThreshold.toFixed(1)}), V_info ${row.vInfoBest.toFixed(4)}; ` +
        `mask ${((100 * same) / total).toFixed(3)}% identical to the float WASM run`,
    );
  }
}

interface PageFigures {
  label: string;
  /** The model the page ran: precision and file (emsegDemo.model()). */
  model: { precision: string; file: string };
  sessionMs: number;
  warmupMs: number;
  firstMs: number;
  warmMs: number[];
  /** CPU milliseconds of Chromium's processes per warm run (NaN where /proc is missing). */
  warmCpuMs: number;
  /** CPU milliseconds of Chromium's processes in the first run. */
  firstCpuMs: number;
  toFirstMaskMs: number;
  /** The page opened again in the same browser (HTTP and compiled-code caches warm): session creation without warm-up, first run. */
  revisit: { sessionMs: number; firstMs: number };
}

/** Clock ticks per second of /proc/<pid>/stat (USER_HZ, 100 on Linux). */
const USER_HZ = 100;

/** CPU milliseconds (user + system) used so far by the live descendants of this process (Chromium's processes); NaN without /proc. */
function descendantsCpuMs(): number {
  if (!existsSync('/proc/self/stat')) return Number.NaN;
  const stats = new Map<number, { ppid: number; ticks: number }>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const text = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // Fields after the command name (which may hold spaces, in parentheses): state ppid ... utime(14) stime(15).
      const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
      stats.set(Number(entry), { ppid: Number(fields[1]), ticks: Number(fields[11]) + Number(fields[12]) });
    } catch {
      // The process ended while we read.
    }
  }
  let ticks = 0;
  for (const [pid, { ticks: own }] of stats) {
    let parent = stats.get(pid)?.ppid;
    while (parent !== undefined && parent !== process.pid && parent > 1) parent = stats.get(parent)?.ppid;
    if (parent === process.pid) ticks += own;
  }
  return (ticks * 1000) / USER_HZ;
}

/** One configuration in a fresh browser: open, first run, warm runs. */
async function measurePage(url: string, runs: number): Promise<PageFigures & { chromium: string }> {
  const { actAndWait, launchChromium, waitForState } = await import('./shared/demo-browser.ts');
  const browser = await launchChromium();
  try {
    const page = await browser.newPage();
    const opened = performance.now();
    await page.goto(url);
    const state = await waitForState(page, ['ready', 'error'], 300_000);
    if (state !== 'ready') throw new Error(`${url}: the page says ${await page.textContent('#error')} ${await page.textContent('#provider-notes')}`);
    const cpuFirst = descendantsCpuMs();
    const done = await actAndWait(page, () => page.click(`button[data-sample="${SAMPLE}"]`), ['done', 'error'], 300_000);
    if (done !== 'done') throw new Error(`${url}: ${await page.textContent('#error')}`);
    const toFirstMaskMs = performance.now() - opened;
    const firstCpuMs = descendantsCpuMs() - cpuFirst;
    const provider = (await page.evaluate(() => window.emsegDemo!.provider()))!;
    const running = (await page.evaluate(() => window.emsegDemo!.model()))!;
    const asked = new URL(url).searchParams.get('precision');
    if (asked && asked !== 'auto' && running.precision !== asked) {
      throw new Error(`${url}: the page runs the ${running.precision} model (${running.file}), not ${asked}: build with an int8 variant (--int8 <file.onnx>, or <model>.int8.onnx beside the model)`);
    }
    const first = await page.evaluate(() => window.emsegDemo!.timings());
    const warmMs: number[] = [];
    const cpuBefore = descendantsCpuMs();
    for (let run = 0; run < runs; run += 1) {
      await actAndWait(page, () => page.click('#run-button'), ['done', 'error'], 300_000);
      warmMs.push((await page.evaluate(() => window.emsegDemo!.timings()))['Inference']!);
    }
    const warmCpuMs = (descendantsCpuMs() - cpuBefore) / runs;
    await page.reload();
    if ((await waitForState(page, ['ready', 'error'], 300_000)) !== 'ready') throw new Error(`${url}: the page opened again says ${await page.textContent('#error')}`);
    await actAndWait(page, () => page.click(`button[data-sample="${SAMPLE}"]`), ['done', 'error'], 300_000);
    const again = await page.evaluate(() => ({ timings: window.emsegDemo!.timings(), warmupMs: window.emsegDemo!.provider()!.warmupMs }));
    const revisit = { sessionMs: again.timings['Session creation']! - again.warmupMs, firstMs: again.timings['Inference']! };
    return {
      chromium: browser.version(),
      label: provider.label,
      model: { precision: running.precision, file: running.file },
      sessionMs: first['Session creation']! - provider.warmupMs,
      warmupMs: provider.warmupMs,
      firstMs: first['Inference']!,
      warmMs,
      warmCpuMs,
      firstCpuMs,
      toFirstMaskMs,
      revisit,
    };
  } finally {
    await browser.close();
  }
}

const BARE_PAGE = 'bare-ort.html';

/**
 * Writes the bare page: onnxruntime-web alone in a page of its own in the demo's folder (the plain
 * WASM build, WASM in ort's proxy worker, the demo's default session options; threads, model file
 * and number of runs from its URL), run on a 512x512 input. What the WASM kernels take in this
 * Chromium without anything of the demo around them.
 */
function writeBarePage(outDir: string): void {
  copyFileSync(join('node_modules/onnxruntime-web/dist', 'ort.wasm.min.mjs'), join(outDir, 'ort', 'ort.wasm.min.mjs'));
  const options = JSON.stringify(ortSessionOptions('wasm', DEFAULT_SESSION_OPTIONS));
  const html = `<!doctype html><meta charset="utf-8"><title>bare onnxruntime-web</title><script type="module">
const query = new URLSearchParams(location.search);
const ort = await import('./ort/ort.wasm.min.mjs');
ort.env.wasm.numThreads = Number(query.get('threads'));
ort.env.wasm.proxy = true;
ort.env.wasm.wasmPaths = { mjs: new URL('ort/${ORT_PLAIN_FILES.mjs}', location.href).href, wasm: new URL('ort/${ORT_PLAIN_FILES.wasm}', location.href).href };
const bytes = new Uint8Array(await (await fetch(query.get('model'))).arrayBuffer());
const session = await ort.InferenceSession.create(bytes, ${options});
const input = Float32Array.from({ length: 512 * 512 }, (_, i) => Math.sin(i / 9) + Math.cos(i / 517));
const times = [];
for (let run = 0; run < Number(query.get('runs')); run += 1) {
  const started = performance.now();
  const outputs = await session.run({ ${JSON.stringify(INPUT_NAME)}: new ort.Tensor('float32', input.slice(), [1, 1, 512, 512]) });
  await outputs[${JSON.stringify(OUTPUT_NAME)}].getData();
  times.push(performance.now() - started);
}
window.bareTimes = times;
document.title = 'done';
</script>`;
  writeFileSync(join(outDir, BARE_PAGE), html);
}

/** One bare page in a fresh Chromium: ms of each run. */
async function measureBarePage(url: string): Promise<number[]> {
  const { launchChromium } = await import('./shared/demo-browser.ts');
  const browser = await launchChromium();
  try {
    const page = await browser.newPage();
    await page.goto(url);
    await page.waitForFunction(() => document.title === 'done', null, { timeout: 600_000 });
    return await page.evaluate(() => (window as unknown as { bareTimes: number[] }).bareTimes);
  } finally {
    await browser.close();
  }
}


export function runBench(argv: readonly string[]): Promise<number> {
  return runWithArgs(BENCH, argv, bench);
}

async function bench(args: WebBenchArgs): Promise<number> {
  const bareRuns = args['bare-runs'];
  if (bareRuns > 0 && bareRuns < MIN_BARE_RUNS) throw new BenchArgumentError(`--bare-runs: expected 0 (not measured) or at least ${MIN_BARE_RUNS}, found ${bareRuns}`);
  if (!existsSync(args.model)) throw new BenchArgumentError(`--model ${args.model}: no such file`);
  const options = { ...args, bareRuns };
  // Loaded here, not at the top: `--help` stays quick.
  const { buildWebDemo } = await import('../web-demo/build.ts');
  const { serveStatic } = await import('./shared/demo-browser.ts');
  const say = (line: string) => process.stdout.write(`${line}\n`);
  say(`bench:web on ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown CPU'}), ${options.rounds} rounds, ${options.runs} warm runs per page, WASM ${options.threads} threads`);
  say(`load average before: ${loadAverage()}`);
  const folder = mkdtempSync(join(tmpdir(), 'emseg-bench-web-'));
  const server = { close: async () => undefined } as { url?: string; close: () => Promise<void> };
  try {
    const build = await buildWebDemo({ outDir: join(folder, 'dist'), model: options.model, int8: options.int8 });
    Object.assign(server, await serveStatic(build.outDir));
    const shipped = build.manifest.model!;
    say(`model ${options.model} (${shipped.card.name}@${shipped.card.version}), sample ${SAMPLE} (512x512, one tile), onnxruntime-web ${build.manifest.ort.version}`);
    say(
      shipped.int8
        ? `int8 variant ${shipped.int8.file} (${shipped.int8.card.name}@${shipped.int8.card.version}): \`new\` runs it, \`new/fp32\` and \`old\` the float model`
        : 'no int8 variant in the build: every configuration runs the float model',
    );
    const wantInt8 = options.configs.filter((name) => new URLSearchParams(WEB_BENCH_CONFIGS[name]).get('precision') === 'int8');
    if (!shipped.int8 && wantInt8.length > 0) {
      throw new Error(`--configs ${wantInt8.join(',')}: the build has no int8 variant (--int8 <file.onnx>, or <model>.int8.onnx beside the model)`);
    }
    const results = new Map<string, PageFigures[]>(options.configs.map((name) => [name, []]));
    let chromium = '';
    for (let round = 0; round < options.rounds; round += 1) {
      for (let k = 0; k < options.configs.length; k += 1) {
        const name = options.configs[(k + round) % options.configs.length]!;
        const extra = WEB_BENCH_CONFIGS[name]!;
        const query = new URLSearchParams(`provider=wasm&threads=${options.threads}`);
        for (const [key, value] of new URLSearchParams(extra)) query.set(key, value);
        const figures = await measurePage(`${server.url}?${query}`, options.runs);
        chromium = figures.chromium;
        results.get(name)!.push(figures);
        say(
          `round ${round + 1} ${name.padEnd(18)} first ${Math.round(figures.firstMs)} ms, warm ${figures.warmMs.map((v) => Math.round(v)).join('/')} ms, ` +
            `CPU ${Math.round(figures.firstCpuMs)} ms first, ${Math.round(figures.warmCpuMs)} ms per warm run; ` +
            `again: session ${Math.round(figures.revisit.sessionMs)} ms, first ${Math.round(figures.revisit.firstMs)} ms  (${figures.model.precision}, ${figures.label}; load ${loadAverage()})`,
        );
      }
    }
    say('');
    say(`Chromium ${chromium} headless, medians over ${options.rounds} rounds (ms; warm = median of each page's ${options.runs} warm runs):`);
    say('session: creation without warm-up; first, warm: the Inference timing; CPU: of all Chromium processes per run; to mask: from opening the page to the first mask');
    say('again: the page opened again in the same browser (caches warm)');
    const head = ['session', 'warm-up', 'first', 'warm', 'CPU 1st', 'CPU warm', 'to mask', 'again: session', 'first', 'warm/old', 'first/old', 'CPU warm/old', 'threads', 'model'];
    say(`${'configuration'.padEnd(18)} ${head.map((h) => h.padStart(Math.max(7, h.length))).join(' ')}`);
    const summary = (name: string) => {
      const list = results.get(name)!;
      return {
        session: median(list.map((f) => f.sessionMs)),
        warmup: median(list.map((f) => f.warmupMs)),
        first: median(list.map((f) => f.firstMs)),
        warm: median(list.map((f) => median(f.warmMs))),
        cpu: median(list.map((f) => f.warmCpuMs)),
        firstCpu: median(list.map((f) => f.firstCpuMs)),
        againSession: median(list.map((f) => f.revisit.sessionMs)),
        againFirst: median(list.map((f) => f.revisit.firstMs)),
        toMask: median(list.map((f) => f.toFirstMaskMs)),
        label: list[0]!.label,
        precision: list[0]!.model.precision,
      };
    };
    const old = options.configs.includes('old') ? summary('old') : undefined;
    for (const name of options.configs) {
      const s = summary(name);
      const ratio = (a: number, b: number | undefined) => (b ? (a / b).toFixed(2) : '-').padStart(8);
      const threads = /(\d+) threads/.exec(s.label)?.[1] ?? (s.label.includes('single thread') ? '1' : '?');
      const cells = [s.session, s.warmup, s.first, s.warm, s.firstCpu, s.cpu, s.toMask, s.againSession, s.againFirst].map((v) => String(Math.round(v)));
      cells.push(ratio(s.warm, old?.warm), ratio(s.first, old?.first), ratio(s.cpu, old?.cpu), threads, s.precision);
      say(`${name.padEnd(18)} ${cells.map((cell, i) => cell.trim().padStart(Math.max(7, head[i]!.length))).join(' ')}`);
    }
    if (options.configs.includes('new') && options.configs.includes('new/fp32')) {
      const [int8, float] = [summary('new'), summary('new/fp32')];
      if (int8.precision !== float.precision) {
        say(`new (${int8.precision}) / new/fp32 (${float.precision}): warm ${(int8.warm / float.warm).toFixed(2)}, first ${(int8.first / float.first).toFixed(2)}, CPU warm ${(int8.cpu / float.cpu).toFixed(2)}, session ${(int8.session / float.session).toFixed(2)}`);
      }
    }
    if (options.bareRuns > 0) {
      writeBarePage(build.outDir);
      const modelFile = shipped.int8 ? shipped.int8.file : shipped.file;
      say('');
      say(`the bare page (onnxruntime-web alone: ${BARE_PAGE}, ${modelFile}, the demo's default session options, WASM ${options.threads} threads in the proxy worker), ${options.bareRuns} runs in a fresh Chromium per round:`);
      const late: number[] = [];
      const early: number[] = [];
      for (let round = 0; round < options.rounds; round += 1) {
        const times = await measureBarePage(`${server.url}${BARE_PAGE}?threads=${options.threads}&runs=${options.bareRuns}&model=${encodeURIComponent(modelFile)}`);
        const half = times.slice(times.length >> 1);
        early.push(median(times.slice(2, 7)));
        late.push(median(half));
        say(`round ${round + 1} bare page: ${times.map((v) => Math.round(v)).join('/')} ms; runs 3-7 median ${Math.round(early.at(-1)!)}, last ${half.length} median ${Math.round(late.at(-1)!)} (load ${loadAverage()})`);
      }
      say(`bare page, medians over ${options.rounds} rounds: runs 3-7 (as the page's warm runs) ${Math.round(median(early))} ms, the last half of the runs ${Math.round(median(late))} ms`);
    }
    await kernelComparison(options.model, `float model (${options.model})`, options.rounds, say);
    if (shipped.int8) {
      const int8Path = join(build.outDir, shipped.int8.file);
      await kernelComparison(int8Path, `int8 model (${shipped.int8.file} of the build)`, options.rounds, say);
      await wasmAccuracy(options.model, int8Path, shipped.int8.card, say);
    }
    say(`load average after: ${loadAverage()}`);
    return 0;
  } finally {
    await server.close();
    rmSync(folder, { recursive: true, force: true });
  }
}
