/**
 * The web demo page: loads demo.json (model, card, bundled slices), downloads the model with
 * progress, creates an onnxruntime-web session (WebGPU, else WASM), and segments the slice the
 * user picks with core/inference.ts, the code the server runs, and labels its cells with core/cells
 * (web-demo/src/cells-view.ts). Re-thresholding and opacity only redraw; they never re-run the
 * model or the labelling. Nothing the user opens leaves the browser.
 *
 * `document.body.dataset.state` tells where the page is ('loading', 'ready', 'running', 'done',
 * 'error', 'no-model'); the browser tests wait on it. `window.emsegDemo` is the test hook (see
 * web-demo/README.md, "Test hook").
 */
import { colourCells } from '../../core/cells/cell-colours.ts';
import type { ModelCard } from '../../core/contract.ts';
import { trainingPixelSizeOf } from '../../core/card-options.ts';
import { isEmsegError } from '../../core/errors.ts';
import type { GreyImage, ImageStack } from '../../core/image.ts';
import type { DemoManifest, ShippedModel } from '../build.ts';
import { decodeImageFile } from './decode-image.ts';
import { downloadWithProgress } from './model-download.ts';
import { encodeGreyPng } from './png-grey.ts';
import { clearCanvas, drawGrey, drawHeatMap, drawLegend, drawOverlay, drawPicture } from './render.ts';
import { sliceCells, type SliceCells } from './cells-view.ts';
import { chooseModel, describeModel, PRECISION_NAMES } from './model-choice.ts';
import { parsePageOptions, withPrecision, withProvider, type PageOptions, type Precision } from './page-options.ts';
import { configureRuntime, createSession, planProvider, sessionPredictor, type ChosenSession, type PredictorStats } from './runtime.ts';
import { applyThreshold, runSegmentation, type SliceResult } from './segment.ts';
import { installTestHook } from './test-hook.ts';

type PageState = 'loading' | 'ready' | 'running' | 'done' | 'error' | 'no-model';

interface LoadedModel {
  bytes: Uint8Array;
  /** The file that runs (the float model or its int8 variant) and its card. */
  file: ShippedModel;
  card: ModelCard;
  precision: Precision;
  chosen: ChosenSession;
}

interface OpenImage {
  name: string;
  stack: ImageStack;
  page: number;
  /** Results per page index, kept so that moving the slice slider back is instant. */
  results: Map<number, SliceResult>;
}

const $ = <T extends HTMLElement>(id: string): T => {
  const element = document.getElementById(id);
  if (!element) throw new Error(`web demo: #${id} is missing from index.html`);
  return element as T;
};

/** Slices whose results are kept for instant return with the slider (about 1.3 MB each at 512x512). */
const MAX_CACHED_RESULTS = 16;

/** Elements of index.html, looked up once the page starts. */
let ui: ReturnType<typeof findElements>;

function findElements() {
  return {
    modelName: $<HTMLParagraphElement>('model-name'),
    modelProgress: $<HTMLProgressElement>('model-progress'),
    modelProgressText: $<HTMLSpanElement>('model-progress-text'),
    modelFile: $<HTMLElement>('model-file'),
    precisionSwitch: $<HTMLButtonElement>('precision-switch'),
    provider: $<HTMLElement>('provider'),
    providerNotes: $<HTMLParagraphElement>('provider-notes'),
    providerSwitch: $<HTMLButtonElement>('provider-switch'),
    fileInput: $<HTMLInputElement>('file-input'),
    samples: $<HTMLSpanElement>('samples'),
    pageRow: $<HTMLDivElement>('page-row'),
    pageSlider: $<HTMLInputElement>('page-slider'),
    pageValue: $<HTMLOutputElement>('page-value'),
    pageCount: $<HTMLSpanElement>('page-count'),
    imageInfo: $<HTMLParagraphElement>('image-info'),
    runButton: $<HTMLButtonElement>('run-button'),
    tta: $<HTMLInputElement>('tta-checkbox'),
    invert: $<HTMLInputElement>('invert-checkbox'),
    pixelSizeInfo: $<HTMLParagraphElement>('pixel-size-info'),
    contrastWarning: $<HTMLParagraphElement>('contrast-warning'),
    pixelSize: $<HTMLInputElement>('pixel-size-input'),
    pixelSizeLabel: $<HTMLLabelElement>('pixel-size-label'),
    runProgressRow: $<HTMLDivElement>('run-progress-row'),
    runProgress: $<HTMLProgressElement>('run-progress'),
    runProgressText: $<HTMLSpanElement>('run-progress-text'),
    error: $<HTMLParagraphElement>('error'),
    threshold: $<HTMLInputElement>('threshold-slider'),
    thresholdValue: $<HTMLOutputElement>('threshold-value'),
    opacity: $<HTMLInputElement>('opacity-slider'),
    opacityValue: $<HTMLOutputElement>('opacity-value'),
    download: $<HTMLButtonElement>('download-button'),
    inputCanvas: $<HTMLCanvasElement>('input-canvas'),
    probabilityCanvas: $<HTMLCanvasElement>('probability-canvas'),
    overlayCanvas: $<HTMLCanvasElement>('overlay-canvas'),
    cellsCanvas: $<HTMLCanvasElement>('cells-canvas'),
    cellCount: $<HTMLSpanElement>('cell-count'),
    downloadCells: $<HTMLButtonElement>('cells-download-button'),
    legendCanvas: $<HTMLCanvasElement>('legend-canvas'),
    timings: $<HTMLTableElement>('timings'),

  };
}

/** The steps timed, in display order. */
const STEPS = [
  'Model download',
  'Session creation',
  'Decoding the image',
  'Preprocessing, tiling and blending (core)',
  'Inference',
  'Postprocessing (threshold, drawing)',
] as const;
type Step = (typeof STEPS)[number];
/** Step -> milliseconds and a detail shown beside the name (e.g. tiles and calls). */
const timings = new Map<Step, { ms: number; detail: string }>();
let model: LoadedModel | undefined;
/** Where the model is: still loading, loaded, not in this build, or failed (message in the model panel). */
let modelStatus: 'loading' | 'ready' | 'none' | 'failed' = 'loading';
let image: OpenImage | undefined;
let running = false;

function setState(state: PageState): void {
  document.body.dataset.state = state;
}

function showTiming(step: Step, ms: number, detail = ''): void {
  timings.set(step, { ms, detail });
  const body = ui.timings.tBodies[0]!;
  body.replaceChildren(
    ...STEPS.filter((name) => timings.has(name)).map((name) => {
      const { ms: value, detail: note } = timings.get(name)!;
      const row = document.createElement('tr');
      const th = document.createElement('th');
      th.scope = 'row';
      th.textContent = note ? `${name} (${note})` : name;
      const td = document.createElement('td');
      td.textContent = `${value < 10 ? value.toFixed(1) : Math.round(value).toLocaleString('en')} ms`;
      row.append(th, td);
      return row;
    }),
  );
}

function showError(error: unknown): void {
  const text = isEmsegError(error) ? error.message : `Unexpected problem: ${(error as Error)?.message ?? String(error)}`;
  ui.error.textContent = text;
  ui.error.hidden = false;
  if (!isEmsegError(error)) console.error(error);
}

function clearError(): void {
  ui.error.hidden = true;
  ui.error.textContent = '';
}

function mebibytes(bytes: number): string {
  return bytes < 2 ** 20 ? `${(bytes / 1024).toFixed(0)} KiB` : `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}

function updateRunButton(): void {
  ui.runButton.disabled = running || !model || !image;
}

// --- model ---------------------------------------------------------------------------------

const PROVIDER_NAMES = { wasm: 'WASM', webgpu: 'WebGPU' } as const;

async function loadModel(manifest: DemoManifest, options: PageOptions): Promise<void> {
  if (!manifest.model) {
    ui.modelName.textContent = 'This build of the demo has no model. Build it with `npm run build:web -- --model <file.onnx>`.';
    ui.modelFile.textContent = 'none';
    ui.provider.textContent = 'none';
    ui.modelProgress.closest<HTMLElement>('.progress-row')!.hidden = true;
    modelStatus = 'none';
    setState('no-model');
    return;
  }
  configureRuntime(options);
  // The provider first: which file to download depends on it (model-choice.ts: the int8 variant
  // on WASM when the build has one, the float model on WebGPU). The card is that file's own.
  const plan = await planProvider(options.provider);
  const picked = chooseModel(manifest.model, plan.choice.provider, options.precision);
  const entry = picked.model;
  const card = entry.card;
  ui.modelFile.textContent = describeModel(picked, mebibytes);
  ui.modelFile.dataset.precision = picked.precision;
  // The other model, one click away: the page reloads with ?precision=<other>, like the provider switch.
  const otherPrecision = picked.alternative;
  ui.precisionSwitch.hidden = otherPrecision === undefined;
  if (otherPrecision) {
    ui.precisionSwitch.textContent = `Use the ${PRECISION_NAMES[otherPrecision]} model`;
    ui.precisionSwitch.dataset.precision = otherPrecision;
    ui.precisionSwitch.onclick = () => location.assign(withPrecision(location.href, otherPrecision));
  }
  ui.modelName.textContent = `${card.name} ${card.version}: U-Net depth ${card.architecture.depth}, ${card.architecture.parameters.toLocaleString('en')} parameters, threshold ${card.threshold}`;
  ui.threshold.value = String(card.threshold);
  ui.thresholdValue.value = card.threshold.toFixed(2);
  ui.tta.checked = card.tta ?? false;
  // Rescaling needs the card's training pixel size; without it the field is hidden.
  const trainingPixelSize = trainingPixelSizeOf(card);
  ui.pixelSizeLabel.hidden = trainingPixelSize === undefined;
  if (trainingPixelSize !== undefined) ui.pixelSize.title += ` (the model was trained at ${trainingPixelSize} nm)`;

  let started = performance.now();
  const bytes = await downloadWithProgress(entry.file, {
    expectedBytes: entry.bytes,
    onProgress: ({ loaded, total }) => {
      if (total) {
        ui.modelProgress.max = total;
        ui.modelProgress.value = Math.min(loaded, total);
        ui.modelProgressText.textContent = `${mebibytes(loaded)} of ${mebibytes(total)}`;
      } else {
        ui.modelProgress.removeAttribute('value');
        ui.modelProgressText.textContent = mebibytes(loaded);
      }
    },
  });
  showTiming('Model download', performance.now() - started);
  ui.modelProgressText.textContent = `${mebibytes(bytes.byteLength)}, done; starting the runtime…`;

  started = performance.now();
  // The warm-up input: the model's tile (the size of a slice's first session call), a multiple of
  // its size multiple. None when an image opened during the download already waits for the model:
  // its own run is the first run then, and a warm-up would only delay it.
  const multiple = card.contract.input.sizeMultiple;
  const warmupSize = image ? 0 : Math.ceil((options.warmupSize ?? card.tile) / multiple) * multiple;
  const chosen = await createSession(bytes, options.provider, warmupSize, plan);
  const warmup = chosen.warmupMs > 0 ? `incl. warm-up run ${warmupSize}×${warmupSize}: ${Math.round(chosen.warmupMs)} ms` : '';
  showTiming('Session creation', performance.now() - started, warmup);
  ui.modelProgressText.textContent = `${mebibytes(bytes.byteLength)}, ready`;
  ui.provider.textContent = chosen.label;
  ui.provider.dataset.provider = chosen.provider;
  const runtime = configureRuntime();
  const notes = [...chosen.failures, ...(picked.note ? [picked.note] : [])];
  if (chosen.provider === 'wasm' && !runtime.crossOriginIsolated) {
    notes.push('WASM runs single-threaded: serve the page with COOP/COEP headers for threads (see the README).');
  }
  ui.providerNotes.textContent = notes.join(' · ');
  ui.providerNotes.hidden = notes.length === 0;
  // The other provider, one click away: the page reloads with ?provider=<other> (ort's proxy
  // worker, chosen at the first session, cannot host WebGPU, so a new page is the clean switch).
  const other = chosen.alternative;
  ui.providerSwitch.hidden = other === undefined;
  if (other) {
    ui.providerSwitch.textContent = `Use ${PROVIDER_NAMES[other]} instead`;
    ui.providerSwitch.dataset.provider = other;
    ui.providerSwitch.onclick = () => location.assign(withProvider(location.href, other));
  }
  model = { bytes, file: entry, card, precision: picked.precision, chosen };
  modelStatus = 'ready';
  updateRunButton();
}

// --- image ---------------------------------------------------------------------------------

function currentPage(): GreyImage | undefined {
  return image?.stack.pages[image.page];
}

function showPage(): void {
  const page = currentPage();
  if (!image || !page) return;
  drawGrey(ui.inputCanvas, page);
  ui.pageValue.value = String(image.page + 1);
  ui.pageSlider.setAttribute('aria-valuetext', `${image.page + 1} of ${image.stack.pages.length}`);
  const result = image.results.get(image.page);
  if (result) {
    drawResult(result);
  } else {
    clearCanvas(ui.probabilityCanvas, page.width, page.height);
    clearCanvas(ui.overlayCanvas, page.width, page.height);
    clearCanvas(ui.cellsCanvas, page.width, page.height);
    ui.cellCount.textContent = '';
    ui.download.disabled = true;
    ui.downloadCells.disabled = true;
  }
}

/** After a file that cannot be read: no stale picture of the previous file stays on screen. */
function forgetImage(): void {
  image = undefined;
  ui.pageRow.hidden = true;
  ui.imageInfo.textContent = '';
  ui.runProgressRow.hidden = true;
  ui.download.disabled = true;
  ui.downloadCells.disabled = true;
  ui.cellCount.textContent = '';
  for (const canvas of [ui.inputCanvas, ui.probabilityCanvas, ui.overlayCanvas, ui.cellsCanvas]) clearCanvas(canvas, 1, 1);
  updateRunButton();
}

async function openImage(bytes: Uint8Array, name: string): Promise<void> {
  clearError();
  const started = performance.now();
  let stack: ImageStack;
  try {
    stack = await decodeImageFile(bytes, name);
  } catch (error) {
    forgetImage();
    showError(error);
    setState('error');
    return;
  }
  showTiming('Decoding the image', performance.now() - started);
  image = { name, stack, page: 0, results: new Map() };
  const pages = stack.pages.length;
  ui.pageRow.hidden = pages < 2;
  ui.pageSlider.max = String(pages - 1);
  ui.pageSlider.value = '0';
  ui.pageCount.textContent = String(pages);
  const depth = stack.pages[0]!.data instanceof Uint8Array ? '8-bit' : stack.pages[0]!.data instanceof Uint16Array ? '16-bit' : 'float';
  ui.imageInfo.textContent = `${name}: ${stack.width}×${stack.height}, ${depth}, ${pages} page${pages > 1 ? 's' : ''}`;
  showPage();
  updateRunButton();
  if (running) return; // the run in progress segments this image when it ends
  const states = { loading: 'loading', ready: 'ready', none: 'no-model', failed: 'error' } as const;
  setState(states[modelStatus]);
  if (model) await segmentCurrentPage();
}

// --- segmentation --------------------------------------------------------------------------

async function segmentCurrentPage(): Promise<void> {
  const page = currentPage();
  if (!model || !image || !page || running) return;
  const target = image;
  const pageIndex = image.page;
  running = true;
  updateRunButton();
  clearError();
  setState('running');
  ui.runProgressRow.hidden = false;
  ui.runProgress.value = 0;
  ui.runProgressText.textContent = 'preparing tiles…';
  const stats: PredictorStats = { calls: 0, tiles: 0, inferenceMs: 0 };
  try {
    const predictor = sessionPredictor(model.chosen.session, stats);
    const started = performance.now();
    const result = await runSegmentation(page, predictor, model.card, {
      threshold: Number(ui.threshold.value),
      tta: ui.tta.checked,
      ...(ui.pixelSize.value.trim() !== '' && !ui.pixelSizeLabel.hidden ? { pixelSize: Number(ui.pixelSize.value) } : {}),
      ...(target.stack.pixelSize ? { statedPixelSize: target.stack.pixelSize } : {}),
      invert: ui.invert.checked,
      name: target.name,
      onProgress: (done, total) => {
        ui.runProgress.max = total;
        ui.runProgress.value = done;
        ui.runProgressText.textContent = `${done} of ${total} tiles`;
      },
    });
    const total = performance.now() - started;
    ui.pixelSizeInfo.textContent = result.pixelSizeLine;
    ui.contrastWarning.textContent = result.warning ?? '';
    ui.contrastWarning.hidden = result.warning === undefined;
    showTiming('Preprocessing, tiling and blending (core)', Math.max(0, total - stats.inferenceMs));
    showTiming('Inference', stats.inferenceMs, `${stats.tiles} tile${stats.tiles === 1 ? '' : 's'}, ${stats.calls} call${stats.calls === 1 ? '' : 's'}`);
    target.results.set(pageIndex, result);
    // Keep the most recent results only: a long stack would otherwise hold every probability map.
    while (target.results.size > MAX_CACHED_RESULTS) target.results.delete(target.results.keys().next().value!);
    if (image === target && image.page === pageIndex) {
      const post = performance.now();
      drawResult(result);
      showTiming('Postprocessing (threshold, drawing)', performance.now() - post);
    }
    ui.runProgressText.textContent = `done: ${stats.tiles} tile${stats.tiles === 1 ? '' : 's'} in ${Math.round(total)} ms`;
    setState('done');
  } catch (error) {
    showError(error);
    setState('error');
  } finally {
    running = false;
    updateRunButton();
  }
  // Another file or slice was chosen while this one ran: segment what is shown now.
  if (image && (image !== target || image.page !== pageIndex) && !image.results.has(image.page)) await segmentCurrentPage();
}

/** Thresholds at the slider's value (core/threshold.ts) and draws heat map and overlay. */
function drawResult(result: SliceResult): void {
  const page = currentPage();
  if (!page) return;
  const threshold = Number(ui.threshold.value);
  if (result.threshold !== threshold) {
    result.mask = applyThreshold(result.probability, threshold);
    result.threshold = threshold;
  }
  drawHeatMap(ui.probabilityCanvas, result.probability);
  drawOverlay(ui.overlayCanvas, page, result.mask, Number(ui.opacity.value));
  ui.download.disabled = false;
  const cells = cellsOf(result);
  if (cells) {
    drawPicture(ui.cellsCanvas, colourCells(page, cells.labels, Number(ui.opacity.value)));
    ui.cellCount.textContent = `${cells.labels.count} ${cells.labels.count === 1 ? 'cell' : 'cells'}`;
    ui.downloadCells.disabled = false;
  }
}

/** The cells of a result, labelled once (they do not depend on the threshold slider). */
const cellsCache = new WeakMap<SliceResult, SliceCells>();
function cellsOf(result: SliceResult): SliceCells | undefined {
  if (!model || !image) return undefined;
  let cells = cellsCache.get(result);
  if (!cells) {
    cells = sliceCells(result.probability, model.card, { image: image.name, slice: image.page, pixelSize: result.pixelSize });
    cellsCache.set(result, cells);
  }
  return cells;
}

function downloadMask(): void {
  const result = image?.results.get(image.page);
  if (!image || !result) return;
  offerDownload(encodeGreyPng(result.mask), 'image/png', 'mask.png');
}

function downloadCells(): void {
  const result = image?.results.get(image.page);
  const cells = result && cellsOf(result);
  if (!cells) return;
  offerDownload(new TextEncoder().encode(cells.csv), 'text/csv', 'cells.csv');
}

/** Saves bytes as `<image name>[-sliceNNN]-<ending>`. */
function offerDownload(bytes: Uint8Array, type: string, ending: string): void {
  if (!image) return;
  const base = image.name.replace(/\.[^.]+$/, '');
  const suffix = image.stack.pages.length > 1 ? `-slice${String(image.page + 1).padStart(3, '0')}` : '';
  const url = URL.createObjectURL(new Blob([bytes as Uint8Array<ArrayBuffer>], { type }));
  const link = document.createElement('a');
  link.href = url;
  link.download = `${base}${suffix}-${ending}`;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

// --- wiring --------------------------------------------------------------------------------

function wire(manifest: DemoManifest): void {
  ui.fileInput.addEventListener('change', async () => {
    const file = ui.fileInput.files?.[0];
    if (!file) return;
    await openImage(new Uint8Array(await file.arrayBuffer()), file.name);
  });
  for (const sample of manifest.samples) {
    const button = document.createElement('button');
    button.type = 'button';
    button.textContent = sample.label;
    button.dataset.sample = sample.file;
    button.addEventListener('click', async () => {
      clearError();
      try {
        const response = await fetch(sample.file);
        if (!response.ok) throw new Error(`${sample.file}: ${response.status} ${response.statusText}`);
        await openImage(new Uint8Array(await response.arrayBuffer()), sample.file.split('/').pop()!);
      } catch (error) {
        showError(error);
        setState('error');
      }
    });
    ui.samples.append(button);
  }
  ui.pageSlider.addEventListener('input', () => {
    if (!image) return;
    image.page = Number(ui.pageSlider.value);
    showPage();
  });
  ui.pageSlider.addEventListener('change', () => {
    if (image && !image.results.has(image.page)) void segmentCurrentPage();
  });
  ui.runButton.addEventListener('click', () => {
    image?.results.delete(image.page);
    void segmentCurrentPage();
  });
  ui.threshold.addEventListener('input', () => {
    ui.thresholdValue.value = Number(ui.threshold.value).toFixed(2);
    const result = image?.results.get(image.page);
    if (result) drawResult(result);
  });
  ui.opacity.addEventListener('input', () => {
    ui.opacityValue.value = Number(ui.opacity.value).toFixed(2);
    const result = image?.results.get(image.page);
    if (result) drawResult(result);
  });
  ui.download.addEventListener('click', downloadMask);
  ui.downloadCells.addEventListener('click', downloadCells);
}

async function start(): Promise<void> {
  ui = findElements();
  setState('loading');
  drawLegend(ui.legendCanvas);
  installTestHook({
    modelBytes: () => model?.bytes,
    provider: () => {
      if (!model) return undefined;
      const { provider: name, label, failures, alternative, warmupMs } = model.chosen;
      return { name, label, failures, alternative, warmupMs };
    },
    model: () => {
      if (!model) return undefined;
      const { file, card, precision } = model;
      return { file: file.file, name: card.name, version: card.version, precision, sha256: file.sha256, threshold: card.threshold, tile: card.tile, halo: card.halo };
    },
    result: () => (image ? image.results.get(image.page) : undefined),
    timings: () => Object.fromEntries([...timings].map(([step, { ms }]) => [step, ms])),
  });
  let manifest: DemoManifest;
  try {
    const response = await fetch('demo.json');
    if (!response.ok) throw new Error(`demo.json: ${response.status} ${response.statusText}`);
    manifest = (await response.json()) as DemoManifest;
  } catch (error) {
    showError(error);
    setState('error');
    return;
  }
  wire(manifest);
  try {
    await loadModel(manifest, parsePageOptions(location.search));
    if (!model) return;
    if (image && !image.results.has(image.page)) await segmentCurrentPage();
    else if (document.body.dataset.state === 'loading') setState('ready');
  } catch (error) {
    modelStatus = 'failed';
    ui.provider.textContent = 'none';
    ui.modelProgressText.textContent = 'failed';
    ui.providerNotes.textContent = `The model could not be loaded: ${(error as Error)?.message ?? String(error)}`;
    ui.providerNotes.hidden = false;
    showError(error);
    setState('error');
  }
}

// app.js also runs as onnxruntime-web's proxy worker (ort starts the worker from its own script,
// which is this bundle); there is no page to drive in that worker.
if (typeof document !== 'undefined') void start();
