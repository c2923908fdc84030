/**
 * Runs the app on @hono/node-server: listens at once (so /healthz answers while the model loads),
 * loads the model with the configured execution providers (node/load-onnx-model.ts), and shuts down
 * gracefully: on SIGTERM or SIGINT it refuses new requests with 503, lets in-flight requests finish
 * (at most `shutdownGraceMs`), closes the listener and the session, and resolves `closed`.
 */
import { serve, type ServerType } from '@hono/node-server';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApp, type EmsegApp } from './app.ts';
import type { ServedModel } from './model-state.ts';
import { stderrLog, type ServerLog } from './server-log.ts';
import type { ServeConfig } from './config.ts';
import { HTTP_TIMEOUTS, hardenHttpServer, type HttpTimeouts } from './http-hardening.ts';
import { EmsegError } from '../core/errors.ts';
import { inferencePlan, type InferencePlan } from '../node/inference-plan.ts';
import { memoryReturnNotes, sessionMemoryOptions } from './memory-return.ts';

/** A loaded model the server can close when it stops (node/load-onnx-model.ts's loadOnnxModel result). */
export interface ClosableModel extends ServedModel {
  close?: () => Promise<void> | void;
}

/** `onCrash` is for a model that can die after loading (a worker thread): the server then stops. */
export type ModelLoader = (config: ServeConfig, log: ServerLog, onCrash: (error: Error) => void) => Promise<ClosableModel>;

/**
 * The default loader: node/load-onnx-model.ts with the providers of EMSEG_EP / --ep, in worker threads
 * (node/worker-model.ts: onnxruntime-node's session.run would otherwise block the event loop).
 * The first worker finds the provider (with the logged fallback); when the plan for that provider
 * differs from one default worker, the pool is started with the plan, on that provider only.
 */
export const loadConfiguredModel: ModelLoader = async (config, log, onCrash) => {
  const { loadOnnxModelInWorker, loadOnnxModelPool } = await import('../node/worker-model.ts');
  const { parseProviders } = await import('../node/onnx-providers.ts');
  const warn = (message: string) => log.warn(message);
  const requested = parseProviders(config.providers);
  const memory = sessionMemoryOptions(config.memoryArena);
  for (const note of memoryReturnNotes(config)) log.info(note);
  const startPool = async (provider: string, plan: InferencePlan): Promise<ClosableModel> => {
    const pool = await loadOnnxModelPool(config.model, {
      workers: plan.workers,
      wideThreads: plan.wideThreads,
      providers: provider,
      log: warn,
      onCrash,
      sessionOptions: { ...memory, ...(plan.intraOpThreads > 0 ? { intraOpNumThreads: plan.intraOpThreads } : {}) },
      idleReleaseMs: config.idleReleaseMs,
    });
    const wide = plan.wideThreads > 0 ? `, and a ${plan.wideThreads}-thread session for a request alone in the server` : '';
    log.info(`inference: ${plan.workers} worker(s) on ${provider}, ${plan.intraOpThreads || 'default'} intra-op thread(s) each${wide}`);
    return Object.assign(pool, { concurrentRuns: pool.workers }); // not a spread: `runs` is a getter
  };
  if (requested.length === 1) return startPool(requested[0]!, inferencePlan(requested[0]!, config));
  // The list as configured (`auto` stays `auto`: its CUDA fallback is quiet).
  const first = await loadOnnxModelInWorker(config.model, { providers: config.providers, log: warn, onCrash, sessionOptions: memory, idleReleaseMs: config.idleReleaseMs });
  const plan = inferencePlan(first.provider, config);
  if (plan.workers === 1 && plan.intraOpThreads === 0 && plan.wideThreads === 0) {
    log.info(`inference: 1 worker on ${first.provider}, default intra-op threads`);
    return first;
  }
  await first.close();
  return startPool(first.provider, plan);
};

export interface StartOptions {
  log?: ServerLog;
  /** How the model is loaded. Default loadConfiguredModel. */
  loadModel?: ModelLoader;
  /** Shut down on SIGTERM and SIGINT. Default false (the CLI turns it on). */
  handleSignals?: boolean;
  /** Collect prom-client's default process metrics. Default true. */
  processMetrics?: boolean;
  /**
   * Time the model once it is loaded (a few calls of one tile of the card's size), so that admission
   * by estimated cost (serve/work-admission.ts) knows this server's speed from the first request.
   * Default false (tests with fake models); `emseg serve` turns it on.
   */
  measureModelSpeed?: boolean;
  /** The Node server's own timeouts (serve/http-hardening.ts). Default HTTP_TIMEOUTS; tests shorten them. */
  httpTimeouts?: HttpTimeouts;
}

export interface RunningServer {
  /** http://host:port of the listener (the real port when 0 was asked). */
  url: string;
  port: number;
  emseg: EmsegApp;
  /** Refuses new requests, waits for in-flight ones (bounded by shutdownGraceMs), closes everything. */
  shutdown: (reason?: string) => Promise<void>;
  /** Resolves once the server has shut down. */
  closed: Promise<void>;
  /** True when the server stopped because its model died (the CLI then exits with 1). */
  readonly crashed: boolean;
  /** Requests still in flight when the shutdown grace ran out (cut off; the CLI then exits with 1). */
  readonly dropped: number;
}

export async function startServer(config: ServeConfig, options: StartOptions = {}): Promise<RunningServer> {
  const log = options.log ?? stderrLog;
  const loadModel = options.loadModel ?? loadConfiguredModel;
  const httpTimeouts = options.httpTimeouts ?? HTTP_TIMEOUTS;
  // A model that dies after loading (its worker crashed) cannot serve again: stop, say why, and
  // let the orchestrator start a fresh server (exit code 1 from the CLI).
  let shutdownRef: ((reason?: string) => Promise<void>) | undefined;
  let crashed = false;
  const onCrash = (error: Error) => {
    if (crashed) return;
    crashed = true;
    log.error('the inference worker stopped; shutting the server down', error);
    void shutdownRef?.('inference worker failed');
  };
  const modelPromise = loadModel(config, log, onCrash);
  const emseg = createApp({
    model: modelPromise,
    maxBodyBytes: config.maxBodyBytes,
    maxBodiesBytes: config.maxBodiesBytes,
    serveSourceMaps: config.serveSourceMaps === 1,
    limits: { maxPixels: config.maxPixels, maxStackPixels: config.maxStackPixels, maxPages: config.maxPages },
    concurrency: config.concurrency,
    queueSize: config.queueSize,
    timeoutMs: config.timeoutMs,
    batchSize: config.batchSize,
    batchWaitMs: config.batchWaitMs,
    webRoot: config.webRoot,
    log,
    processMetrics: options.processMetrics ?? true,
  });

  let server: ServerType;
  try {
    server = await listen(emseg.app.fetch, config, httpTimeouts.checkIntervalMs);
  } catch (error) {
    // Nothing to serve: release the model (its worker threads) before reporting the error.
    await (await modelPromise.catch(() => undefined))?.close?.();
    throw error;
  }
  hardenHttpServer(server as Server, httpTimeouts);
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${host}:${address.port}`;
  log.info(`listening on ${url} (model ${config.model}, providers ${config.providers})`);
  emseg.ready.then(
    async (model) => {
      log.info(`ready: model ${model.card.name}@${model.card.version} on provider ${model.provider}`);
      if (!options.measureModelSpeed) return;
      const secondsPerPixel = await emseg.work.measure(model.predictor, model.card.tile);
      const tileMs = secondsPerPixel * model.card.tile * model.card.tile * 1000;
      log.info(`model speed: ${tileMs.toFixed(0)} ms per ${model.card.tile}x${model.card.tile} tile, measured for admission by cost`);
    },
    () => {},
  ).catch((error: unknown) => log.warn(`model speed not measured: ${error instanceof Error ? error.message : String(error)}`));

  let resolveClosed!: () => void;
  const closed = new Promise<void>((resolve) => (resolveClosed = resolve));
  let shuttingDown: Promise<void> | undefined;
  let dropped = 0;

  const shutdown = (reason = 'shutdown requested'): Promise<void> => {
    shuttingDown ??= (async () => {
      log.info(`${reason}: refusing new requests, ${emseg.lifecycle.inFlight} in flight`);
      emseg.lifecycle.beginShutdown();
      let timer: ReturnType<typeof setTimeout> | undefined;
      const graceOver = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), config.shutdownGraceMs)));
      const outcome = await Promise.race([emseg.lifecycle.drained().then(() => 'drained' as const), graceOver]);
      clearTimeout(timer);
      if (outcome === 'timeout') {
        dropped = emseg.lifecycle.inFlight;
        log.warn(`shutdown grace of ${config.shutdownGraceMs} ms over with ${dropped} requests in flight; they are cut off`);
      }
      await emseg.decodePool.close();
      await closeListener(server);
      const model = await modelPromise.catch(() => undefined);
      await model?.close?.();
      log.info('stopped');
      resolveClosed();
    })();
    return shuttingDown;
  };

  if (options.handleSignals) {
    const onSignal = (signal: NodeJS.Signals) => void shutdown(`${signal} received`);
    process.once('SIGTERM', onSignal);
    process.once('SIGINT', onSignal);
    void closed.then(() => {
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
    });
  }

  shutdownRef = shutdown;
  return {
    url,
    port: address.port,
    emseg,
    shutdown,
    closed,
    get crashed() {
      return crashed;
    },
    get dropped() {
      return dropped;
    },
  };
}

/**
 * Listens on config.host:config.port. A port in use, a port the process may not bind, an address
 * that is not this machine's: E_BAD_ARGUMENT in one line naming the address and what to change.
 */
function listen(fetch: EmsegApp['app']['fetch'], config: ServeConfig, checkIntervalMs: number): Promise<ServerType> {
  return new Promise((resolve, reject) => {
    const listening: ServerType = serve(
      { fetch, port: config.port, hostname: config.host, serverOptions: { connectionsCheckingInterval: checkIntervalMs } },
      () => {
      listening.off('error', onError);
      resolve(listening);
    });
    const onError = (error: NodeJS.ErrnoException) => {
      const where = `${config.host}:${config.port}`;
      const reasons: Record<string, string> = {
        EADDRINUSE: `${where} is already in use by another process; stop it or choose another port (--port, PORT)`,
        EACCES: `${where}: no permission to listen there (ports below 1024 need privileges); choose another port (--port, PORT)`,
        EADDRNOTAVAIL: `${where}: ${config.host} is not an address of this machine; choose another host (--host, HOST)`,
      };
      const message = reasons[error.code ?? ''] ?? `${where}: cannot listen (${error.message})`;
      reject(new EmsegError('E_BAD_ARGUMENT', `cannot start the server: ${message}`, { cause: error }));
    };
    listening.once('error', onError);
  });
}

/**
 * Stops listening and ends the connections: idle keep-alive connections at once and again while
 * the last responses are written (a response still being sent is not cut), every connection after
 * `hardLimitMs`.
 */
async function closeListener(server: ServerType, hardLimitMs = 2000): Promise<void> {
  const http = server as Partial<import('node:http').Server>;
  await new Promise<void>((resolve) => {
    const sweep = setInterval(() => http.closeIdleConnections?.(), 50);
    const hard = setTimeout(() => http.closeAllConnections?.(), hardLimitMs);
    server.close(() => {
      clearInterval(sweep);
      clearTimeout(hard);
      resolve();
    });
    http.closeIdleConnections?.();
  });
}
